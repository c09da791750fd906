"""train/step.py: the fused chunked loss equals full logits (bias too), and a packed row of
documents trains exactly like its documents one by one."""

import pytest
import torch

from lintseq.train.data import Encoded, collate
from lintseq.train.step import LossModel, linear_cross_entropy
from lintseq.train.tokens import IGNORE, add_diff_token, tiny_tokenizer

pytestmark = pytest.mark.usefixtures("one_torch_thread_tmp_cache")


def _tiny(seed=0, vocab_texts=None):
    from lintseq.train.models import build_model

    tok = tiny_tokenizer(vocab_texts)
    add_diff_token(tok)
    torch.manual_seed(seed)
    return build_model("tiny", tok, n_ctx=128), tok


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
