"""evaluate/report.py: runs named as users name them, one table row each, the paper's two plots."""

import json
import os

import pytest

from lintseq.errors import LintseqError
from lintseq.evaluate.report import load_runs, markdown_table, report

SUMMARY = {"benchmark": "humaneval", "samples": 20, "pass@1": 0.25, "pass@10": 0.5, "isolation": "bwrap",
           "flops": {"pass@1": 1.0e12, "pass@10": 1.0e13},
           "coverage": {"tasks_with_samples": 2, "tasks_in_benchmark": 164}}


def _run(tmp_path, name, **over):
    json.dump({**SUMMARY, **over}, open(tmp_path / f"{name}.jsonl_summary.json", "w"))
    return str(tmp_path / f"{name}.jsonl")


def test_a_samples_file_its_results_and_its_summary_name_the_same_run(tmp_path):
    path = _run(tmp_path, "a")
    for arg in (path, path + "_results.jsonl", path + "_summary.json"):
        ((name, summary),) = load_runs(arg)
        assert summary["pass@10"] == 0.5


def test_an_experiment_folder_gives_one_run_per_arm(tmp_path):
    exp = {"config": {"benchmark": "mbpp"}, "arms": {"baseline": {"pass@1": 0.1}, "lintseq": {"pass@1": 0.2}}}
    json.dump(exp, open(tmp_path / "summary.json", "w"))
    assert [(n, s["benchmark"], s["pass@1"]) for n, s in load_runs(str(tmp_path))] == [("baseline", "mbpp", 0.1),
                                                                                       ("lintseq", "mbpp", 0.2)]
    # the arm's own evaluation summary gives the sample count and coverage the experiment's lacks
    (tmp_path / "lintseq").mkdir()
    json.dump({**SUMMARY, "pass@1": 0.9}, open(tmp_path / "lintseq" / "samples.jsonl_summary.json", "w"))
    runs = dict(load_runs(str(tmp_path)))
    assert runs["lintseq"]["samples"] == 20 and runs["lintseq"]["coverage"]["tasks_with_samples"] == 2
    assert runs["lintseq"]["pass@1"] == 0.2 and runs["baseline"]["samples"] == "-"  # the experiment's numbers win
    (tmp_path / "empty").mkdir()
    with pytest.raises(LintseqError, match="without summary.json"):
        load_runs(str(tmp_path / "empty"))


def test_the_table_has_a_column_per_k_any_run_has_and_a_dash_where_one_lacks_it(tmp_path):
    runs = load_runs(_run(tmp_path, "a")) + load_runs(_run(tmp_path, "b", **{"pass@100": 0.9}))
    lines = markdown_table(runs).splitlines()
    assert lines[0].startswith("| run | benchmark | samples | tasks | pass@1 | pass@10 | pass@100 | FLOPs @ max k |")
    assert "| 25.0 | 50.0 | - | 1e+13 | bwrap |" in lines[2] and "| 2/164 |" in lines[2]


def test_report_writes_the_table_and_both_plots_only_when_asked(tmp_path):
    path = _run(tmp_path, "a")
    assert report([path])["files"] == []
    out = report([path], str(tmp_path / "rep"))
    names = sorted(os.path.basename(f) for f in out["files"])
    assert names == ["pass_at_k.png", "pass_at_k.svg", "pass_at_k_flops.png", "pass_at_k_flops.svg", "report.md"]
    assert all(os.path.getsize(f) > 0 for f in out["files"])


def test_runs_sharing_a_file_name_are_told_apart_by_their_folder(tmp_path):
    """Each arm's samples are `samples.jsonl` in its own folder: both rows (and both curves) were
    named `samples.jsonl`."""
    for arm, p1 in (("base", 0.1), ("lint", 0.2)):
        (tmp_path / arm).mkdir()
        _run(tmp_path / arm, "samples", **{"pass@1": p1})
    table = report([str(tmp_path / "base" / "samples.jsonl"), str(tmp_path / "lint" / "samples.jsonl")])["table"]
    rows = [line.split("|")[1].strip() for line in table.splitlines()[2:]]
    assert rows == ["base/samples.jsonl", "lint/samples.jsonl"]
