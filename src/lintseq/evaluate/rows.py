"""Checking a samples file before anything runs, and keeping the verdicts of an interrupted run.

No silent zero: a file that is empty, has a row that is not a JSON object, lacks ``task_id``,
carries no program field (``completion``, ``solution`` or ``raw``), or names a task the
benchmark does not have is refused with one line naming the first such row and what was
expected there, instead of scoring 0%.

Resume: an interrupted ``evaluate`` writes the rows that finished to
``SAMPLES_results.partial.jsonl``; the next run over the same samples reuses each verdict whose
row (same line, same task, same program) and setting (benchmark, timeout, MBPP+ time mode and
task set, CodeContests tests, DS-1000 data: ``pipeline._verdict_setting``) are unchanged, and runs
only the rest.
"""

from __future__ import annotations

import json
import os

from ..errors import LintseqError
from ..jsonl import write_jsonl

PROGRAM_FIELDS = ("completion", "solution", "raw")
ROW_FIX = ("each line a JSON object with task_id and completion (run after the benchmark's prompt), "
           "solution (a whole program) or raw + format (generated text)")


def check_rows(path: str, rows: list[tuple[int, dict | None, str | None]]) -> None:
    """Raise a LintseqError at the first unusable row (``rows``: ``read_jsonl``'s (line, object,
    error) triples; see the module docstring)."""
    if not rows:
        raise LintseqError(f"{path} has no samples (the file is empty)", fix=ROW_FIX)
    for n, row, err in rows:
        where = f"{path} line {n}"
        if err or not isinstance(row, dict):
            raise LintseqError(f"{path}: {err or f'line {n}: not a JSON object'}", fix=ROW_FIX)
        if "task_id" not in row:
            raise LintseqError(f"{where} has no task_id field (it has: {_fields(row)})", fix=ROW_FIX)
        if not any(isinstance(row.get(f), str) for f in PROGRAM_FIELDS):
            raise LintseqError(f"{where} ({row['task_id']}) has no completion, solution or raw text field "
                               f"(it has: {_fields(row)})", fix=ROW_FIX)


def check_known(path: str, rows: list[tuple[int, dict | None, str | None]], benchmark: str, known: set) -> None:
    """Raise a LintseqError at the first row (checked by ``check_rows``) naming a task ``known`` lacks."""
    for n, row, _ in rows:
        if row["task_id"] not in known:
            raise LintseqError(f"{path} line {n}: task_id {row['task_id']!r} is not a {benchmark} task",
                               fix="check --benchmark, or the task ids (e.g. HumanEval/0, Mbpp/2)")


def _fields(row: dict) -> str:
    return ", ".join(map(str, row)) or "no fields"


def partial_path(samples: str) -> str:
    return samples + "_results.partial.jsonl"


def _key(i: int, res: dict, setting) -> list:
    return [i, res.get("task_id"), res.get("program"), setting]


def load_finished(samples: str, setting) -> dict[int, dict]:
    """Row index -> finished result kept by an interrupted run (those still valid)."""
    found: dict[int, dict] = {}
    try:
        with open(partial_path(samples), encoding="utf-8") as fh:
            for line in fh:
                try:
                    obj = json.loads(line)
                    found[obj["key"][0]] = obj
                except (ValueError, KeyError, TypeError, IndexError):
                    continue
    except OSError:
        pass
    return {i: obj for i, obj in found.items() if obj.get("setting") == setting}


def reuse(finished: dict[int, dict], i: int, res: dict, setting) -> dict | None:
    """The kept verdict fields for row ``i`` when its row is unchanged, else None."""
    obj = finished.get(i)
    if obj and obj["key"] == _key(i, res, setting):
        return obj["verdict"]
    return None


def save_finished(samples: str, results: list[dict], ran: list[int], setting) -> None:
    """After an interruption: keep the verdicts of the rows that finished (``ran``)."""
    keep = ("verdict", "reason", "passed", "result")
    write_jsonl(partial_path(samples), ({"key": _key(i, results[i], setting), "setting": setting,
                                         "verdict": {k: results[i][k] for k in keep}} for i in ran))


def drop_finished(samples: str) -> None:
    if os.path.exists(partial_path(samples)):
        os.remove(partial_path(samples))
