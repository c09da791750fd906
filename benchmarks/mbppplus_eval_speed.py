"""Speed: MBPP+ evaluation now (expected outputs computed once per task and cached) against an
earlier commit (the reference re-run inside every sample's sandbox), on the same samples file.

    LINTSEQ_DATA_DIR=../shared/data python benchmarks/mbppplus_eval_speed.py --mix strong --workers 2 --compare b12a659

Two sample mixes per task: ``strong`` (5 samples: the reference twice, a wrong answer twice, a
crash; pass@1 about 40%) and ``small`` (10 samples: the reference once, wrong answers and crashes
otherwise; pass@1 about 10%, a small model's). Both commands run start to exit with the same
workers and time-out; ours runs with an empty cache (it computes every task's expected outputs
first), then again with the cache filled. Prints seconds, the ratios, each side's passes, and
the same ratios on the tasks where the earlier evaluator finished (it timed out on the three
whose reference alone takes most of 10 s, which now run to the end: more work, not less).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from common import git_worktree, write_jsonl  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


MIXES = {"strong": [0, 1, 2, 0, 1], "small": [0, 1, 2, 1, 2, 1, 2, 1, 2, 1]}
SLOW_IN_REF = ("Mbpp/255", "Mbpp/392", "Mbpp/599")  # the earlier evaluator timed these out


def samples(mix: str, exclude=()) -> list[dict]:
    from lintseq.tasks import load_benchmark

    tasks = load_benchmark("mbppplus")
    kinds = [lambda t: t.reference,
             lambda t: f"def {t.test['entry_point']}(*args):\n    return None\n",
             lambda t: f"def {t.test['entry_point']}(*args):\n    raise ValueError('no')\n"]
    return [{"task_id": tid, "solution": kinds[k](t)} for tid, t in tasks.items() if tid not in exclude for k in MIXES[mix]]


def run(src: str, path: str, args, env: dict, extra=()) -> dict:
    cmd = [sys.executable, "-c", "import sys, time, subprocess; t = time.perf_counter(); "
           "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
           "print(time.perf_counter() - t); print(p.returncode); print(p.stderr[-2000:], file=sys.stderr)",
           sys.executable, "-m", "lintseq.cli", "evaluate", path, "-b", "mbppplus", "--k", "1",
           "--workers", str(args.workers), "--timeout", str(args.timeout), "--json", *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**env, "PYTHONPATH": os.path.join(src, "src")})
    seconds, rc = proc.stdout.split()[:2]
    if rc != "0":
        raise RuntimeError(f"evaluate from {src} failed: {proc.stderr}")
    with open(path + "_results.jsonl", encoding="utf-8") as fh:
        passed = [json.loads(line)["passed"] for line in fh]
    return {"seconds": round(float(seconds), 1), "passed": sum(passed), "rows": passed}


def compare(rows: list[dict], work: str, tree: str, args, env: dict, partial: bool) -> dict:
    """Ours (cold cache, then warm) and the earlier commit on one samples file."""
    cache = os.path.join(work, f"cache-{len(rows)}")
    env = {**env, "LINTSEQ_CACHE": cache}
    ours = write_jsonl(os.path.join(work, f"ours-{len(rows)}.jsonl"), rows)
    theirs = write_jsonl(os.path.join(work, f"ref-{len(rows)}.jsonl"), rows)
    flag = ["--allow-partial"] if partial else []
    # an earlier evaluator that already refuses partial files (a --compare after b12a659) gets the flag too
    with open(os.path.join(tree, "src", "lintseq", "evaluate", "pipeline.py"), encoding="utf-8") as fh:
        ref_flag = flag if "allow_partial" in fh.read() else []
    out = {"samples": len(rows), "ours_cold_cache": run(ROOT, ours, args, env, flag),
           "ours_warm_cache": run(ROOT, ours, args, env, flag), "ref": run(tree, theirs, args, env, ref_flag)}
    if "allow_partial" in open(os.path.join(tree, "src", "lintseq", "evaluate", "pipeline.py"), encoding="utf-8").read():
        # an earlier evaluator with the cache (the key holds the runner's hash: it filled its own)
        out["ref_warm_cache"] = run(tree, theirs, args, env, ref_flag)
        out["ref_warm_cache"].pop("rows")
    a, b = out["ours_cold_cache"].pop("rows"), out["ref"].pop("rows")
    out["ours_warm_cache"].pop("rows")
    out["rows_passing_only_ours"] = sum(x and not y for x, y in zip(a, b))
    out["rows_passing_only_ref"] = sum(y and not x for x, y in zip(a, b))
    out["speedup_cold_cache"] = round(out["ref"]["seconds"] / out["ours_cold_cache"]["seconds"], 2)
    out["speedup_warm_cache"] = round(out.get("ref_warm_cache", out["ref"])["seconds"] / out["ours_warm_cache"]["seconds"], 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mix", choices=sorted(MIXES), default="strong")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--compare", default="b12a659", help="git ref of the earlier evaluator (default %(default)s)")
    ap.add_argument("--out", help="write the result JSON here")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="lintseq-mbppplus-speed-")
    result = {"mix": args.mix, "per_task": len(MIXES[args.mix]), "workers": args.workers, "timeout": args.timeout,
              "ref_git": args.compare}
    try:
        with git_worktree(ROOT, args.compare, os.path.join(work, "ref")) as tree:
            result["all_399_tasks"] = compare(samples(args.mix), work, tree, args, os.environ, False)
            result["without_" + "_".join(t.split("/")[1] for t in SLOW_IN_REF)] = compare(
                samples(args.mix, SLOW_IN_REF), work, tree, args, os.environ, True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=1))
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(result, fh, indent=1)


if __name__ == "__main__":
    main()
