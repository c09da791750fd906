"""DS-1000 on its real problems: a verbatim subset of the release (tests/fixtures/ds1000_real,
see its README) judged in the sandbox. References pass, wrong answers fail, a problem whose
library is not installed is not_runnable, and problems that download data are not_runnable
("needs network") unless --seaborn-data gives seaborn's CSVs, never failed."""

import gzip
import importlib.util
import json
import os

import pytest

from helpers import run_cli, write_jsonl
from lintseq.tasks import load_benchmark
from lintseq.tasks.ds1000 import downloads
from lintseq.errors import LintseqError
from lintseq.evaluate.isolation import data_mount
from lintseq.evaluate.pipeline import EvalConfig, evaluate

REAL = os.path.join(os.path.dirname(__file__), "fixtures", "ds1000_real")
SEABORN = os.path.join(REAL, "seaborn-data")
# one problem per library (the default run), the fixture's others in the slow test
FIRST = {"Pandas": "DS-1000/102", "Numpy": "DS-1000/400", "Matplotlib": "DS-1000/536", "Pytorch": "DS-1000/981",
         "Scipy": "DS-1000/711", "Sklearn": "DS-1000/852", "Tensorflow": "DS-1000/710"}
NETWORK = {"DS-1000/519": "seaborn.load_dataset('tips')", "DS-1000/819": "fetch_california_housing"}


def installed(module):
    return importlib.util.find_spec(module) is not None


def release_file():
    folder = os.environ.get("LINTSEQ_DATA_DIR", "")
    path = os.path.join(folder, "ds1000", "ds1000.jsonl.gz")
    return path if folder and os.path.isfile(path) else None


def wrong(task):
    """A wrong answer of the problem's kind: a plot for Matplotlib, else the wrong value."""
    return "plt.plot([0, 1], [1, 0])\n" if task.group == "Matplotlib" else "result = None\n"


def verdicts(tmp_path, rows, **kw):
    path = write_jsonl(tmp_path / "s.jsonl", rows)
    summary = evaluate(EvalConfig(path, "ds1000", ks=(1,), workers=2, data_dir=REAL, progress=False,
                                  allow_partial=True, **kw))
    return [json.loads(line) for line in open(path + "_results.jsonl")], summary


def test_the_subset_is_verbatim_release_rows():
    lines = open(os.path.join(REAL, "ds1000", "ds1000.jsonl"), encoding="utf-8").read().splitlines()
    rows = [json.loads(line) for line in lines]
    assert {r["metadata"]["library"] for r in rows} == set(FIRST)
    assert all(list(r) == ["prompt", "reference_code", "metadata", "code_context"] for r in rows)
    path = release_file()
    if path is None:
        pytest.skip("the DS-1000 release is not here (LINTSEQ_DATA_DIR/ds1000/ds1000.jsonl.gz): verbatim check skipped")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        release = fh.read().splitlines()
    assert all(line == release[json.loads(line)["metadata"]["problem_id"]] for line in lines)


def test_downloads_are_found_in_the_problems_code():
    tasks = load_benchmark("ds1000", REAL)
    found = {tid: t.test["seaborn"] + t.test["fetch"] for tid, t in tasks.items() if t.test["seaborn"] or t.test["fetch"]}
    assert found == {"DS-1000/519": ["tips"], "DS-1000/819": ["fetch_california_housing"]}
    assert downloads("import seaborn as sns\ndf = sns.load_dataset(name='penguins')")["seaborn"] == ["penguins"]
    path = release_file()
    if path is None:
        pytest.skip("the DS-1000 release is not here: its 15 downloading problems not counted")
    full = load_benchmark("ds1000", os.path.dirname(os.path.dirname(path)))
    assert sum(bool(t.test["seaborn"]) for t in full.values()) == 14  # the count, all Matplotlib
    assert [tid for tid, t in full.items() if t.test["fetch"]] == ["DS-1000/819"]


