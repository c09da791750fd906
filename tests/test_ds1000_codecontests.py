"""DS-1000 and CodeContests: loaders on fixture files in the releases' row formats
(tests/fixtures/benchmarks/build.py writes them), and judging in the sandbox."""

import importlib.util
import json
import os

import pytest
from hypothesis import given, strategies as st

from helpers import run_cli, write_jsonl
from lintseq.tasks import load_benchmark
from lintseq.tasks.ds1000 import output_line, setup_code, solution_of
from lintseq.evaluate.checks import _tokens_match
from lintseq.evaluate.pipeline import EvalConfig, evaluate

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "benchmarks")
DS1000_KEYS = ["prompt", "reference_code", "metadata", "code_context"]
META_KEYS = ["problem_id", "library_problem_id", "library", "test_case_cnt", "perturbation_type", "perturbation_origin_id"]
CONTEST_KEYS = {"name", "description", "public_tests", "private_tests", "generated_tests", "source", "difficulty",
                "solutions", "incorrect_solutions", "cf_contest_id", "cf_index", "cf_points", "cf_rating", "cf_tags",
                "is_description_translated", "untranslated_description", "time_limit", "memory_limit_bytes",
                "input_file", "output_file"}


def read(path):
    return [json.loads(line) for line in open(path, encoding="utf-8")]


def installed(module):
    return importlib.util.find_spec(module) is not None


def test_fixture_rows_have_the_release_formats():
    rows = read(os.path.join(FIXTURES, "ds1000", "ds1000.jsonl"))
    assert all(list(r) == DS1000_KEYS and list(r["metadata"]) == META_KEYS for r in rows)
    assert [r["metadata"]["problem_id"] for r in rows] == list(range(len(rows)))
    assert {r["metadata"]["library"] for r in rows} == {"Pandas", "Numpy", "Matplotlib", "Pytorch", "Tensorflow", "Scipy"}
    contests = read(os.path.join(FIXTURES, "code_contests", "test.jsonl"))
    assert all(set(r) == CONTEST_KEYS and set(r["time_limit"]) == {"seconds", "nanos"} for r in contests)


def test_ds1000_tasks_prompts_and_solutions():
    tasks = load_benchmark("ds1000", FIXTURES)
    assert len(tasks) == 8 and tasks["DS-1000/2"].group == "Numpy"
    plain, function, plot = tasks["DS-1000/0"], tasks["DS-1000/1"], tasks["DS-1000/4"]
    assert plain.instruction.startswith("Write a Python program to solve the following problem:\nI have a dataframe")
    assert plain.instruction.endswith("```\nresult = ... # put solution in this variable")
    assert plain.completion_prompt.endswith("BEGIN SOLUTION\n<code>\n") and plain.code_prompt == ""
    assert function.test["setup"].endswith("def f(df=example_df):\n    # return the solution in this function\n    # result = f(df)")
    assert output_line(function.completion_prompt) == "" and "### BEGIN SOLUTION" not in function.instruction
    assert setup_code(plot.completion_prompt).endswith("# plot y over x as a single red line")
    assert set(tasks["DS-1000/6"].missing_modules()) == ({"tensorflow"} - {m for m in ["tensorflow"] if installed(m)})
    # a whole program loses the setup it repeats (spacing aside); a completion its trailers
    setup = plain.test["setup"]
    assert solution_of("import pandas as pd\ndf = pd.DataFrame({'key': ['a', 'b', 'a'], 'val': [1, 2, 3]})\n\nresult = 1\n",
                       setup) == "result = 1\n"
    assert solution_of("```python\nresult = 1\n```\nThis sums it.", setup) == "result = 1\n"
    assert solution_of("    return 3\n", function.test["setup"]) == "    return 3\n"


