"""DS-1000 on the real release, side by side: `lintseq evaluate` (a fresh bubblewrap sandbox per
program) against the official harness's own assembly run in plain subprocesses.

    LINTSEQ_DATA_DIR=../shared/data python benchmarks/ds1000_run.py --workers 2 \
        --seaborn-data ../shared/data/seaborn-data [--limit 150] [--wrong] [--out ds1000_run.json]

The official way (xlang-ai/DS-1000, test_ds1000.py): for each problem the program is
``code_context + "\\n" + f"code = {answer!r}\\n" + "test_execution(code)\\n"`` plus
``"test_string(code)\\n"`` when the context defines it, executed with a 120 s limit; it passes
when it runs to the end. Here that program is written to a fresh temporary folder and run as
``python test.py`` (a new interpreter per problem, no isolation, the user's environment with
``SEABORN_DATA`` set as its README says when ``--seaborn-data`` is given), ``--workers`` at a time.

The answers are the references (``--wrong`` adds one wrong answer per problem: ``result = None``,
or a wrong plot for Matplotlib). ``--limit N`` takes N problems stratified by library (each
library's share of the 1,000, its problems evenly spaced), else all 1,000. Both arms run the
problems ours finds runnable (installed libraries, no download it cannot serve); the rest are
counted as not_runnable and not run by the official arm (it would fail them on the import or the
download). Reports pass counts, every disagreement, and the wall-time ratio at equal workers.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

from lintseq.tasks import data_dir, load_benchmark
from lintseq.tasks.ds1000 import TIME_LIMIT, network_reason
from lintseq.evaluate.pipeline import EvalConfig, evaluate


def stratified(rows: list[dict], limit: int) -> list[dict]:
    """``limit`` rows, each library's share of them (largest remainders), evenly spaced in it."""
    if not limit or limit >= len(rows):
        return rows
    by = defaultdict(list)
    for r in rows:
        by[r["metadata"]["library"]].append(r)
    quota = {lib: limit * len(v) / len(rows) for lib, v in by.items()}
    take = {lib: int(q) for lib, q in quota.items()}
    for lib in sorted(quota, key=lambda k: quota[k] - take[k], reverse=True)[: limit - sum(take.values())]:
        take[lib] += 1
    out = []
    for lib, v in by.items():
        n = take[lib]
        out += [v[int(i * len(v) / n)] for i in range(n)] if n else []
    return sorted(out, key=lambda r: r["metadata"]["problem_id"])


def wrong_answer(row: dict) -> str:
    return "plt.plot([0, 1], [1, 0])\n" if row["metadata"]["library"] == "Matplotlib" else "result = None\n"


def official_program(context: str, answer: str) -> str:
    """test_ds1000.py's assembly of one problem's test program."""
    return (context + "\n" + f"code = {answer!r}\n" + "test_execution(code)\n"
            + ("test_string(code)\n" if "test_string(" in context else "\n"))