def test_seaborn_data_refuses_a_folder_that_holds_answers(tmp_path, monkeypatch):
    (tmp_path / "data" / "ds1000").mkdir(parents=True)
    monkeypatch.setenv("LINTSEQ_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(LintseqError, match="must not see"):
        data_mount(str(tmp_path))  # the benchmark data lies inside it
    with pytest.raises(LintseqError, match="no such folder"):
        data_mount(str(tmp_path / "missing"))
    assert data_mount(SEABORN) == os.path.realpath(SEABORN)


@pytest.mark.usefixtures("sandbox")
def test_real_problems_pass_fail_or_are_not_runnable(tmp_path):
    """One real problem per library: its reference passes and a wrong answer fails where the
    library is installed, both are not_runnable where it is not; problems that download are
    not_runnable with "needs network" (no --seaborn-data), never failed."""
    tasks = load_benchmark("ds1000", REAL)
    ids = list(FIRST.values()) + list(NETWORK)
    rows = [row for tid in ids for row in ({"task_id": tid, "completion": tasks[tid].reference},
                                           {"task_id": tid, "completion": wrong(tasks[tid])})]
    res, summary = verdicts(tmp_path, rows)
    got = {tid: (res[2 * i]["verdict"], res[2 * i + 1]["verdict"]) for i, tid in enumerate(ids)}
    for tid in FIRST.values():
        want = ("not_runnable",) * 2 if tasks[tid].missing_modules() else ("passed", "failed")
        assert got[tid] == want, (tid, res[2 * ids.index(tid)]["reason"], res[2 * ids.index(tid) + 1]["reason"])
        if tasks[tid].missing_modules():
            assert res[2 * ids.index(tid)]["reason"].startswith("missing modules:")
    for i, tid in enumerate(ids):
        if tid in NETWORK:
            assert got[tid] == ("not_runnable", "not_runnable")
            assert "needs network" in res[2 * i]["reason"] and NETWORK[tid] in res[2 * i]["reason"]
    assert "failed" not in {res[2 * i]["verdict"] for i in range(len(ids))}  # no reference is ever failed
    assert summary["not_runnable_tasks"] == sum(1 for tid in ids if got[tid][0] == "not_runnable")


@pytest.mark.usefixtures("sandbox")
def test_a_seaborn_problem_runs_offline_with_the_data_folder(tmp_path):
    """DS-1000/519 loads seaborn's tips: with --seaborn-data (bound read-only, SEABORN_DATA set)
    the reference passes and a wrong plot fails; without it, not_runnable "needs network"."""
    if not installed("seaborn"):
        pytest.skip("seaborn is not installed: DS-1000/519 is not_runnable here either way")
    task = load_benchmark("ds1000", REAL)["DS-1000/519"]
    rows = [{"task_id": "DS-1000/519", "completion": task.reference}, {"task_id": "DS-1000/519", "completion": wrong(task)}]
    res, _ = verdicts(tmp_path, rows, seaborn_data=SEABORN)
    assert [r["verdict"] for r in res] == ["passed", "failed"], res[0]["reason"]
    res, _ = verdicts(tmp_path, rows)
    assert [r["verdict"] for r in res] == ["not_runnable"] * 2 and "needs network" in res[0]["reason"]


@pytest.mark.usefixtures("sandbox")
def test_the_cli_takes_seaborn_data(tmp_path):
    """--seaborn-data reaches the evaluation (a folder without tips.csv: still needs network)."""
    empty = tmp_path / "empty"
    empty.mkdir()
    path = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "DS-1000/519", "completion": "pass\n"}])
    run_cli("evaluate", path, "-b", "ds1000", "--data-dir", REAL, "--allow-partial", "--k", "1", "--workers", "1",
            "--seaborn-data", empty, "--json")
    row = json.loads(open(path + "_results.jsonl").readline())
    assert row["verdict"] == "not_runnable" and "has no tips.csv" in row["reason"]
    bad = run_cli("evaluate", path, "-b", "ds1000", "--data-dir", REAL, "--allow-partial", "--k", "1",
                  "--seaborn-data", tmp_path / "missing", check=False)
    assert bad.returncode == 2 and "no such folder" in bad.stderr


@pytest.mark.slow
@pytest.mark.usefixtures("sandbox")
def test_every_reference_of_the_subset(tmp_path):
    """All 15 fixture problems: references pass (with --seaborn-data), wrong answers fail, where runnable."""
    tasks = load_benchmark("ds1000", REAL)
    rows = [row for tid, t in tasks.items() for row in ({"task_id": tid, "completion": t.reference},
                                                         {"task_id": tid, "completion": wrong(t)})]
    res, _ = verdicts(tmp_path, rows, seaborn_data=SEABORN)
    for i, (tid, task) in enumerate(tasks.items()):
        pair = (res[2 * i]["verdict"], res[2 * i + 1]["verdict"])
        if task.missing_modules() or tid == "DS-1000/819":
            assert pair == ("not_runnable", "not_runnable"), tid
        else:
            assert pair == ("passed", "failed"), (tid, res[2 * i]["reason"])
