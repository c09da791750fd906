"""Training throughput: tokens/s and MFU of the training step ``lintseq train`` runs.

The step is the loop's own (lintseq.train.step): the model wrapped with its fused chunked
linear + cross-entropy, fused AdamW on CUDA, bf16 autocast, ``torch.compile`` of the transformer
body, gradient accumulation over micro-batches and one optimizer step. Inputs are random token
rows of the full sequence length made on the device beforehand, so the number is the model's
training speed, not the data path's. ``--docs-per-row K`` cuts every row into K documents with
restarting positions (boundary-aware packing: block-causal attention).

    MFU = (6 N + 12 n_layer d_model T) * tokens/s / peak,   N = all parameters, T = sequence length,
    peak = 989e12 (one H100 SXM, dense bf16); printed with every run.

    python benchmarks/train_throughput.py --model tinycodelm-150M --seq-len 1024 --micro-batch 16,32
    python benchmarks/train_throughput.py --model tiny --seq-len 256 --micro-batch 8 --steps 5   # CPU
    --model smollm2-135m builds SmolLM2-135M's shape from a config (no download); any checkpoint
    directory works too. --json PATH writes the result.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

import torch  # noqa: E402

from lintseq.train.step import (H100_BF16_FLOPS, LossModel, compile_body, flops_per_token,  # noqa: E402
                                  make_optimizer, use_bf16)
from lintseq.train.models import BUILT, build_model, model_meta  # noqa: E402

SMOLLM2_135M = dict(hidden_size=576, num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3,
                    intermediate_size=1536, vocab_size=49152, max_position_embeddings=8192, rope_theta=100000.0,
                    tie_word_embeddings=True, rms_norm_eps=1e-5)  # SmolLM2-135M(-Instruct)'s config.json


class _Tok:  # the size facts build_model needs, without training a tokenizer
    def __init__(self, n):
        self.n, self.eos_token_id, self.pad_token_id = n, 0, 1

    def __len__(self):
        return self.n


def make_model(name: str, seq_len: int, vocab: int, attn: str):
    from transformers import AutoModelForCausalLM, LlamaConfig

    if name in BUILT:
        return build_model(name, _Tok(min(vocab, 50000)), n_ctx=seq_len, model_vocab=vocab, attn=attn)
    if name == "smollm2-135m":
        return AutoModelForCausalLM.from_config(LlamaConfig(**SMOLLM2_135M), attn_implementation=attn)
    return AutoModelForCausalLM.from_pretrained(name, dtype=torch.float32, attn_implementation=attn)


def rows(batch: int, seq_len: int, vocab: int, docs: int, device):
    ids = torch.randint(0, vocab, (batch, seq_len), device=device)
    targets = torch.roll(ids, -1, dims=1)
    if docs <= 1:
        targets[:, -1] = -100
        return {"input_ids": ids, "targets": targets}
    cut = seq_len // docs
    pos = (torch.arange(seq_len, device=device) % cut).expand(batch, -1).contiguous()
    targets[:, cut - 1::cut] = -100  # the last token of each document predicts nothing
    return {"input_ids": ids, "targets": targets, "position_ids": pos}


def measure(args, micro_batch: int) -> dict:
    device = torch.device("cuda" if torch.cuda.is_available() and not args.cpu else "cpu")
    torch.manual_seed(0)
    lm = make_model(args.model, args.seq_len, args.vocab, args.attn)
    meta = model_meta(lm)
    vocab = lm.config.vocab_size
    model = LossModel(lm, args.ce_chunk).to(device)
    compiled = args.compile == "true" or (args.compile == "auto" and device.type == "cuda")
    if compiled:
        compile_body(model)
    opt = make_optimizer(model, 3e-4, 0.01, device.type)
    bf16 = use_bf16(args.precision) and device.type == "cuda" or args.precision == "bf16"
    batches = [rows(micro_batch, args.seq_len, vocab, args.docs_per_row, device) for _ in range(args.accum)]
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def step():
        for b in batches:
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                loss = model(**b)
            (loss / 1000).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    for _ in range(args.warmup):
        first = step()
    sync()
    warm_s = time.perf_counter() - t
    t = time.perf_counter()
    for _ in range(args.steps):
        last = step()
    sync()
    dt = time.perf_counter() - t
    tokens = args.steps * args.accum * micro_batch * args.seq_len
    rate = tokens / dt
    fpt = flops_per_token(meta["params"], meta["n_layer"], meta["d_model"], args.seq_len)
    out = {"model": args.model, "params": meta["params"], "n_layer": meta["n_layer"], "d_model": meta["d_model"],
           "vocab": vocab, "seq_len": args.seq_len, "micro_batch": micro_batch, "accum": args.accum,
           "docs_per_row": args.docs_per_row, "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
           "threads": torch.get_num_threads(), "bf16": bf16, "compile": compiled, "attn": args.attn, "ce_chunk": args.ce_chunk,
           "warmup_s": round(warm_s, 2), "steps": args.steps, "seconds": round(dt, 3), "tokens_per_s": round(rate, 1),
           "flops_per_token": fpt, "first_loss": first.item() / (micro_batch * args.seq_len), "last_loss": last.item() / (micro_batch * args.seq_len),
           "torch": torch.__version__}
    if device.type == "cuda":
        out["mfu"] = round(fpt * rate / H100_BF16_FLOPS, 4)
        out["peak_mem_gb"] = round(torch.cuda.max_memory_allocated() / 1e9, 2)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="tinycodelm-150M", help="tiny, tinycodelm-150M/-400M, smollm2-135m, or a checkpoint dir")
    ap.add_argument("--seq-len", type=int, default=1024)
    ap.add_argument("--micro-batch", default="32", help="comma list: each is measured (an OOM is recorded and skipped)")
    ap.add_argument("--accum", type=int, default=4, help="micro-batches per optimizer step")
    ap.add_argument("--steps", type=int, default=10, help="timed optimizer steps")
    ap.add_argument("--warmup", type=int, default=3, help="untimed optimizer steps first (compilation happens here)")
    ap.add_argument("--vocab", type=int, default=50304, help="embedding rows of a model built from a config")
    ap.add_argument("--docs-per-row", type=int, default=1)
    ap.add_argument("--compile", default="auto", choices=["auto", "true", "false"])
    ap.add_argument("--attn", default="sdpa")
    ap.add_argument("--ce-chunk", type=int, default=8192, help="0: the full-logit loss")
    ap.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"])
    ap.add_argument("--cpu", action="store_true")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print("MFU = (6*N + 12*n_layer*d_model*seq_len) * tokens/s / 989e12  (N = all parameters; one H100, dense bf16)")
    results = []
    for mb in [int(x) for x in args.micro_batch.split(",")]:
        try:
            r = measure(args, mb)
        except torch.OutOfMemoryError:
            r = {"model": args.model, "micro_batch": mb, "error": "out of memory"}
            torch.cuda.empty_cache()
        results.append(r)
        print(json.dumps(r), flush=True)
        if args.json:  # after every size: a timeout still leaves what was measured
            with open(args.json, "w") as fh:
                json.dump({"formula": "MFU = (6N + 12 L d T) * tokens/s / 989e12", "results": results}, fh, indent=1)
    ok = [r for r in results if "tokens_per_s" in r]
    if ok:
        best = max(ok, key=lambda r: r["tokens_per_s"])
        mfu = f", MFU {best['mfu']:.1%}" if "mfu" in best else ""
        print(f"best: micro-batch {best['micro_batch']}: {best['tokens_per_s']:,.0f} tokens/s{mfu} on {best['device']}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
