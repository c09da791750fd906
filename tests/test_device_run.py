"""The prepared GPU run (benchmarks/device_run.sh), dry-run on the CPU with tiny settings: the
same steps (wheels, sandbox check, GPU checks, the experiment on HumanEval, MBPP from the same two
models, one report), so that the one lent H200 call does not fail on a typo. Slow: minutes."""

import json
import os
import subprocess
import sys
import tarfile

import pytest

pytest.importorskip("torch")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_device_run_dry_run_on_the_cpu(tmp_path, sandbox, data):
    env = {**os.environ, "DEVICE_RUN_CPU": "1", "OUT": str(tmp_path / "out"), "PYTHON": sys.executable,
           "DEVICE_STASH": str(tmp_path / "stash"), "DEVICE_EXP": str(tmp_path / "exp"),
           "DEVICE_SITE": str(tmp_path / "site"), "LINTSEQ_DATA_DIR": data, "GPU_CHECK_BUDGET": "150"}
    proc = subprocess.run(["bash", os.path.join(ROOT, "benchmarks", "device_run.sh"), "all"], env=env,
                          capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = tmp_path / "out"
    names = set(os.listdir(out))
    assert {"gpu_check.json", "sandbox.txt", "summary.json", "report.md", "runs.tar.gz", "part2.log"} <= names
    assert len(names) <= 8  # what the device returns: at most 8 files
    summary = json.load(open(out / "summary.json"))
    for arm in ("baseline", "lintseq"):
        s = summary["arms"][arm]
        assert s["sampling"]["top_k"] == 0 and s["sampling"]["stop"] == "eos" and s["resolution"]["rule"] == "authors"
    report = open(out / "report.md").read()
    for run in ("humaneval-baseline.jsonl", "humaneval-lintseq.jsonl", "mbpp-baseline.jsonl", "mbpp-lintseq.jsonl"):
        assert f"| {run} |" in report
    with tarfile.open(out / "runs.tar.gz") as tar:
        members = tar.getnames()
    assert "mbpp-lintseq.jsonl_results.jsonl" in members and "humaneval-baseline.jsonl" in members
    gpu = json.load(open(out / "gpu_check.json"))
    assert [s["status"] for s in gpu["steps"] if s["step"] == "env"] == ["ok"]


def test_device_run_refuses_an_unknown_part():
    proc = subprocess.run(["bash", os.path.join(ROOT, "benchmarks", "device_run.sh"), "part3"], capture_output=True, text=True)
    assert proc.returncode == 2 and "usage" in proc.stdout
