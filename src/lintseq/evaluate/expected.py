"""Expected outputs of input/output tasks (MBPP+), computed once per task and cached on disk.

EvalPlus scores a candidate by calling it on each input and comparing with what the reference
solution returns. Running the reference inside every sample's sandbox doubles each run's time
(and pushed the slowest tasks past the time-out), so the reference runs once per task, in a
sandbox, and its outputs come back as plain JSON data (``checks.encode``: tagged builtins, never
a pickle). The host stores them under ``$LINTSEQ_CACHE`` (default ``~/.cache/lintseq``) keyed by
the task's payload, the runner's source and the Python version. They never enter a sample's
sandbox (nor does the cache folder: the sandbox does not show it): each sample sends its own
outputs back as data and the trusted side compares (``checks.judge_io``).

A task whose reference fails gets no entry: its samples' runs compute the reference outputs
first (in a sandbox of their own) and say why they fail.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from concurrent.futures import Executor
from dataclasses import dataclass

from ..jsonl import write_json
from .isolation import RUNNER

REFERENCE_TIMEOUT = 60.0
"""Seconds the reference may take on all of a task's inputs (EvalPlus caps a task at 60 s)."""
TIME_FACTOR = 4.0
"""A sample may take this many times the reference's time when that exceeds ``--timeout`` (EvalPlus's factor)..."""
TIME_CAP = 60.0
"""... up to this many seconds (EvalPlus's per-task cap)."""


@dataclass(frozen=True)
class Expected:
    payload: str
    """JSON text {outputs, alternative} of plain data (checks.encode); decoded on the trusted side only."""
    seconds: float
    """How long the reference took on all the inputs."""

    def timeout(self, floor: float) -> float:
        """The run's time limit: ``floor``, or more when the reference itself is slow, plus the
        reference's own time where the run has to compute the outputs itself (no payload).

            >>> Expected("x", 0.5).timeout(10.0), Expected("x", 5.0).timeout(10.0), Expected("x", 31.0).timeout(10.0)
            (10.0, 21.0, 60.0)
            >>> Expected("", 5.0).timeout(10.0)
            26.0
        """
        return max(floor, min(TIME_CAP, TIME_FACTOR * self.seconds + 1.0)) + (0.0 if self.payload else self.seconds)


def cache_dir() -> str:
    root = os.environ.get("LINTSEQ_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "lintseq")
    return os.path.join(root, "expected")


@dataclass(frozen=True)
class _Versions:
    runner: str
    python: str


def _versions() -> _Versions:
    digest = hashlib.sha256()
    for path in (RUNNER, os.path.join(os.path.dirname(RUNNER), "checks.py")):
        with open(path, "rb") as fh:
            digest.update(fh.read())
    return _Versions(digest.hexdigest()[:16], "%d.%d" % sys.version_info[:2])


def cache_key(test: dict, versions: _Versions | None = None) -> str:
    v = versions or _versions()
    blob = json.dumps(test, sort_keys=True, default=str) + v.runner + v.python
    return hashlib.sha256(blob.encode()).hexdigest()


def _load(path: str) -> Expected | None:
    try:
        with open(path, encoding="utf-8") as fh:
            obj = json.load(fh)
        return Expected(obj["payload"], float(obj["seconds"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def expected_outputs(sandboxes, tests: dict[str, dict], pool: Executor, cache: bool = True) -> dict[str, Expected]:
    """{task_id: Expected} for the io ``tests`` given ({task_id: test payload}), from the disk
    cache where present, else computed in ``sandboxes`` (a SandboxPool) on ``pool``'s threads."""
    versions, folder = _versions(), cache_dir()
    keys = {tid: cache_key(test, versions) for tid, test in tests.items()}
    found = {tid: e for tid, key in keys.items() if cache and (e := _load(os.path.join(folder, key + ".json")))}
    todo = [tid for tid in tests if tid not in found]
    futures = {tid: pool.submit(sandboxes.run, "", tests[tid], "", REFERENCE_TIMEOUT, "expected") for tid in todo}
    for tid, fut in futures.items():
        out = fut.result()
        if out.status != "passed":
            continue
        found[tid] = Expected(out.payload, float(out.detail or 0.0))  # payload "": too large, computed per run
        if cache:
            try:
                write_json(os.path.join(folder, keys[tid] + ".json"), {"payload": out.payload, "seconds": found[tid].seconds})
            except OSError:  # a read-only home: computed again next time, nothing lost
                pass
    return found
