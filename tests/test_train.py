import json
import os
import shutil

import pytest

import torch  # the [train] extra; CI installs it

from conftest import run_cli
from lintseq.formats import DIFF_TOKEN, editseq_completion
from lintseq.sample import resolve
from lintseq.train.config import TrainConfig
from lintseq.train.loop import train
from lintseq.train.tokens import IGNORE, add_diff_token, encode_example, tiny_tokenizer
from lintseq.generate.verify import verify_file


pytestmark = pytest.mark.usefixtures("one_torch_thread_tmp_cache")


def test_labels_are_exactly_the_completion_tokens_and_diff_is_one_token():
    tok = tiny_tokenizer()
    add_diff_token(tok)
    assert len(tok(DIFF_TOKEN, add_special_tokens=False)["input_ids"]) == 1
    prompt, completion = "Write f.\n<|diff|>", "@@ -0,0 +1 @@\n+x = 1\n<|diff|>\n<|diff|>"
    ex = encode_example(tok, prompt, completion, 512)
    p = tok(prompt, add_special_tokens=False)["input_ids"]
    c = tok(completion, add_special_tokens=False)["input_ids"]
    assert ex["input_ids"] == p + c + [tok.eos_token_id]
    assert ex["labels"] == [IGNORE] * len(p) + c + [tok.eos_token_id]
    assert tok.decode([x for x in ex["labels"] if x != IGNORE]) == completion + tok.eos_token
    assert encode_example(tok, prompt * 50, completion, 8) is None  # nothing left to learn: dropped


def test_baseline_view_sees_each_program_once(seqs):
    from lintseq.train.tokens import load_examples

    tok = tiny_tokenizer()
    add_diff_token(tok)
    edit = load_examples(seqs, tok, "editseq", 10**6)
    base = load_examples(seqs, tok, "baseline", 10**6, dedupe_programs=True)
    programs = {json.loads(l)["source_id"] for l in open(seqs)}
    assert len(base) == len(programs) and len(edit) == 2 * len(programs)  # s = 2


def _cfg(data, out, **kw):
    base = dict(model="tiny", data=data, output_dir=str(out), global_batch=8, micro_batch=4, max_steps=30,
                lr=3e-3, max_seq_len=256, warmup_ratio=0.1, seed=1)
    base.update(kw)
    return TrainConfig.load(None, [f"{k}={v}" for k, v in base.items()])


def test_loss_falls(seqs, tmp_path):
    out = train(_cfg(seqs, tmp_path / "run"))
    first, last = sum(out["losses"][:5]) / 5, sum(out["losses"][-5:]) / 5
    assert last < 0.8 * first
    assert os.path.exists(tmp_path / "run" / "log.csv") and os.path.exists(tmp_path / "run" / "final" / "config.json")
    rows = [r.split(",") for r in open(tmp_path / "run" / "log.csv").read().splitlines()[1:]]
    assert [int(r[0]) for r in rows] == list(range(1, 31))  # one row per step, each its own step's loss
    assert [float(r[1]) for r in rows] == pytest.approx(out["losses"]) and float(rows[0][1]) != float(rows[1][1])


def test_checkpoint_resumes_to_the_same_loss(seqs, tmp_path):
    a = train(_cfg(seqs, tmp_path / "a", max_steps=6, save_every=3))
    os.makedirs(tmp_path / "b")
    shutil.copytree(tmp_path / "a" / "checkpoint-3", tmp_path / "b" / "checkpoint-3")
    b = train(_cfg(seqs, tmp_path / "b", max_steps=6, save_every=3))
    assert b["start_step"] == 3
    assert b["losses"] == pytest.approx(a["losses"][3:], rel=1e-4)
    # the finished run again: it resumes from checkpoint-3, and its log holds each step once, with
    # the token count carried on (before, steps 4-6 were logged twice, their tokens from 0)
    log_a = [r.split(",") for r in open(tmp_path / "a" / "log.csv").read().splitlines()[1:]]
    again = train(_cfg(seqs, tmp_path / "a", max_steps=6, save_every=3))
    log_again = [r.split(",") for r in open(tmp_path / "a" / "log.csv").read().splitlines()[1:]]
    assert again["start_step"] == 3 and [r[0] for r in log_again] == [str(n) for n in range(1, 7)]
    assert [r[3] for r in log_again] == [r[3] for r in log_a]
    from transformers import AutoModelForCausalLM

    pa = AutoModelForCausalLM.from_pretrained(tmp_path / "a" / "final").state_dict()
    pb = AutoModelForCausalLM.from_pretrained(tmp_path / "b" / "final").state_dict()
    assert all(torch.allclose(pa[k], pb[k], rtol=1e-4, atol=1e-6) for k in pa)