def test_ds1000_prompts_export_both_forms(tmp_path):
    run_cli("prompts", "-b", "ds1000", "--data-dir", FIXTURES, "--form", "completion", "-o", tmp_path / "c.jsonl")
    run_cli("prompts", "-b", "ds1000", "--data-dir", FIXTURES, "-o", tmp_path / "i.jsonl")
    raw = read(os.path.join(FIXTURES, "ds1000", "ds1000.jsonl"))
    assert [r["prompt"] for r in read(tmp_path / "c.jsonl")] == [r["prompt"] for r in raw]
    assert all(r["prompt"].startswith("Write a Python program") for r in read(tmp_path / "i.jsonl"))


@pytest.mark.usefixtures("sandbox")
def test_ds1000_is_judged_by_its_code_context(tmp_path, monkeypatch):
    tasks = load_benchmark("ds1000", FIXTURES)
    rows = []
    for tid, task in tasks.items():
        rows += [{"task_id": tid, "completion": task.reference}, {"task_id": tid, "completion": "result = None\n"}]
    rows += [
        {"task_id": "DS-1000/0", "solution": "import pandas as pd\n\ndf = pd.DataFrame({'key': ['a', 'b', 'a'], 'val': [1, 2, 3]})\n"
                                             "result = df.groupby('key')['val'].sum()\n"},  # whole program: setup stripped
        {"task_id": "DS-1000/2", "completion": "result = np.unravel_index(a.argmax(), a.shape)\n</code>\nEND SOLUTION"},
        {"task_id": "DS-1000/2", "completion": "for i in range(1):\n    result = np.unravel_index(a.argmax(), a.shape)\n"},  # test_string
        {"task_id": "DS-1000/1", "solution": "import pandas as pd\n\nexample_df = pd.DataFrame({'val': [1, -2, 3]})\n"
                                             "def f(df=example_df):\n    return int((df['val'] > 0).sum())\n"},
        {"task_id": "DS-1000/0", "raw": "@@ -0,0 +1 @@\n+result = df.groupby('key')['val'].sum()\n<|diff|>\n<|diff|>",
         "format": "editseq"},
    ]
    path = write_jsonl(tmp_path / "s.jsonl", rows)
    s = evaluate(EvalConfig(path, "ds1000", ks=(1,), workers=2, data_dir=FIXTURES, progress=False))
    res = read(path + "_results.jsonl")
    runnable = {tid for tid, t in tasks.items() if not t.missing_modules()}
    for i, tid in enumerate(tasks):
        want = ["passed", "failed"] if tid in runnable else ["not_runnable", "not_runnable"]
        assert [res[2 * i]["verdict"], res[2 * i + 1]["verdict"]] == want, (tid, res[2 * i]["reason"], res[2 * i + 1]["reason"])
    assert [r["verdict"] for r in res[-5:]] == ["passed", "passed", "failed", "passed", "passed"]
    assert "test_string" in res[-3]["reason"]
    assert s["per_group"]["Pandas"] == {"tasks_scored": 2, "not_runnable": 0, "pass@1": pytest.approx((3 / 4 + 2 / 3) / 2)}
    assert s["not_runnable_tasks"] == len(tasks) - len(runnable) and s["coverage"]["fraction"] == 1.0
    if not installed("tensorflow"):
        assert s["per_group"]["Tensorflow"] == {"tasks_scored": 0, "not_runnable": 1}


def test_codecontests_tasks():
    tasks = load_benchmark("codecontests", FIXTURES)
    assert list(tasks) == ["CodeContests/9001_A", "CodeContests/9001_B", "CodeContests/9001_C", "CodeContests/9001_D"]
    b = tasks["CodeContests/9001_B"]
    assert b.test["time_limit"] == 1.5 and len(b.test["tests"]) == 3 and b.test["tests"][0] == ["3\n1 2 3\n", "YES\n"]
    assert b.test["memory_limit"] == 256000000 and b.test["wall_limit"] == 5.5
    assert "standard input" in b.instruction and b.reference.startswith("import sys")  # the Python 3 solution
    assert len(load_benchmark("codecontests", FIXTURES, generated_tests=True)["CodeContests/9001_B"].test["tests"]) == 4


