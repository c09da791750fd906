"""The speed levers change no numbers: the fused chunked loss, boundary-aware packing, compile and
the token cache give the losses of the plain path; and the model facts of issue 9 (paper vocab,
context length from the run, checkpoint paths, fast failure on a missing model)."""

import json
import os

import numpy as np
import pytest
import torch

from lintseq.errors import LintseqError
from lintseq.generate import GenerateConfig, generate
from lintseq.train.config import TrainConfig
from lintseq.train.data import Encoded, collate, encode_file, encode_records, rows
from lintseq.train.step import LossModel, linear_cross_entropy
from lintseq.train.loop import train
from lintseq.train.tokens import IGNORE, add_diff_token, load_examples, tiny_tokenizer


pytestmark = pytest.mark.usefixtures("one_torch_thread_tmp_cache")


@pytest.fixture(scope="module")
def seqs(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("seqs") / "seqs.jsonl")
    generate(GenerateConfig(output=out, limit=40, samples=2, progress=False))
    return out


def _cfg(data, out, **kw):
    base = dict(model="tiny", data=data, output_dir=str(out), global_batch=8, micro_batch=4, max_steps=4,
                lr=3e-3, max_seq_len=256, warmup_ratio=0.1, seed=1)
    base.update(kw)
    return TrainConfig.load(None, [f"{k}={v}" for k, v in base.items()])


