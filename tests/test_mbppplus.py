"""MBPP+ scored as evalplus 0.3.1 scores it: the set oracle's float fallback, the reference's
own time limit (a slow reference never poisons its samples), and the per-input time limit."""

import json

import pytest

from helpers import write_jsonl
from lintseq.evaluate import checks


def _judge(got, exp, oracle, atol=0.0):
    return checks.judge_io(got, {"outputs": exp, "alternative": None}, {"atol": atol, "oracle": oracle})


def test_set_compared_outputs_keep_the_float_tolerance():
    """evalplus: set equality first, then (atol 1e-6 forced for floats) an ordered allclose."""
    exp = [[1.0, 2.5], [0.1, 0.2]]
    assert _judge([[1.0 + 1e-9, 2.5], [0.1, 0.2 - 1e-9]], exp, "set") is None  # off by 1e-9: passes there, so here
    assert _judge([[2.5, 1.0], [0.2, 0.1]], exp, "set") is None  # order-free when exactly equal
    assert _judge([[2.5, 1.0 + 1e-9], [0.1, 0.2]], exp, "set") is not None  # tolerance is ordered, as there
    assert _judge([[1.0 + 1e-3, 2.5], [0.1, 0.2]], exp, "set") is not None  # beyond the tolerance
    assert _judge([(1.0 + 1e-9, 2.5), [0.1, 0.2]], exp, "set") is not None  # a tuple for a list: type differs
    assert _judge([[[1], 2.5]], [[1.0, 2.5]], "set") is not None  # unhashable: fails, never crashes
    assert _judge([[1, 2]], [[1, 3]], "set") is not None  # ints get no tolerance


def _io_task(reference):
    return {"kind": "io", "entry_point": "f", "inputs": [[0], [1], [2]], "atol": 0, "reference": reference}


# sleeps only on input 1: how long is the program's choice (the argument of make)
SLOW_ON_ONE = "import time\ndef f(x):\n    if x == 1:\n        time.sleep({})\n    return x * 2"


@pytest.mark.usefixtures("sandbox")
def test_the_per_input_limit_fires_on_the_input_over_it():
    """evalplus's per-input limit, enforced by the sandbox's supervisor: each input's clock runs
    from its start to its output. 0.2 s against a 1 s limit passes; 2 s fails on input 1 (the
    reason says which limit fired); the same program passes with one budget for the run."""
    from lintseq.evaluate.sandbox import Limits, SandboxPool

    task = _io_task("def f(x):\n    return x * 2")
    with SandboxPool(1, Limits(timeout=8)) as pool:
        ref = pool.run("", task, "", 30, "expected")
        steps = [1.0, 1.0, 1.0]
        under = pool.run(SLOW_ON_ONE.format(0.2), task, ref.payload, 30, key="t", steps=steps)
        assert under.status == "passed", under.detail
        over = pool.run(SLOW_ON_ONE.format(2), task, ref.payload, 30, key="t", steps=steps)
        assert over.status == "timed_out" and over.detail.startswith("input 1:") and "1 s" in over.detail
        assert pool.run(SLOW_ON_ONE.format(2), task, ref.payload, 30, key="t").status == "passed"  # per run
        # the run's own limit still holds when every input is quick
        loop = "def f(x):\n    return x * 2\nimport time\ntime.sleep(5)"
        out = pool.run(loop, task, ref.payload, 2, key="t", steps=steps)
        assert out.status == "timed_out" and out.detail == "no result within 2 s"


def test_evalplus_limits_per_input():
    from lintseq.evaluate.expected import Expected

    e = Expected("x", 0.6, (0.001, 0.25, 0.3))
    assert e.steps() == [1.0, 1.0, 1.2]  # max(1 s, 4x): evalplus 0.3.1's floor is 1 s
    assert e.timeout(10.0, "per_input") == 5.2  # min(60, 3.2) + 2: the floor --timeout does not apply
    assert e.timeout(10.0, "per_run") == 10.0


