"""Expected outputs of input/output tasks (MBPP+), computed once per task and cached on disk.

EvalPlus scores a candidate by calling it on each input and comparing with what the reference
solution returns. Running the reference inside every sample's sandbox doubles each run's time
(and pushed the slowest tasks past the time-out), so the reference runs once per task, in a
sandbox, and its outputs come back as plain JSON data (``checks.encode``: tagged builtins, never
a pickle). The host stores them under ``$LINTSEQ_CACHE`` (default ``~/.cache/lintseq``) keyed by
the task's payload, the runner's source and the Python version. They never enter a sample's
sandbox (nor does the cache folder: the sandbox does not show it): each sample sends its own
outputs back as data and the trusted side compares (``checks.judge_io``).

The reference runs under a limit of its own (``REFERENCE_TIMEOUT``, generous, and tried a second
time when the first try fails: a loaded machine), never inside a sample's limit. A task whose
reference still fails is ``not_runnable`` (counted, left out of pass@k) with a reason naming the
reference; nothing is cached for it.

Each input's time is kept too: MBPP+'s default limit is evalplus 0.3.1's, per input, max(1 s, 4x
the reference's time on that input), with the whole run capped at min(60 s, their sum) + 2 s.
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

REFERENCE_TIMEOUT = 120.0
"""Seconds the reference may take on all of a task's inputs, per try (evalplus sets none)."""
MIN_INPUT_LIMIT = 1.0
"""evalplus 0.3.1's DEFAULT_MIN_TIME_LIMIT: the least time an input gets (its README says 4 s; the code, 1 s)."""
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
    times: tuple = ()
    """How long the reference's call took on each input."""

    def steps(self) -> list[float]:
        """evalplus's limit on each input: max(1 s, 4x the reference's time on it).

            >>> Expected("x", 0.0, (0.01, 0.3, 2.0)).steps()
            [1.0, 1.2, 8.0]
        """
        return [max(MIN_INPUT_LIMIT, TIME_FACTOR * t) for t in self.times]

    def timeout(self, floor: float, mode: str = "per_run") -> float:
        """The whole run's limit. ``per_run``: ``floor``, or more when the reference itself is
        slow. ``per_input``: evalplus's min(60 s, sum of the inputs' limits) + 2 s (its +1, and
        +1 for collecting details), whatever ``floor``; each input is limited by ``steps``.

            >>> Expected("x", 0.5).timeout(10.0), Expected("x", 5.0).timeout(10.0), Expected("x", 31.0).timeout(10.0)
            (10.0, 21.0, 60.0)
            >>> Expected("x", 0.0, (0.01, 0.3)).timeout(10.0, "per_input"), Expected("x", 0.0, (20.0,)).timeout(10.0, "per_input")
            (4.2, 62.0)
        """
        if mode == "per_input":
            return round(min(TIME_CAP, sum(self.steps())) + 2.0, 6)
        return max(floor, min(TIME_CAP, TIME_FACTOR * self.seconds + 1.0))


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
        return Expected(obj["payload"], float(obj["seconds"]), tuple(float(t) for t in obj["times"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def reference_outputs(sandboxes, test: dict, timeout: float | None = None) -> Expected | str:
    """The reference's outputs on ``test``, computed in a sandbox of their own under ``timeout``
    (default ``REFERENCE_TIMEOUT``), tried twice; else why not (a reason that names the reference)."""
    why, timeout = "", timeout or REFERENCE_TIMEOUT
    for attempt in (1, 2):
        out = sandboxes.run("", test, "", timeout, "expected")
        if out.status == "passed":
            return Expected(out.payload, float(out.detail or 0.0), out.times)
        why = f"{out.status}: {out.detail}" if out.detail else out.status
    return f"the reference solution failed twice, so the task's expected outputs are unknown ({why})"


def expected_outputs(sandboxes, tests: dict[str, dict], pool: Executor, cache: bool = True,
                     timeout: float = REFERENCE_TIMEOUT) -> tuple[dict[str, Expected], dict[str, str]]:
    """({task_id: Expected}, {task_id: why not}) for the io ``tests`` given ({task_id: test
    payload}), from the disk cache where present, else computed in ``sandboxes`` (a SandboxPool)
    on ``pool``'s threads, ``timeout`` seconds per try (``reference_outputs``)."""
    versions, folder = _versions(), cache_dir()
    keys = {tid: cache_key(test, versions) for tid, test in tests.items()}
    found = {tid: e for tid, key in keys.items() if cache and (e := _load(os.path.join(folder, key + ".json")))}
    todo = [tid for tid in tests if tid not in found]
    futures = {tid: pool.submit(reference_outputs, sandboxes, tests[tid], timeout) for tid in todo}
    failures = {}
    for tid, fut in futures.items():
        got = fut.result()
        if isinstance(got, str):  # nothing cached: the next run tries again
            failures[tid] = got
            continue
        found[tid] = got
        if cache:
            try:
                write_json(os.path.join(folder, keys[tid] + ".json"),
                           {"payload": got.payload, "seconds": got.seconds, "times": list(got.times)})
            except OSError:  # a read-only home: computed again next time, nothing lost
                pass
    return found, failures