def test_fused_linear_cross_entropy_equals_full_logits():
    g = torch.Generator().manual_seed(0)
    h = torch.randn(37, 16, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(50, 16, generator=g, dtype=torch.float64, requires_grad=True)
    t = torch.randint(0, 50, (37,), generator=g)
    t[::5] = IGNORE
    ref = torch.nn.functional.cross_entropy(h @ w.T, t, ignore_index=IGNORE, reduction="sum")
    gh, gw = torch.autograd.grad(ref * 0.7, (h, w))
    got = linear_cross_entropy(h, w, t, chunk=8)  # 5 chunks, the last one short
    fh, fw = torch.autograd.grad(got * 0.7, (h, w))
    assert torch.allclose(got, ref.float(), rtol=1e-6)
    assert torch.allclose(fh, gh, rtol=1e-5, atol=1e-6) and torch.allclose(fw, gw, rtol=1e-5, atol=1e-6)  # fp32 softmax
    # bf16 autocast: matmuls in bf16, softmax in fp32; close to the exact value
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = linear_cross_entropy(h.float(), w.float(), t, chunk=8)
    assert low.dtype == torch.float32 and abs(low.item() - ref.item()) / ref.item() < 2e-2


def test_fused_loss_keeps_an_output_bias():
    g = torch.Generator().manual_seed(1)
    h = torch.randn(21, 8, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(30, 8, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(30, generator=g, dtype=torch.float64, requires_grad=True)
    t = torch.randint(0, 30, (21,), generator=g)
    t[::4] = IGNORE
    ref = torch.nn.functional.cross_entropy(h @ w.T + b, t, ignore_index=IGNORE, reduction="sum")
    want = torch.autograd.grad(ref, (h, w, b))
    got = linear_cross_entropy(h, w, t, chunk=8, bias=b)
    have = torch.autograd.grad(got, (h, w, b))
    assert torch.allclose(got, ref.float(), rtol=1e-6)
    assert all(torch.allclose(x, y, rtol=1e-5, atol=1e-6) for x, y in zip(have, want))


def test_a_model_whose_head_has_a_bias_trains_the_same_fused_or_not():
    model, tok = _tiny()
    head = model.get_output_embeddings()
    head.bias = torch.nn.Parameter(torch.linspace(-2, 2, head.weight.shape[0]))
    ids = torch.tensor([tok("def f(x):\n    return x", add_special_tokens=False)["input_ids"]])
    targets = torch.cat([ids[:, 1:], torch.full((1, 1), IGNORE)], dim=1)
    fused, full = LossModel(model, ce_chunk=4)(ids, targets), LossModel(model, ce_chunk=0)(ids, targets)
    assert fused.item() == pytest.approx(full.item(), rel=1e-5)
    g_fused = torch.autograd.grad(fused, head.bias)[0]
    g_full = torch.autograd.grad(full, head.bias)[0]
    assert torch.allclose(g_fused, g_full, rtol=1e-4, atol=1e-6) and g_full.abs().sum() > 0


def test_packing_needs_a_transformers_that_masks_across_documents():
    from lintseq.train.loop import check_packing_support

    check_packing_support(True, "4.54.0")
    check_packing_support(False, "4.46.0")  # without packing any supported version is fine
    with pytest.raises(LintseqError, match="4.54"):
        check_packing_support(True, "4.53.2")


def test_switches_and_booleans_are_parsed_in_one_place():
    assert TrainConfig.load(None, ["compile=on", "packing=Yes"]).compile == "true"
    assert TrainConfig.load(None, ["compile=off"]).compile == "false"
    with pytest.raises(LintseqError, match="compile='maybe'"):
        TrainConfig.load(None, ["compile=maybe"])
    with pytest.raises(LintseqError, match="packing='sure'"):
        TrainConfig.load(None, ["packing=sure"])
    from lintseq.experiment import ExperimentConfig
    from lintseq.cliargs import load_config

    assert load_config(ExperimentConfig, None, ["compile=on"]).train.compile == "true"
    assert load_config(ExperimentConfig, None, ["train.compile=off"]).train.compile == "false"


def _tiny(seed=0, vocab_texts=None):
    from lintseq.train.models import build_model

    tok = tiny_tokenizer(vocab_texts)
    add_diff_token(tok)
    torch.manual_seed(seed)
    return build_model("tiny", tok, n_ctx=128), tok


def test_a_packed_row_trains_exactly_like_its_examples_one_by_one():
    model, tok = _tiny()
    texts = [("Write f.\n<|diff|>", "@@ -0,0 +1 @@\n+x = 1\n<|diff|>\n<|diff|>"), ("Add.\n", "def add(a, b):\n    return a + b"),
             ("Loop over the items and print them.\n<|diff|>", "@@ -0,0 +1,2 @@\n+for i in items:\n+    print(i)\n<|diff|>\n<|diff|>")]
    enc = Encoded.from_examples([{"input_ids": (p := tok(a, add_special_tokens=False)["input_ids"]) + (c := tok(b, add_special_tokens=False)["input_ids"]),
                                  "labels": [IGNORE] * len(p) + c} for a, b in texts])
    lm = LossModel(model, ce_chunk=5)
    packed = collate(enc, [[0, 1, 2]], tok.pad_token_id)
    alone = collate(enc, [[0], [1], [2]], tok.pad_token_id)
    loss_p = lm(packed["input_ids"], packed["targets"], packed["position_ids"])
    grad_p = torch.autograd.grad(loss_p, list(lm.parameters()))
    loss_a = lm(alone["input_ids"], alone["targets"])  # one example per row: plain causal attention
    grad_a = torch.autograd.grad(loss_a, list(lm.parameters()))
    assert loss_p.item() == pytest.approx(loss_a.item(), rel=1e-5)
    assert all(torch.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(grad_p, grad_a))
    # without restarting positions attention crosses examples: the loss changes (the check has teeth)
    crossed = lm(packed["input_ids"], packed["targets"], torch.arange(packed["input_ids"].shape[1])[None])
    assert abs(crossed.item() - loss_a.item()) > 1e-3 * loss_a.item()
    # and the plain full-logit path agrees with the fused one
    assert LossModel(model, ce_chunk=0)(alone["input_ids"], alone["targets"]).item() == pytest.approx(loss_a.item(), rel=1e-5)


def test_label_token_counts():
    enc = Encoded.from_examples([{"input_ids": [5, 6, 7], "labels": [-100, 6, 7]}, {"input_ids": [8, 9], "labels": [8, 9]},
                                 {"input_ids": [1, 2, 3], "labels": [1, -100, 3]}])
    assert [enc.label_tokens(i) for i in range(3)] == [2, 1, 1]  # the first position predicts nothing


def test_packing_rows_fit_and_keep_every_example():
    enc = Encoded.from_examples([{"input_ids": [1] * n, "labels": [1] * n} for n in (200, 30, 90, 250, 60, 10, 256)])
    table = rows(enc, 256, packing=True)
    assert sorted(i for r in table for i in r) == list(range(7))
    assert all(sum(int(enc.lengths[i]) for i in r) <= 256 for r in table)
    assert len(table) == 4  # 256 | 250 | 200+30+10 | 90+60 (best fit, longest first)


def test_packing_on_and_off_give_the_same_training_losses(seqs, tmp_path):
    small = tmp_path / "small.jsonl"  # the 12 shortest records: several fit in one row
    lines = sorted(open(seqs).readlines(), key=lambda l: len(json.loads(l)["prompt"] + json.loads(l)["completion"]))
    small.write_text("".join(lines[:12]))
    # one global batch = the whole file, so each step sees the same examples packed or not;
    # a mean loss (over label tokens) makes the two runs' objectives identical
    off = train(_cfg(str(small), tmp_path / "off", global_batch=12, micro_batch=4, loss="mean", max_seq_len=512))
    from lintseq.train.models import load_model_and_tokenizer
    from lintseq.train.loop import _texts

    _, tok = load_model_and_tokenizer("tiny", _texts(str(small), "editseq"), 1)
    add_diff_token(tok)
    enc, _ = encode_file(str(small), tok, "editseq", 512, False, "none")
    n_rows = len(rows(enc, 512, packing=True))
    assert n_rows < 12  # something was packed
    on = train(_cfg(str(small), tmp_path / "on", global_batch=n_rows, micro_batch=n_rows, loss="mean", packing="true",
                    max_seq_len=512))
    assert on["rows"] == n_rows and off["rows"] == 12
    assert on["losses"] == pytest.approx(off["losses"], rel=1e-4)


@pytest.mark.parametrize("packing", ["false", "true"])
def test_compile_on_and_off_give_the_same_losses(seqs, tmp_path, packing):
    kw = dict(packing=packing, max_seq_len=512, max_steps=3)  # rows of 512: several examples fit in one
    eager = train(_cfg(seqs, tmp_path / "eager", compile="false", **kw))
    graph = train(_cfg(seqs, tmp_path / "graph", compile="true", compile_backend="aot_eager", **kw))
    assert (graph["rows"] < graph["examples"]) == (packing == "true")  # packed rows: the block-mask path
    assert graph["losses"] == pytest.approx(eager["losses"], rel=1e-4)


@pytest.mark.slow
def test_inductor_compile_gives_the_same_losses(seqs, tmp_path):
    eager = train(_cfg(seqs, tmp_path / "eager", compile="false", max_steps=3))
    graph = train(_cfg(seqs, tmp_path / "graph", compile="true", compile_backend="inductor", max_steps=3))
    assert graph["losses"] == pytest.approx(eager["losses"], rel=1e-3)


def test_token_cache_is_written_once_then_mapped_and_changes_nothing(seqs, tmp_path):
    cache = str(tmp_path / "tok")
    first = train(_cfg(seqs, tmp_path / "a", cache_dir=cache))
    second = train(_cfg(seqs, tmp_path / "b", cache_dir=cache))
    off = train(_cfg(seqs, tmp_path / "c", cache_dir="none"))
    assert (first["cache"], second["cache"], off["cache"]) == ("written", "hit", "off")
    assert first["losses"] == second["losses"] == off["losses"]
    (folder,) = os.listdir(os.path.join(cache, "tokens"))
    tok = tiny_tokenizer()
    add_diff_token(tok)
    enc, info = encode_file(seqs, tok, "editseq", 256, False, cache)
    assert info["cache"] == "written"  # another tokenizer: another key
    again, info = encode_file(seqs, tok, "editseq", 256, False, cache)
    assert info["cache"] == "hit" and isinstance(again.ids, np.memmap)
    changed = tmp_path / "changed.jsonl"
    changed.write_text(open(seqs).read().replace("def ", "def  ", 1))
    assert encode_file(str(changed), tok, "editseq", 256, False, cache)[1]["cache"] == "written"
    assert len(os.listdir(os.path.join(cache, "tokens"))) == 3


def test_batched_encoding_equals_the_reference_encoder(seqs):
    tok = tiny_tokenizer()
    add_diff_token(tok)
    for view in ("editseq", "baseline"):
        ref = load_examples(seqs, tok, view, 200, dedupe_programs=view == "baseline")
        got = encode_records(seqs, tok, view, 200, view == "baseline", batch=7)
        assert [(e["input_ids"], e["labels"]) for e in ref] == [(e["input_ids"], e["labels"]) for e in got]


def test_max_seq_len_reaches_a_model_built_from_a_config(seqs, tmp_path):
    train(_cfg(seqs, tmp_path / "ctx", max_seq_len=192, max_steps=1))
    assert json.load(open(tmp_path / "ctx" / "final" / "config.json"))["max_position_embeddings"] == 192


def test_tinycodelm_150m_is_built_at_the_paper_shape():
    from lintseq.train.models import build_model, model_meta

    tok = tiny_tokenizer(vocab_size=600)  # a locally trained tokenizer is far smaller than 50,304
    with torch.device("meta"):
        m = build_model("tinycodelm-150M", tok, n_ctx=1024)
    meta = model_meta(m)
    assert m.config.vocab_size == 50304 and m.config.max_position_embeddings == 1024
    assert 150e6 < meta["params"] < 155e6 and (meta["n_layer"], meta["d_model"]) == (12, 768)
    assert m.config._attn_implementation == "sdpa"


def test_pretrain_continues_from_a_checkpoint_path_with_a_dash(tmp_path):
    from lintseq.train.pretrain import PretrainConfig, pretrain

    common = ["code=stdlib", "max_documents=20", "vocab_size=500", "max_seq_len=64", "global_batch=4", "micro_batch=4",
              "max_steps=2", "lr=1e-3"]
    first = pretrain(PretrainConfig.load(None, ["model=tiny", *common, f"output_dir={tmp_path / 'run-150M'}"]))
    ckpt = first["output"]  # .../run-150M/final: not a size name
    again = pretrain(PretrainConfig.load(None, [f"model={ckpt}", *common, f"output_dir={tmp_path / 'more'}"]))
    assert len(again["losses"]) == 2
    assert json.load(open(tmp_path / "more" / "final" / "config.json"))["num_hidden_layers"] == 2


def test_a_missing_local_model_fails_at_once_naming_the_import(monkeypatch):
    from lintseq.train.models import load_model_and_tokenizer

    # offline, and online with a hub that refuses every connection: the path is refused as a
    # missing local model before any hub call (a hub call would fail with a connection error,
    # not this message), so it is immediate whatever the network does
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    for offline in ("1", "0"):
        monkeypatch.setenv("HF_HUB_OFFLINE", offline)
        with pytest.raises(LintseqError, match="import-gguf"):
            load_model_and_tokenizer("models/smollm2-135m-instruct")
    with pytest.raises(LintseqError, match="no such directory"):
        load_model_and_tokenizer("./runs/missing-150M/final")