@pytest.mark.usefixtures("sandbox")
def test_evaluate_mbppplus_time_modes_and_unknown_references(tmp_path, data, monkeypatch):
    """Through ``evaluate`` on a real task: a sample 2 s slow on one input times out per input
    (the default) and passes per run; a reference that cannot finish in its (tiny) limit makes
    the task not_runnable, counted and left out of pass@k."""
    from lintseq.tasks import load_benchmark
    from lintseq.evaluate.pipeline import EvalConfig, evaluate

    monkeypatch.setenv("LINTSEQ_CACHE", str(tmp_path / "cache"))
    tasks = load_benchmark("mbppplus", data)
    ref = tasks["Mbpp/2"].reference
    slow = "import time\n_seen = []\n" + ref + ("\n_f = similar_elements\ndef similar_elements(*a):\n"
                                                "    _seen.append(1)\n    if len(_seen) == 3:\n        time.sleep(2)\n"
                                                "    return _f(*a)\n")
    path = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "Mbpp/2", "solution": ref},
                                              {"task_id": "Mbpp/2", "solution": slow}])
    cfg = dict(ks=(1,), workers=2, data_dir=data, progress=False, allow_partial=True)
    evaluate(EvalConfig(path, "mbppplus", **cfg))
    rows = [json.loads(line) for line in open(path + "_results.jsonl")]
    assert [r["verdict"] for r in rows] == ["passed", "timed_out"] and rows[1]["reason"].startswith("input 2:")
    evaluate(EvalConfig(path, "mbppplus", mbppplus_time_limit="per_run", **cfg))
    assert [json.loads(line)["verdict"] for line in open(path + "_results.jsonl")] == ["passed", "passed"]
    # Mbpp/392's reference takes seconds on its inputs (4 s here, loaded): never within 0.2 s
    slow_ref = write_jsonl(tmp_path / "r.jsonl", [{"task_id": "Mbpp/392", "solution": tasks["Mbpp/392"].reference}] * 2)
    s = evaluate(EvalConfig(slow_ref, "mbppplus", cache=False, reference_timeout=0.2, **cfg))
    rows = [json.loads(line) for line in open(slow_ref + "_results.jsonl")]
    assert {r["verdict"] for r in rows} == {"not_runnable"} and "reference solution" in rows[0]["reason"]
    assert s["not_runnable_tasks"] == 1 and s["tasks_scored"] == 0 and "pass@1" not in s


def test_the_time_mode_is_a_cli_flag_and_an_experiment_key(tmp_path):
    """``--mbppplus-time`` on evaluate; ``evaluate.mbppplus_time_limit`` in the experiment config,
    a bad value refused naming the allowed ones."""
    from lintseq.config import load_config
    from lintseq.errors import LintseqError
    from lintseq.experiment import ExperimentConfig
    from helpers import run_cli

    assert load_config(ExperimentConfig, None, ["evaluate.mbppplus_time_limit=per_run"]).evaluate.mbppplus_time_limit == "per_run"
    assert load_config(ExperimentConfig, None, []).evaluate.mbppplus_time_limit == "per_input"
    with pytest.raises(LintseqError, match="per_input"):
        load_config(ExperimentConfig, None, ["evaluate.mbppplus_time_limit=sometimes"])
    out = run_cli("evaluate", "--help")
    assert "--mbppplus-time" in out.stdout


def test_numbers_of_other_types_are_sent_back_as_evalplus_compares_them():
    """evalplus compares with ==, so a program returning np.int64(40) or Fraction(40) for 40
    passes there; they went back as an opaque (type, repr) pair and failed here."""
    import fractions

    np = pytest.importorskip("numpy")
    assert checks.encode(np.int64(40)) == 40 and type(checks.encode(np.int64(40))) is int
    assert checks.encode(np.float32(0.5)) == 0.5 and checks.encode(np.bool_(True)) is True
    assert checks.encode(fractions.Fraction(40)) == 40.0 and checks.encode(fractions.Fraction(1, 4)) == 0.25
    assert checks.encode([np.int64(1), (np.int64(2),)]) == [1, {"t": [2]}]
    assert _judge([checks.encode(np.int64(40))], [40], "") is None
    assert "r" in checks.encode(np.array([1, 2]))  # arrays stay opaque: evalplus's == would not give one bool