def test_codecontests_reads_the_language_as_the_hubs_integer_or_its_name(tmp_path):
    """An export that writes the enum's name ("PYTHON3") keeps its Python 3 references."""
    rows = read(os.path.join(FIXTURES, "code_contests", "test.jsonl"))
    names = {1: "PYTHON", 2: "CPP", 3: "PYTHON3", 4: "JAVA"}
    for row in rows:
        for key in ("solutions", "incorrect_solutions"):
            if row.get(key):
                row[key]["language"] = [names.get(x, "UNKNOWN_LANGUAGE") for x in row[key]["language"]]
    os.makedirs(tmp_path / "code_contests")
    with open(tmp_path / "code_contests" / "test.jsonl", "w") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in rows)
    by_name, by_int = load_benchmark("codecontests", str(tmp_path)), load_benchmark("codecontests", FIXTURES)
    assert [t.reference for t in by_name.values()] == [t.reference for t in by_int.values()]
    assert all(t.reference for t in by_name.values())


def test_codecontests_loads_the_hub_parquet_layout(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    rows = read(os.path.join(FIXTURES, "code_contests", "test.jsonl"))
    os.makedirs(tmp_path / "code_contests")
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "code_contests" / "test-00000-of-00001-9c49eeff30aacaa8.parquet")
    assert list(load_benchmark("codecontests", str(tmp_path))) == list(load_benchmark("codecontests", FIXTURES))


def test_the_checker_compares_tokens_as_the_official_tester():
    assert _tokens_match("3 \n\n", "3\n") and _tokens_match("1 2\n3", "1\n2 3")
    assert _tokens_match("YES", "yes") and _tokens_match("1.0000001", "1.0")
    # numbers as the official checker parses them: "1_0" is text there (float() read it as 10)
    assert not _tokens_match("1_0", "10") and _tokens_match("1e1", "10.000001") and _tokens_match("-.5", "-0.5")
    assert not _tokens_match("1.001", "1.0") and not _tokens_match("1 2", "1 2 3") and not _tokens_match("ab", "abc")


@pytest.mark.usefixtures("sandbox")
def test_codecontests_judges_stdin_stdout_within_time_limits(tmp_path):
    raw = read(os.path.join(FIXTURES, "code_contests", "test.jsonl"))
    tasks = load_benchmark("codecontests", FIXTURES)
    rows = []
    for (tid, task), r in zip(tasks.items(), raw):
        rows += [{"task_id": tid, "solution": task.reference}, {"task_id": tid, "solution": r["incorrect_solutions"]["solution"][0]}]
    a = "CodeContests/9001_A"
    rows += [{"task_id": a, "solution": "print(sum(map(int, open(0).read().split())))"},
             {"task_id": a, "solution": "import sys\na, b = map(int, sys.stdin.buffer.readline().split())\n"
                                        "sys.stdout.write(str(a + b))\nraise SystemExit"},
             {"task_id": a, "solution": "import sys\nprint(3)\nsys.exit(1)"},
             {"task_id": a, "solution": "a, b = map(int, input().split())\nprint(a + b if a != 3 else 0)"},  # wrong on generated only
             # Codeforces idioms that need a real interpreter exit: a worker thread, output flushed at exit
             {"task_id": a, "solution": "import sys, threading\ndef main():\n    a, b = map(int, input().split())\n"
                                        "    print(a + b)\nthreading.stack_size(1 << 26)\nsys.setrecursionlimit(10 ** 6)\n"
                                        "threading.Thread(target=main).start()"},
             {"task_id": a, "solution": "import atexit, io, sys\nbuf = io.StringIO()\natexit.register(lambda: sys.__stdout__.write(buf.getvalue()))\n"
                                        "a, b = map(int, input().split())\nbuf.write(str(a + b))"},
             # 400 MB of list: over the problem's 256 MB (plus 32 MiB), a runtime error as on the judge
             {"task_id": a, "solution": "a, b = map(int, input().split())\nbig = [0] * (50 * 10 ** 6)\nprint(a + b)"}]
    path = write_jsonl(tmp_path / "s.jsonl", rows)
    evaluate(EvalConfig(path, "codecontests", ks=(1,), workers=2, data_dir=FIXTURES, progress=False))
    res = read(path + "_results.jsonl")
    assert [r["passed"] for r in res] == [True, False] * 4 + [True, True, False, True, True, True, False], [r["reason"] for r in res]
    assert "runtime error" in res[-1]["reason"]
    assert "time limit exceeded" in res[7]["reason"] and "limit 2 s" in res[7]["reason"]
    assert "runtime error (exit status 1)" in res[10]["reason"] and "wrong answer" in res[1]["reason"]
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"task_id": a, "solution": "def main(:\n"}])
    evaluate(EvalConfig(bad, "codecontests", ks=(1,), workers=1, data_dir=FIXTURES, progress=False, allow_partial=True))
    assert read(bad + "_results.jsonl")[0]["verdict"] == "error"  # does not compile: an error, as for other benchmarks
    evaluate(EvalConfig(path, "codecontests", ks=(1,), workers=2, data_dir=FIXTURES, progress=False, generated_tests=True))
    assert [r["passed"] for r in read(path + "_results.jsonl")][-4] is False


