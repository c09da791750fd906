"""The benchmarks, one module each, behind one registry.

A module here lists its benchmarks in ``BENCHMARKS`` (``base.Benchmark``: name, loader, data
folder, task sets, what decontamination indexes); this package imports every module and collects
them, so adding a benchmark is one new module (and its test): the CLI's choices, ``evaluate``,
``prompts`` and corpus decontamination all read the registry. A task's judge is its ``test``
payload: assert lines, a check function or a unittest class run after the program, or a kind the
sandbox's trusted side compares (``evaluate/checks.py``: MBPP+'s outputs, CodeContests' stdout,
DS-1000's harness), which a new benchmark reuses or adds to.

    >>> BENCHMARKS
    ('humaneval', 'mbpp', 'mbpp-sanitized', 'mbppplus', 'bigcodebench', 'ds1000', 'codecontests')
    >>> len(load_benchmark("humaneval"))
    164
"""

from __future__ import annotations

import importlib
import pkgutil

from ..errors import LintseqError
from .base import DATA_FIX, Benchmark, Task, data_dir

__all__ = ["BENCHMARKS", "DATA_FIX", "REGISTRY", "Benchmark", "Task", "data_dir", "load_benchmark"]


def _collect() -> dict[str, Benchmark]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name != "base":
            found += getattr(importlib.import_module(f"{__name__}.{info.name}"), "BENCHMARKS", ())
    return {b.name: b for b in sorted(found, key=lambda b: b.order)}


REGISTRY = _collect()
BENCHMARKS = tuple(REGISTRY)


def load_benchmark(name: str, folder: str | None = None, protocol: str = "default",
                   generated_tests: bool = False) -> dict[str, Task]:
    """Tasks of a benchmark by name, keyed by task id, in the benchmark's order.

    ``protocol`` picks a task set where the benchmark has several (MBPP+); ``generated_tests``
    adds CodeContests' generated tests to its public and private ones."""
    if name not in REGISTRY:
        raise ValueError(f"unknown benchmark {name!r}; choose one of {', '.join(BENCHMARKS)}")
    spec = REGISTRY[name]
    folder = data_dir(folder)
    if protocol not in spec.protocols:
        raise LintseqError(f"--protocol {protocol} does not apply to {name} (its task sets: {', '.join(spec.protocols)})",
                           fix="drop --protocol")
    return spec.load(folder, protocol=protocol, generated_tests=generated_tests)
