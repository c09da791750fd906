"""A user's mistakes end in one line on stderr and exit status 2, fast, with no traceback and
nothing half-written left behind (every case here runs the real command in a subprocess)."""

import json
import os
import subprocess
import sys

import pytest

from helpers import run_cli, write_jsonl


def one_line_error(*args, needle: str, env=None, cwd=None):
    # no wall-clock bound: on a loaded machine "fast" is not a number; run_cli's timeout only stops a hang
    proc = run_cli(*args, check=False, env=env, cwd=cwd, timeout=300)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith("isolation:")]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith(f"lintseq {' '.join(map(str, args[:2])) if args[0] in ('corpus', 'model') else args[0]}: error: ") \
        and needle in lines[0] and "(fix: " in lines[0], lines[0]
    return lines[0]


def test_show_and_verify_on_a_folder_or_a_missing_file(tmp_path):
    one_line_error("show", tmp_path, needle="is a directory")
    one_line_error("show", tmp_path / "nope.jsonl", needle="cannot read")
    one_line_error("verify", tmp_path / "nope.jsonl", needle="cannot read")
    recs = write_jsonl(tmp_path / "r.jsonl", [{"id": "0-0", "program": "x = 1", "edits": ["@@ -0,0 +1 @@\n+x = 1"]}])
    one_line_error("show", recs, "--index", 5, needle="out of range")


def test_report_without_a_summary_names_the_command_that_makes_it(tmp_path):
    line = one_line_error("report", tmp_path / "missing.jsonl", "-o", tmp_path / "rep", needle="no evaluation summary")
    assert "lintseq evaluate" in line and not os.path.exists(tmp_path / "rep")


def test_report_reads_results_files_and_prints_without_writing_by_default(tmp_path):
    summary = {"benchmark": "humaneval", "samples": 2, "pass@1": 0.5, "flops": None, "isolation": "bwrap"}
    json.dump(summary, open(tmp_path / "s.jsonl_summary.json", "w"))
    proc = run_cli("report", tmp_path / "s.jsonl_results.jsonl", cwd=tmp_path)
    assert "| s.jsonl | humaneval | 2 | - | 50.0 |" in proc.stdout and os.listdir(tmp_path) == ["s.jsonl_summary.json"]


def test_benchmarks_that_are_not_local_fail_in_seconds_naming_the_flag(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "LINTSEQ_DATA_DIR": ""}
    line = one_line_error("prompts", "-b", "mbpp", "-o", tmp_path / "p.jsonl", needle="not available locally", env=env)
    assert "--data-dir" in line and not os.path.exists(tmp_path / "p.jsonl")
    one_line_error("prompts", "-b", "mbpp", "--data-dir", tmp_path / "nope", "-o", tmp_path / "p.jsonl",
                   needle="does not exist", env=env)
    for name, folder in (("ds1000", "ds1000"), ("codecontests", "code_contests")):
        one_line_error("prompts", "-b", name, "-o", tmp_path / "p.jsonl", needle="not available locally", env=env)
        line = one_line_error("prompts", "-b", name, "--data-dir", tmp_path, "-o", tmp_path / "p.jsonl",
                              needle=f"in '{tmp_path / folder}'", env=env)
        assert "--data-dir" in line


def test_import_gguf_with_a_missing_file(tmp_path):
    one_line_error("model", "import-gguf", "--gguf", tmp_path / "x.gguf", "-o", tmp_path / "m", needle="does not exist")
    assert not os.path.exists(tmp_path / "m")


def test_a_closed_pipe_is_not_an_error(tmp_path):
    program = "\n".join(f"x{i} = {i}" for i in range(3000))
    edits = ["@@ -0,0 +1,3000 @@\n" + "\n".join("+" + ln for ln in program.split("\n"))]
    recs = write_jsonl(tmp_path / "r.jsonl", [{"id": "0-0", "program": program, "edits": edits}])
    proc = subprocess.run(f"{sys.executable} -m lintseq.cli show {recs} | head -1", shell=True, capture_output=True, text=True)
    assert proc.stdout.startswith("record 0-0") and "Traceback" not in proc.stderr and "Error" not in proc.stderr


