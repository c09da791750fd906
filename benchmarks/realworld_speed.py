"""Real-code speed: lintseq generate (default linter) vs the authors' pylintseq on real-world
programs (functions, classes and modules of installed packages: benchmarks/realworld_build.py),
side by side in one run, with the share of states that went to pylint and the fidelity of ours.

    python benchmarks/realworld_build.py -o /tmp/lintseq_realworld.jsonl
    python benchmarks/realworld_speed.py --input /tmp/lintseq_realworld.jsonl --programs 40 \\
        --samples 1,5 --workers 1,2 --out-dir bench_out/realworld

For each (s, workers) both tools run as commands from start to exit on the same programs (an
evenly spaced subset of --programs rows, so functions, classes and modules all appear); ours is
timed before and after the peer and the mean is used (the machine is shared: see the README).
Then, in this process, the same programs are sampled again with the hybrid oracle to count the
states it was asked about and how many went to pylint (sampling is deterministic, so these are
the states of the timed run), and every intermediate state of our timed output is checked with
pylint under the paper's criteria (pylint-clean share; environment-dependent messages counted
apart, as in benchmarks/fidelity.py). The records of the different worker counts are compared
too (they must be identical; any that differ are printed). Prints one markdown table (the
README's) and writes realworld_speed.json.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
from common import timed, write_jsonl  # noqa: E402
from fidelity import load, pylint_clean_fraction, states  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 1  # both tools' --seed, and the in-process recount of the states asked


def subset(rows: list[dict], n: int) -> list[dict]:
    """``n`` evenly spaced rows (all when n is 0 or too large)."""
    if not n or n >= len(rows):
        return rows
    step = len(rows) / n
    return [rows[int(k * step)] for k in range(n)]


def pylint_share(path: str, samples: int, linter: str = "hybrid") -> dict:
    """States the default (hybrid) oracle was asked about for these programs, and how many it
    sent to pylint, sampling in this process exactly as `generate` does."""
    from lintseq.data.sources import Row
    from lintseq.generate import records
    from lintseq.oracle.hybrid import HybridLinter

    hybrid = HybridLinter(installed=linter == "hybrid")
    records._LINTERS[linter] = hybrid  # the per-process linter generate would build: ours, counted
    spec = records.JobSpec(samples=samples, linter=linter, seed=SEED)
    for i, r in enumerate(load(path)):
        records.process_row(Row(i, r["instruction"], r["response"]), spec)
    return {"states": hybrid.states, "pylint_calls": hybrid.pylint_calls, "delta_skips": hybrid.delta_skips,
            "inert_skips": hybrid.inert_skips,
            "share": round(hybrid.pylint_calls / max(hybrid.states, 1), 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", default="/tmp/lintseq_realworld.jsonl", help="realworld_build.py output")
    ap.add_argument("--programs", type=int, default=40, help="evenly spaced subset (0 = all; default %(default)s)")
    ap.add_argument("--samples", default="1,5", help="values of s (default %(default)s)")
    ap.add_argument("--workers", default="1,2", help="worker counts (default %(default)s)")
    ap.add_argument("--linters", default="hybrid,hybrid-stdlib", help="our linters (default %(default)s; hybrid is the default)")
    ap.add_argument("--repeat", type=int, default=1, help="our runs before and after the peer (default %(default)s)")
    ap.add_argument("--skip-peer", action="store_true")
    ap.add_argument("--out-dir", default="bench_out/realworld")
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    rows = subset(load(args.input), args.programs)
    src = write_jsonl(os.path.join(args.out_dir, "programs.jsonl"),
                      [{"instruction": r["instruction"], "response": r["response"]} for r in rows])
    linters = args.linters.split(",")
    results = []
    for s in [int(x) for x in args.samples.split(",")]:
        for w in [int(x) for x in args.workers.split(",")]:
            runs: dict[str, list[float]] = {k: [] for k in linters}

            def ours(tag_runs=runs):
                for linter in linters:
                    out = os.path.join(args.out_dir, f"ours_{linter}_s{s}_w{w}.jsonl")
                    cmd = [sys.executable, "-m", "lintseq.cli", "generate", src, "-o", out, "-s", str(s),
                           "--workers", str(w), "--linter", linter, "--seed", str(SEED), "--overwrite", "-q"]
                    tag_runs[linter].append(timed(cmd)[0])

            for _ in range(args.repeat):
                ours()
            peer = None
            if not args.skip_peer:
                dest = os.path.join(args.out_dir, f"peer_s{s}_w{w}")
                shutil.rmtree(dest, ignore_errors=True)
                peer_cmd = [sys.executable, os.path.join(HERE, "_pylintseq_shim.py"), "-p", src, "-d", dest,
                            "-c", str(w), "-s", str(s), "--seed", str(SEED)]
                sec, _ = timed(peer_cmd)
                (peer_out,) = glob.glob(os.path.join(dest, "*.jsonl"))
                peer = {"seconds": round(sec, 1), "seq_per_s": round(len(load(peer_out)) / sec, 3)}
                for _ in range(args.repeat):
                    ours()
            for linter in linters:
                recs = load(os.path.join(args.out_dir, f"ours_{linter}_s{s}_w{w}.jsonl"))
                mean = sum(runs[linter]) / len(runs[linter])
                res: dict = {"programs": len(rows), "s": s, "workers": w, "linter": linter,
                             "lintseq": {"seconds": round(mean, 2), "runs": [round(r, 2) for r in runs[linter]],
                                         "seq_per_s": round(len(recs) / mean, 2)}}
                if peer:
                    res["pylintseq"] = peer
                    res["ratio"] = round(res["lintseq"]["seq_per_s"] / peer["seq_per_s"], 1)
                results.append(res)
                print(json.dumps(res), flush=True)
    # sampling must not depend on workers (each state judged as if it came first): checked
    # here record by record, then one share and one fidelity per (s, linter)
    for s, linter in sorted({(r["s"], r["linter"]) for r in results}):
        counts = sorted({r["workers"] for r in results if r["s"] == s})
        outs = [{rec["id"]: (rec["edits"], rec["original_errors"]) for rec in
                 load(os.path.join(args.out_dir, f"ours_{linter}_s{s}_w{n}.jsonl"))} for n in counts]
        differing = sorted({k for out in outs[1:] for k in outs[0] if out.get(k) != outs[0][k]})
        if differing:
            print(f"records differ between {counts} workers (s = {s}, {linter}): {len(differing)}, "
                  f"e.g. {differing[:5]}", flush=True)
        w = counts[0]
        share = pylint_share(src, s, linter) if linter.startswith("hybrid") else None
        recs = load(os.path.join(args.out_dir, f"ours_{linter}_s{s}_w{w}.jsonl"))
        pairs = [(st, r["program"]) for r in recs for st in states(r)]
        fid = pylint_clean_fraction([p for p, _ in pairs], originals=[o for _, o in pairs])
        for r in results:
            if r["s"] == s and r["linter"] == linter:
                r["pylint_share"], r["fidelity"], r["records_differing_across_workers"] = share, fid, len(differing)
    print("\n| programs | s | workers | linter | lintseq seq/s | pylintseq seq/s | ratio | states to pylint |"
          " pylint-clean states |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        peer = r.get("pylintseq", {}).get("seq_per_s", "-")
        share = f"{100 * r['pylint_share']['share']:.1f}%" if r.get("pylint_share") else "-"
        fid = r["fidelity"]
        print(f"| {r['programs']} | {r['s']} | {r['workers']} | `{r['linter']}` | {r['lintseq']['seq_per_s']} | {peer} | "
              f"{str(r['ratio']) + 'x' if 'ratio' in r else '-'} | {share} | "
              f"{100 * fid['fraction_clean']:.2f}% of {fid['states']} |")
    with open(os.path.join(args.out_dir, "realworld_speed.json"), "w") as fh:
        json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
