"""Harness check: every benchmark's reference solutions through `lintseq evaluate`.

    LINTSEQ_DATA_DIR=../shared/data python benchmarks/reference_solutions.py --workers 2

Prints, per benchmark, how many reference solutions pass, how many tasks are not runnable here
(missing libraries), the seconds it took, and every other non-passing task with its reason.
DS-1000 and CodeContests come from the data folder when it has them (ds1000/, code_contests/),
else from the fixture files in tests/fixtures/benchmarks (said in the output).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from lintseq.tasks import BENCHMARKS, data_dir, load_benchmark
from lintseq.evaluate.pipeline import EvalConfig, evaluate

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "fixtures", "benchmarks")
FIXTURE_FOLDERS = {"ds1000": "ds1000", "codecontests": "code_contests"}


def source(name: str, folder: str | None) -> tuple[str | None, str]:
    """(data folder to load ``name`` from, how to describe it)."""
    sub = FIXTURE_FOLDERS.get(name)
    if sub and not (folder and os.path.isdir(os.path.join(folder, sub))):
        return FIXTURES, "fixture files (tests/fixtures/benchmarks)"
    return folder, f"from {folder}" if folder else "from the package or the hub"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--benchmarks", default=",".join(BENCHMARKS))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--out-dir", default="bench_out")
    ap.add_argument("--data-dir", help="benchmark data folder (default $LINTSEQ_DATA_DIR)")
    ap.add_argument("--protocol", default="default", help="MBPP+ task set: default, release or authors")
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    for name in args.benchmarks.split(","):
        folder, what = source(name, data_dir(args.data_dir))
        tasks = load_benchmark(name, folder, protocol=args.protocol if name == "mbppplus" else "default")
        path = os.path.join(args.out_dir, f"reference_{name}.jsonl")
        with open(path, "w", encoding="utf-8") as fh:
            for tid, task in tasks.items():
                # DS-1000's reference is the code after its prompt (a completion), the others whole programs
                fh.write(json.dumps({"task_id": tid, "completion" if name == "ds1000" else "solution": task.reference}) + "\n")
        start = time.perf_counter()
        s = evaluate(EvalConfig(path, name, ks=(1,), workers=args.workers, timeout=args.timeout, progress=False,
                                data_dir=folder, protocol=args.protocol if name == "mbppplus" else "default"))
        print(f"{name} ({what}): {s['verdicts'].get('passed', 0)}/{len(tasks)} reference solutions pass; "
              f"{s['not_runnable_tasks']} not runnable here; verdicts {s['verdicts']}; "
              f"{time.perf_counter() - start:.0f} s", flush=True)
        for group, g in s.get("per_group", {}).items():
            score = f"pass@1 {g['pass@1']:.2f}" if "pass@1" in g else "pass@1 -"
            print(f"  {group}: {g['tasks_scored']} scored, {score}, {g['not_runnable']} not runnable")
        for line in open(path + "_results.jsonl", encoding="utf-8"):
            r = json.loads(line)
            if not r["passed"] and r["verdict"] != "not_runnable":
                reason = " ".join(r["reason"].split())[-160:]
                print(f"  {r['task_id']}: {r['verdict']}: {reason}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