def test_decontamination_indexes_them_where_the_data_folder_has_them(tmp_path, data):
    from lintseq.data.decontam import benchmark_index

    for name in os.listdir(data):
        if name not in ("ds1000", "code_contests"):  # the data folder may have the real DS-1000 now
            os.symlink(os.path.join(data, name), tmp_path / name)
    question = load_benchmark("codecontests", FIXTURES)["CodeContests/9001_B"].instruction
    without, _ = benchmark_index(str(tmp_path))
    assert not without.hits(question)
    for name in ("ds1000", "code_contests"):
        os.symlink(os.path.join(FIXTURES, name), tmp_path / name)
    with_them, _ = benchmark_index(str(tmp_path))
    assert with_them.hits(question) and with_them.hits(load_benchmark("ds1000", FIXTURES)["DS-1000/0"].instruction)

_names = st.sampled_from(["a", "b", "df", "x", "result", "arr"])
_setup_line = st.builds(lambda n, v: f"{n} = {v}", _names, st.integers(0, 99))
_body_line = st.builds(lambda n, v: f"{n} = f({v})", _names, st.integers(0, 99))  # never a setup line


@given(st.lists(_setup_line, max_size=6), st.lists(_body_line, min_size=1, max_size=6), st.booleans())
def test_a_whole_program_loses_exactly_the_setup_it_repeats(setup, body, spaced):
    program = "\n".join(setup + ([""] if spaced else []) + body)
    assert solution_of(program, "\n".join(setup)) == "\n".join(body)
    assert solution_of("\n".join(body), "\n".join(setup), whole=False) == "\n".join(body)


@given(st.lists(st.from_regex(r"[A-Za-z0-9.]{1,8}", fullmatch=True), min_size=1, max_size=8),
       st.lists(st.sampled_from([" ", "\n", "\t", "  \n"]), min_size=8, max_size=8))
def test_the_checker_ignores_whitespace_and_case(tokens, gaps):
    spaced = "".join(t + g for t, g in zip(tokens, gaps))
    assert _tokens_match(spaced, " ".join(tokens).upper()) and not _tokens_match(spaced, " ".join(tokens) + " extra")


def test_an_answer_that_copies_part_of_the_setup_keeps_it(data):
    """DS-1000's "copy the previous plot" problems: the setup draws a plot, then clears it; the
    answer draws it again. Its lines that repeat the setup were stripped, so the real reference
    solutions of 558 and 575 failed when given as whole programs."""
    from lintseq.tasks.ds1000 import postprocess

    tasks = load_benchmark("ds1000", data)
    for tid in ("DS-1000/558", "DS-1000/575"):
        task = tasks[tid]
        assert "plt.clf()" in task.test["setup"]
        kept = solution_of(task.reference, task.test["setup"])
        assert kept.strip() == postprocess(task.reference).strip() and kept.startswith(task.reference.split("\n")[0])
