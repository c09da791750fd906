"""present.py: what a person reads after a command, built from the workflow's result dict."""

from lintseq.present import evaluate_summary, experiment_result, generate_summary


def test_evaluate_summary_says_partial_coverage_skipped_k_and_where_files_went():
    summary = {"benchmark": "humaneval", "samples": 20, "tasks_scored": 2, "not_runnable_tasks": 0, "isolation": "bwrap",
               "coverage": {"tasks_with_samples": 2, "tasks_in_benchmark": 164, "missing": 162,
                            "first_missing": ["HumanEval/2", "HumanEval/3", "HumanEval/4", "HumanEval/5"]},
               "verdicts": {"passed": 5, "failed": 15}, "pass@1": 0.25, "skipped_k": {"100": "needs 100 samples per task"},
               "per_group": {}}
    text = evaluate_summary(summary, "s.jsonl")
    assert "PARTIAL: 162 missing, e.g. HumanEval/2, HumanEval/3, HumanEval/4" in text and "HumanEval/5" not in text
    assert "pass@1 25.00%" in text and "pass@100 not reported: needs 100 samples per task" in text
    assert text.endswith("results -> s.jsonl_results.jsonl, summary -> s.jsonl_summary.json")


def test_evaluate_summary_without_any_reportable_k_says_so():
    summary = {"benchmark": "mbpp", "samples": 1, "tasks_scored": 1, "not_runnable_tasks": 0, "isolation": "bwrap",
               "coverage": {"tasks_with_samples": 1, "tasks_in_benchmark": 1, "missing": 0, "first_missing": []},
               "verdicts": {"failed": 1}}
    assert "pass@k: no k with enough samples per task" in evaluate_summary(summary, "x")


def test_generate_summary_names_rejections_and_degenerate_sequences_only_for_lintseq():
    s = {"programs_in": 3, "resumed_programs": 0, "sequences_out": 10, "output": "o.jsonl", "rejected": 1,
         "rejected_by_reason": {"syntax_error": 1}, "mean_edits_per_sequence": 3.0, "mean_lines_per_edit": 1.5,
         "single_edit_sequences": 1, "programs_with_original_errors": 0, "sequences_per_second": 5.0, "seconds": 2,
         "workers": 1, "linter": "hybrid", "sampler": "lintseq"}
    text = generate_summary(s)
    assert "rejected         1  (syntax_error 1)" in text and "1 single-edit sequence, 0 programs" in text and "1 worker," in text
    assert "degenerate" not in generate_summary({**s, "sampler": "randseq"})


def test_experiment_result_lists_each_arm():
    summary = {"arms": {"baseline": {"pass@1": 0.1, "malformed_rate": None}, "lintseq": {"pass@1": 0.2, "malformed_rate": 0.05}},
               "stages": {"train_baseline": 12.4}}
    text = experiment_result(summary, "runs/x")
    assert "baseline  pass@1 10.00%  malformed rate -" in text and "lintseq   pass@1 20.00%  malformed rate 0.05" in text
    assert "stages: train_baseline 12s" in text