def run_official(program: str, timeout: float, env: dict) -> tuple[str, str]:
    """One program in a plain subprocess in a fresh folder: (passed / failed / timed_out, last error line)."""
    with tempfile.TemporaryDirectory(prefix="ds1000-official-") as tmp:
        with open(os.path.join(tmp, "test.py"), "w", encoding="utf-8") as fh:
            fh.write(program)
        try:
            proc = subprocess.run([sys.executable, "test.py"], cwd=tmp, env=env, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            return "timed_out", f"no result within {timeout:g} s"
    if proc.returncode == 0:
        return "passed", ""
    lines = proc.stderr.strip().splitlines()
    return "failed", lines[-1][:300] if lines else f"exit status {proc.returncode}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", help="folder with ds1000/ds1000.jsonl(.gz) (default $LINTSEQ_DATA_DIR)")
    ap.add_argument("--seaborn-data", help="folder with seaborn-data's CSVs (both arms use it)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="N problems stratified by library (default: all 1,000)")
    ap.add_argument("--wrong", action="store_true", help="also one wrong answer per problem")
    ap.add_argument("--official-first", action="store_true", help="run the official arm first (default: ours first)")
    ap.add_argument("--out", default="ds1000_run.json")
    args = ap.parse_args()
    folder = data_dir(args.data_dir)
    if not folder or not os.path.isdir(os.path.join(folder, "ds1000")):
        sys.exit("no DS-1000 release: give --data-dir (or LINTSEQ_DATA_DIR) with ds1000/ds1000.jsonl.gz")
    path = os.path.join(folder, "ds1000", "ds1000.jsonl.gz")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        rows = stratified([json.loads(line) for line in fh], args.limit)
    tasks = load_benchmark("ds1000", folder)
    answers = []  # (task_id, kind, answer, row)
    for r in rows:
        tid = f"DS-1000/{r['metadata']['problem_id']}"
        answers.append((tid, "reference", r["reference_code"], r))
        if args.wrong:
            answers.append((tid, "wrong", wrong_answer(r), r))
    runnable = {tid for tid, *_ in answers
                if not tasks[tid].missing_modules() and not network_reason(tasks[tid].test, args.seaborn_data)}
    work = tempfile.mkdtemp(prefix="ds1000-run-")
    samples = os.path.join(work, "samples.jsonl")
    with open(samples, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps({"task_id": tid, "completion": a}) + "\n" for tid, _, a, _ in answers)

    def ours():
        start = time.perf_counter()
        evaluate(EvalConfig(samples, "ds1000", ks=(1,), workers=args.workers, data_dir=folder, progress=False,
                            allow_partial=True, seaborn_data=args.seaborn_data))
        seconds = time.perf_counter() - start
        with open(samples + "_results.jsonl", encoding="utf-8") as fh:
            return [(r["verdict"], r["reason"]) for r in map(json.loads, fh)], seconds

    def theirs():
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1")
        if args.seaborn_data:
            env["SEABORN_DATA"] = os.path.abspath(args.seaborn_data)
        env.pop("PYTHONPATH", None)  # the problems need only the installed libraries
        todo = [(i, official_program(row["code_context"], a)) for i, (tid, _, a, row) in enumerate(answers) if tid in runnable]
        out = [("not_run", "not runnable here (ours)")] * len(answers)
        start = time.perf_counter()
        with ThreadPoolExecutor(args.workers) as pool:
            for i, got in zip([i for i, _ in todo], pool.map(lambda p: run_official(p, TIME_LIMIT, env), [p for _, p in todo])):
                out[i] = got
        return out, time.perf_counter() - start

    load = os.getloadavg()
    if args.official_first:
        (off, off_s), (mine, mine_s) = theirs(), ours()
    else:
        (mine, mine_s), (off, off_s) = ours(), theirs()
    table = defaultdict(Counter)
    disagree = []
    for (tid, kind, _, row), (v, why), (ov, owhy) in zip(answers, mine, off):
        table[f"{kind} ours"][v] += 1
        table[f"{kind} official"][ov] += 1
        if tid in runnable and (v == "passed") != (ov == "passed"):
            disagree.append({"task_id": tid, "answer": kind, "library": row["metadata"]["library"],
                             "ours": v, "ours_reason": why[-300:], "official": ov, "official_reason": owhy})
    n_runnable = sum(1 for tid, *_ in answers if tid in runnable)
    report = {"problems": len(rows), "answers": len(answers), "runnable_answers": n_runnable, "workers": args.workers,
              "libraries": dict(Counter(r["metadata"]["library"] for r in rows)),
              "seaborn_data": args.seaborn_data, "verdicts": {k: dict(v) for k, v in table.items()},
              "seconds": {"ours": round(mine_s, 1), "official_subprocess": round(off_s, 1)},
              "ratio_ours_over_official": round(mine_s / off_s, 3) if off_s else None,
              "order": "official first" if args.official_first else "ours first",
              "loadavg_before": load, "loadavg_after": os.getloadavg(), "disagreements": disagree,
              "not_runnable": Counter(v[1].split(":")[0] for v in mine if v[0] == "not_runnable")}
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=1)
    print(json.dumps({k: v for k, v in report.items() if k != "disagreements"}, indent=1))
    print(f"{len(disagree)} disagreements (passed on one side only):")
    for d in disagree:
        print(f"  {d['task_id']} {d['answer']} ({d['library']}): ours {d['ours']} [{d['ours_reason'][-120:]!r}] "
              f"official {d['official']} [{d['official_reason'][-120:]!r}]")


if __name__ == "__main__":
    main()
