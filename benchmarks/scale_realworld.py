"""Scale on real code (issue 18): 10,000 functions and classes of installed third-party packages,
s = 1, 2 workers, the default linter, timed from start to exit; then every sequence's round trip.

    python benchmarks/realworld_build.py --scale --functions 6000 --classes 4000 --modules 0 \\
        -o bench_out/scale10k.jsonl
    python benchmarks/scale_realworld.py --input bench_out/scale10k.jsonl --workers 2

Prints one JSON line: programs, records, rejects, wall seconds, sequences/second, round-trip
failures (must be 0) and the peak RSS of the largest process.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from common import timed  # noqa: E402

from lintseq.diffs import apply_edits  # noqa: E402
from lintseq.generate.pipeline import side_path  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", default="bench_out/scale10k.jsonl")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--samples", "-s", type=int, default=1)
    ap.add_argument("--linter", default="hybrid")
    ap.add_argument("--out", default="bench_out/scale10k_out.jsonl")
    args = ap.parse_args()
    with open(args.input, encoding="utf-8") as fh:
        programs = sum(1 for line in fh if line.strip())
    cmd = [sys.executable, "-m", "lintseq.cli", "generate", args.input, "-o", args.out, "-s", str(args.samples),
           "--workers", str(args.workers), "--linter", args.linter, "--seed", "1", "--overwrite", "-q"]
    seconds, rss = timed(cmd)
    records = bad = 0
    with open(args.out, encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            records += 1
            bad += apply_edits(rec["edits"]).text != rec["program"]
    rejects = 0
    rej = side_path(args.out, "rejects.jsonl")
    if os.path.exists(rej):
        with open(rej, encoding="utf-8") as fh:
            rejects = sum(1 for line in fh if line.strip())
    print(json.dumps({"programs": programs, "records": records, "rejects": rejects, "workers": args.workers,
                      "linter": args.linter, "seconds": round(seconds, 1), "seq_per_s": round(records / seconds, 1),
                      "round_trip_failures": bad, "peak_rss_mib": round(rss)}))


if __name__ == "__main__":
    main()