def test_sampling_resolves_as_verify_and_feeds_evaluate(seqs, tmp_path, sandbox):
    # resolution is the shared applier: every generated record resolves to its program
    for line in open(seqs):
        rec = json.loads(line)
        assert resolve(editseq_completion(rec["edits"]), "editseq").program == rec["program"]
    assert verify_file(seqs)["ok"]
    out = train(_cfg(seqs, tmp_path / "m", max_steps=3))
    prompts = tmp_path / "prompts.jsonl"
    run_cli("prompts", "--benchmark", "humaneval", "-o", prompts)
    few = tmp_path / "few.jsonl"
    few.write_text("".join(open(prompts).readlines()[:3]))
    samples = tmp_path / "s.jsonl"
    run_cli("sample", "--model", out["output"], "--prompts", few, "-o", samples, "-n", 2, "--temperature", 1.0,
            "--max-new-tokens", 48, "--batch-size", 3)
    rows = [json.loads(l) for l in open(samples)]
    assert len(rows) == 6 and all(r["format"] == "editseq" and r["completion_tokens"] > 0 for r in rows)
    meta = json.load(open(str(samples) + ".meta.json"))
    assert meta["n_layer"] == 2 and meta["non_embedding_params"] > 0
    assert meta["lm_head_params"] % meta["d_model"] == 0 and meta["lm_head_params"] >= 100 * meta["d_model"]
    from lintseq.modelinfo import meta_from_config  # what the vLLM backend reports, from the config alone

    from_config = meta_from_config(out["output"])
    assert (from_config["non_embedding_params"], from_config["lm_head_params"]) == (meta["non_embedding_params"], meta["lm_head_params"])
    summary = json.loads(run_cli("evaluate", samples, "--k", "1,2", "--workers", 2, "--limit-tasks", 3, "--json").stdout)
    assert summary["samples"] == 6 and summary["flops"]["pass@2"] > summary["flops"]["pass@1"] > 0
    assert summary["coverage"] == {"tasks_with_samples": 3, "tasks_in_benchmark": 3, "fraction": 1.0, "missing": 0,
                                   "first_missing": []}


def test_recipes_and_accelerate_configs_parse():
    import glob

    import yaml

    root = os.path.join(os.path.dirname(__file__), "..", "configs")
    from lintseq.train.pretrain import PretrainConfig

    recipes = sorted(p for p in glob.glob(os.path.join(root, "*.yaml")) if not os.path.basename(p).startswith("experiment_"))
    assert len(recipes) >= 4
    cfgs = {os.path.basename(p): (PretrainConfig if "pretrain" in p else TrainConfig).load(p) for p in recipes}
    assert cfgs["pretrain_tinycodelm150m.yaml"].model == "tinycodelm-150M"
    lintseq, baseline = cfgs["sft_lintseq_tinycodelm150m.yaml"], cfgs["sft_baseline_tinycodelm150m.yaml"]
    assert (lintseq.view, lintseq.epochs, baseline.view, baseline.epochs) == ("editseq", 2, "baseline", 10)
    assert lintseq.lr == 3e-4 and lintseq.global_batch == 512 and lintseq.loss == "sum" and lintseq.warmup_ratio == 0.001
    kinds = {yaml.safe_load(open(p))["distributed_type"] for p in glob.glob(os.path.join(root, "accelerate", "*.yaml"))}
    assert kinds == {"MULTI_GPU", "FSDP", "DEEPSPEED"}


def test_tinycodelm_shapes():
    from lintseq.train.models import model_meta, olmo_config
    from transformers import OlmoForCausalLM

    with torch.device("meta"):
        m = OlmoForCausalLM(olmo_config("150M"))
    meta = model_meta(m)
    assert (meta["n_layer"], meta["d_model"]) == (12, 768)
    assert 150e6 < meta["params"] < 155e6  # the digest's 151.9M with tied 50,304-row embeddings


def test_pretrain_packs_a_local_mix_with_a_locally_trained_tokenizer(tmp_path):
    from lintseq.train.pretrain import PretrainConfig, chunk, pretrain

    readme = os.path.join(os.path.dirname(__file__), "..", "README.md")
    cfg = PretrainConfig.load(None, ["model=tiny", "code=stdlib", f"text={readme}", "max_documents=40",
                                     "vocab_size=800", "max_seq_len=128", "global_batch=8", "micro_batch=4",
                                     "max_steps=12", "lr=3e-3", f"output_dir={tmp_path}"])
    out = pretrain(cfg)
    assert out["documents"] > 10 and sum(out["losses"][-3:]) < sum(out["losses"][:3])
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(out["output"])
    assert 700 <= len(tok) <= 802  # trained here: 800 merges + specials (+ <|diff|>)
    seqs = chunk(["x = 1\n" * 50, "print(2)\n" * 50], tok, 32)
    assert seqs and all(len(s["input_ids"]) == 32 and s["labels"] == s["input_ids"] for s in seqs)