def test_debug_shows_the_traceback(tmp_path):
    proc = run_cli("--debug", "show", tmp_path, check=False)
    assert proc.returncode != 0 and "Traceback" in proc.stderr and "LintseqError" in proc.stderr


@pytest.mark.parametrize("command", ["generate", "verify", "show", "evaluate", "prompts", "report", "train", "pretrain",
                                     "sample", "experiment", "corpus build", "model import-gguf"])
def test_every_option_has_help(command):
    from lintseq.cli import build_parser

    parser = build_parser()
    sub = parser
    for word in command.split():
        sub = next(a for a in sub._actions if a.__class__.__name__ == "_SubParsersAction").choices[word]
    missing = [a.option_strings or a.dest for a in sub._actions if not a.help and a.dest != "help"]
    assert not missing, (command, missing)


@pytest.mark.parametrize("args,needle", [
    (("evaluate", "s.jsonl", "--k", "-3"), "argument --k/--ks: expected comma-separated integers >= 1"),
    (("evaluate", "s.jsonl", "--k", "abc"), "got 'abc'"),
    (("evaluate", "s.jsonl", "--k", "1,,0"), "got '1,,0'"),
    (("evaluate", "s.jsonl", "--workers", "0"), "-w/--workers: expected an integer >= 1"),
    (("evaluate", "s.jsonl", "--timeout", "-1"), "--timeout: expected a number > 0"),
    (("evaluate", "s.jsonl", "--timeout", "nan"), "--timeout: expected a number > 0"),
    (("evaluate", "s.jsonl", "--limit-tasks", "-1"), "--limit-tasks: expected an integer >= 0"),
    (("generate", "in.jsonl", "--workers", "abc"), "-w/--workers: expected an integer >= 1"),
    (("generate", "in.jsonl", "-s", "0"), "-s/--samples: expected an integer >= 1"),
    (("generate", "in.jsonl", "--max-lines", "-5"), "--max-lines: expected an integer >= 0"),
    (("sample", "--model", "m", "--prompts", "p", "-n", "0"), "-n: expected an integer >= 1"),
    (("sample", "--model", "m", "--prompts", "p", "--batch-size", "-4"), "--batch-size: expected an integer >= 0"),
    (("sample", "--model", "m", "--prompts", "p", "--top-p", "1.5"), "--top-p: expected a number > 0 and <= 1"),
    (("corpus", "build", "--val-fraction", "2"), "--val-fraction: expected a number >= 0 and <= 1"),
    (("train", "data=x", "global_batch=0"), "global_batch='0': expected a number >= 1"),
    (("train", "data=x", "micro_batch=abc"), "micro_batch='abc': expected int"),
    (("experiment", "workers=-2"), "workers='-2': expected a number >= 1"),
    (("experiment", "timeout=-1"), "timeout='-1': expected a number >= 0"),
])
def test_every_numeric_option_is_checked_in_one_line(tmp_path, args, needle):
    one_line_error(*args, needle=needle, cwd=tmp_path)


