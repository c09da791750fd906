"""A user's mistakes end in one line on stderr and exit status 2, fast, with no traceback and
nothing half-written left behind (every case here runs the real command in a subprocess)."""

import json
import os
import subprocess
import sys
import time

import pytest

from helpers import run_cli, write_jsonl


def one_line_error(*args, needle: str, env=None):
    start = time.monotonic()
    proc = run_cli(*args, check=False, env=env, timeout=60)
    elapsed = time.monotonic() - start
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith(f"lintseq {args[0]}: error: ") and needle in lines[0], lines[0]
    assert elapsed < 10, elapsed
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
