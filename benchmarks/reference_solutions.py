"""Harness check: every benchmark's reference solutions through `lintseq evaluate`.

    LINTSEQ_DATA_DIR=../shared/data python benchmarks/reference_solutions.py --workers 2

Prints, per benchmark, how many reference solutions pass, how many tasks are not runnable here
(missing libraries), and every other non-passing task with its reason.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from lintseq.data.benchmarks import BENCHMARKS, load_benchmark
from lintseq.evaluate.run import EvalConfig, evaluate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--benchmarks", default=",".join(BENCHMARKS))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--out-dir", default="bench_out")
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    for name in args.benchmarks.split(","):
        tasks = load_benchmark(name)
        path = os.path.join(args.out_dir, f"reference_{name}.jsonl")
        with open(path, "w", encoding="utf-8") as fh:
            for tid, task in tasks.items():
                fh.write(json.dumps({"task_id": tid, "solution": task.reference}) + "\n")
        s = evaluate(EvalConfig(path, name, ks=(1,), workers=args.workers, timeout=args.timeout, progress=False))
        print(f"{name}: {s['verdicts'].get('passed', 0)}/{len(tasks)} reference solutions pass; "
              f"{s['not_runnable_tasks']} not runnable here; verdicts {s['verdicts']}", flush=True)
        for line in open(path + "_results.jsonl", encoding="utf-8"):
            r = json.loads(line)
            if not r["passed"] and r["verdict"] != "not_runnable":
                reason = " ".join(r["reason"].split())[-160:]
                print(f"  {r['task_id']}: {r['verdict']}: {reason}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
