"""Speed: lintseq generate vs the authors' pylintseq, same programs, same machine, one run.

    python benchmarks/speed.py --programs 40 --workers 1,2 --out-dir bench_out

Both tools run as commands from start to exit on the same HumanEval programs at s = 5 with
the same worker count; ours is timed before and after the peer and the mean of --repeat runs on each side is used (the machine
is shared, and ours takes seconds where the peer takes minutes). Prints sequences/second for each, the ratios, and the peak RSS of the
largest process each ran (the per-worker peak). Peer outputs are kept for benchmarks/fidelity.py.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
from common import humaneval_pairs, timed, write_jsonl  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def count(path: str) -> int:
    with open(path, encoding="utf-8") as fh:
        return sum(1 for line in fh if line.strip())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--programs", type=int, default=40, help="first N HumanEval programs (0 = all 164)")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--samples", "-s", type=int, default=5)
    ap.add_argument("--out-dir", default="bench_out")
    ap.add_argument("--skip-peer", action="store_true", help="time only lintseq")
    ap.add_argument("--repeat", type=int, default=3, help="lintseq runs before and after the peer (default %(default)s)")
    ap.add_argument("--linters", default="fast,hybrid,pylint", help="lintseq linters to time (default %(default)s)")
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    src = write_jsonl(os.path.join(args.out_dir, "humaneval.jsonl"), humaneval_pairs(args.programs or None))
    linters = args.linters.split(",")
    rows = []
    for w in [int(x) for x in args.workers.split(",")]:
        result = {"workers": w}

        def ours(tag):
            for linter in linters:
                out = os.path.join(args.out_dir, f"ours_{linter}_w{w}.jsonl")
                cmd = [sys.executable, "-m", "lintseq.cli", "generate", src, "-o", out, "-s", str(args.samples),
                       "--workers", str(w), "--linter", linter, "--seed", "1", "--overwrite", "-q"]
                sec, rss = timed(cmd)
                result.setdefault(f"{linter}_runs", []).append({"when": tag, "seconds": round(sec, 2)})
                runs = [r["seconds"] for r in result[f"{linter}_runs"]]
                mean = sum(runs) / len(runs)
                result[linter] = {"seconds": round(mean, 2), "seq_per_s": round(count(out) / mean, 2),
                                  "best_seconds": min(runs), "peak_rss_mib": round(rss)}

        # ours runs in seconds, the peer in minutes: timing ours before and after the peer and
        # taking the mean keeps a load change on a shared machine from deciding the ratio
        for _ in range(args.repeat):
            ours("before peer")
        if not args.skip_peer:
            dest = os.path.join(args.out_dir, f"peer_w{w}")
            shutil.rmtree(dest, ignore_errors=True)
            cmd = [sys.executable, os.path.join(HERE, "_pylintseq_shim.py"), "-p", src, "-d", dest,
                   "-c", str(w), "-s", str(args.samples), "--seed", "1"]
            sec, rss = timed(cmd)
            (peer_out,) = glob.glob(os.path.join(dest, "*.jsonl"))
            shutil.copy(peer_out, os.path.join(args.out_dir, f"peer_w{w}.jsonl"))
            result["pylintseq"] = {"seconds": round(sec, 2), "seq_per_s": round(count(peer_out) / sec, 2), "peak_rss_mib": round(rss)}
            for _ in range(args.repeat):
                ours("after peer")
            for linter in linters:
                result[f"ratio_{linter}"] = round(result[linter]["seq_per_s"] / result["pylintseq"]["seq_per_s"], 1)
        rows.append(result)
        print(json.dumps(result), flush=True)
    base = {k: rows[0][k]["seq_per_s"] for k in (*linters, "pylintseq") if k in rows[0]}
    print("\n| workers | tool | seq/s | speed-up vs pylintseq | scaling vs 1 worker | peak RSS/worker MiB |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        for k in (*linters, "pylintseq"):
            if k in r:
                ratio = f"{r[k]['seq_per_s'] / r['pylintseq']['seq_per_s']:.1f}x" if "pylintseq" in r else "-"
                name = "pylintseq 0.0.2" if k == "pylintseq" else f"lintseq --linter {k}"
                print(f"| {r['workers']} | {name} | {r[k]['seq_per_s']} | {ratio} | "
                      f"{r[k]['seq_per_s'] / base[k]:.2f}x | {r[k]['peak_rss_mib']} |")
    with open(os.path.join(args.out_dir, "speed.json"), "w") as fh:
        json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