def test_evaluate_refuses_unusable_rows_naming_the_row_and_the_field(tmp_path, sandbox):
    def refused(rows, needle):
        path = write_jsonl(tmp_path / "s.jsonl", rows) if rows is not None else tmp_path / "s.jsonl"
        line = one_line_error("evaluate", path, "--allow-partial", "--k", "1", needle=needle)
        assert not os.path.exists(f"{path}_results.jsonl") and not os.path.exists(f"{path}_summary.json")
        return line

    ok = {"task_id": "HumanEval/0", "completion": "    return True\n"}
    line = refused([ok, {"task_id": "HumanEval/1", "code": "x = 1"}], "line 2 (HumanEval/1) has no completion, solution or raw")
    assert "it has: task_id, code" in line
    refused([ok, {"task_id": "HumanEval/999", "completion": "x"}], "line 2: task_id 'HumanEval/999' is not a humaneval task")
    refused([ok, {"completion": "x"}], "line 2 has no task_id field")
    refused([ok, "not json"], "line 2: invalid JSON")
    refused([], "has no samples (the file is empty)")
    (tmp_path / "s.jsonl").write_bytes(b'{"task_id": "HumanEval/0", "completion": "\xff"}\n')
    refused(None, "line 1: not UTF-8 text")
    one_line_error("evaluate", tmp_path, needle="is a directory")


def test_generate_on_empty_undecodable_or_folder_input_says_so(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    one_line_error("generate", empty, "-o", tmp_path / "o.jsonl", needle="is empty: nothing to generate")
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"instruction": "x", "response": "s = \'\xe9\'"}\n')
    one_line_error("generate", latin, "-o", tmp_path / "o.jsonl", "-q", needle="not UTF-8 text")
    (tmp_path / "folder").mkdir()
    one_line_error("generate", tmp_path / "folder", "-o", tmp_path / "o.jsonl", needle="is a directory with no dataset")
    assert sorted(os.listdir(tmp_path)) == ["empty.jsonl", "folder", "latin.jsonl"]  # nothing half-written


def test_a_pairs_file_smaller_than_one_global_batch_is_one_line(tmp_path, sandbox):
    pairs = write_jsonl(tmp_path / "pairs.jsonl", [{"instruction": "Add.", "response": "def add(a, b):\n    return a + b"}])
    one_line_error("experiment", f"pairs={pairs}", f"output_dir={tmp_path / 'out'}", "global_batch=16", "linter=fast",
                   "workers=1", "-q", needle="fewer than one global batch of 16")


def test_training_on_pairs_without_view_baseline_is_one_line(tmp_path):
    """Pairs (instruction/response) have no edits: the tokenizer's first read ended in KeyError."""
    pairs = write_jsonl(tmp_path / "pairs.jsonl", [{"instruction": "Add.", "response": "def add(a, b):\n    return a + b"}])
    one_line_error("train", f"data={pairs}", "model=tiny", "max_steps=1", f"output_dir={tmp_path / 'out'}",
                   needle="line 1 has no 'edits' field for the editseq view")


def test_corpus_build_names_every_package_that_is_not_installed(tmp_path):
    one_line_error("corpus", "build", "-o", tmp_path / "p.jsonl", "--packages", "nosuchpkg_a", "nosuchpkg_b",
                   needle="package(s) not installed: nosuchpkg_a, nosuchpkg_b")


def test_pretrain_names_a_missing_text_or_code_folder(tmp_path):
    """A missing text= folder was left out silently (code alone was trained on); both missing
    ended in a traceback."""
    one_line_error("pretrain", f"text={tmp_path / 'web'}", "code=stdlib", "model=tiny", "max_steps=1",
                   f"output_dir={tmp_path / 'out'}", needle=f"text='{tmp_path / 'web'}' is no folder and matches no file")
    one_line_error("pretrain", f"code={tmp_path / 'py'}", "model=tiny", "max_steps=1", f"output_dir={tmp_path / 'out'}",
                   needle="code=")


def test_a_model_meta_that_is_missing_or_incomplete_is_one_line(tmp_path):
    samples = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "HumanEval/0", "completion": "    return True\n"}])
    one_line_error("evaluate", samples, "--allow-partial", "--model-meta", tmp_path / "none.json",
                   needle="cannot read the model's shape from")
    (tmp_path / "m.json").write_text('{"n_layer": 2}')
    one_line_error("evaluate", samples, "--allow-partial", "--model-meta", tmp_path / "m.json",
                   needle="has no non_embedding_params, d_model")
