"""The floor under `lintseq generate` on real code: what the run costs with every check free.

    python benchmarks/realworld_floor.py --input /tmp/lintseq_realworld.jsonl --programs 0 --repeat 3 --peer

On the same programs (s = 1 by default, one worker):

- ``real``: ``lintseq generate`` with the default (hybrid) linter, timed from start to exit.
- ``sampler``: the same command's work with each linter verdict read from a table recorded
  beforehand from the same hybrid (the records must be identical, record by record), timed from
  start to exit: the sampler, the records, Python's start-up; pylint is never imported.
- In the recording process (the run's own work, in process, heap settled per row as `generate`
  does): pylint's start-up (set-up, and astroid's look at builtins on ``x = 1``) and the time
  astroid spent building the modules inference reached (every build but the states', nested
  builds counted once). A faithful oracle pays these whenever pylint infers through an import;
  the peer pays them too.

``floor`` = sampler + start-up + module builds: the run if pylint's checks and the fast oracle
cost nothing. With ``--peer`` the authors' pylintseq runs on the same programs in the same run,
and each row gets its ratio to it. Writes realworld_floor.json.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import pickle
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from common import timed, write_jsonl  # noqa: E402
from fidelity import load  # noqa: E402
from realworld_speed import SEED, subset  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


class Recorder:
    """The hybrid, with each verdict it gives written down under (state, base)."""

    takes_base = True

    def __init__(self, linter):
        self.linter, self.name, self.table = linter, linter.name, {}

    def error_lines(self, source: str, base: str | None = None) -> list[int]:
        found = self.table[(source, base)] = self.linter.error_lines(source, base=base)
        return found


class Replay:
    """Verdicts read from a recorded table: a linter at no cost. A state the table lacks is an
    error in the benchmark, never a guess."""

    takes_base = True
    name = "hybrid"

    def __init__(self, table: dict):
        self.table = table

    def error_lines(self, source: str, base: str | None = None) -> list[int]:
        return self.table[(source, base)]


class BuildClock:
    """Seconds astroid spends building modules other than the states (file, living-object and
    brain-made builds), outermost builds only, so a build that triggers another counts once.
    A context manager: astroid's builders are timed inside it only."""

    def __init__(self, state_module: str):
        self.state, self.seconds, self.builds, self._depth = state_module, 0.0, 0, 0
        self._saved: list = []

    def __enter__(self) -> "BuildClock":
        from astroid.builder import AstroidBuilder
        from astroid.raw_building import InspectBuilder

        for owner, name in ((AstroidBuilder, "file_build"), (AstroidBuilder, "module_build"),
                            (AstroidBuilder, "string_build"), (InspectBuilder, "inspect_build")):
            self._saved.append((owner, name, owner.__dict__[name]))
            setattr(owner, name, self._timed(owner.__dict__[name]))
        return self

    def __exit__(self, *exc) -> None:
        for owner, name, build in self._saved:
            setattr(owner, name, build)
        self._saved.clear()

    def _timed(self, build):
        def timed_build(builder, what, *args, **kwargs):
            name = kwargs.get("modname", args[0] if args else getattr(what, "__name__", None))
            if self._depth or name == self.state:
                self._depth += bool(self._depth)
                try:
                    return build(builder, what, *args, **kwargs)
                finally:
                    self._depth -= bool(self._depth)
            self._depth, t0 = 1, time.perf_counter()
            try:
                return build(builder, what, *args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - t0
                self.builds += 1
                self._depth = 0

        return timed_build


def record(src: str, samples: int, table_path: str) -> None:
    """In a fresh process: `generate`'s work on every program (one chunk per row, the heap settled
    after each as `generate` does) with a recording hybrid; keep its verdicts, and time pylint's
    start-up and astroid's module builds."""
    from lintseq.data.sources import Row
    from lintseq.generate import records
    from lintseq.oracle.hybrid import HybridLinter

    hybrid = HybridLinter()
    t0 = time.perf_counter()
    hybrid._pylint_linter().messages("x = 1\n")  # the hybrid's own pylint, started (not counted as a call)
    startup = time.perf_counter() - t0
    rec = Recorder(hybrid)
    records._LINTERS["hybrid"] = rec
    spec = records.JobSpec(samples=samples, linter="hybrid", seed=SEED)
    t1 = time.perf_counter()
    with BuildClock(hybrid._pylint._modname) as clock:
        for i, r in enumerate(load(src)):
            records.process_rows([Row(i, r["instruction"], r["response"])], spec)
    stats = {"startup_s": round(startup, 3), "build_s": round(clock.seconds, 3), "builds": clock.builds,
             "in_process_s": round(time.perf_counter() - t1, 3), "verdicts": len(rec.table),
             "pylint_calls": hybrid.pylint_calls}
    with open(table_path, "wb") as fh:
        pickle.dump({"table": rec.table, "stats": stats}, fh)


def replay(src: str, out: str, samples: int, table_path: str) -> None:
    """In a fresh process: `generate` with the recorded verdicts (pylint never imported)."""
    with open(table_path, "rb") as fh:
        table = pickle.load(fh)["table"]
    from lintseq.generate import GenerateConfig, generate, records

    records._LINTERS["hybrid"] = Replay(table)
    generate(GenerateConfig(input=src, output=out, samples=samples, workers=1, seed=SEED, overwrite=True,
                            progress=False))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", default="/tmp/lintseq_realworld.jsonl", help="realworld_build.py output")
    ap.add_argument("--programs", type=int, default=0, help="evenly spaced subset (0 = all; default %(default)s)")
    ap.add_argument("--samples", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of each of ours (default %(default)s)")
    ap.add_argument("--peer", action="store_true", help="also time pylintseq on the same programs")
    ap.add_argument("--out-dir", default="bench_out/floor")
    ap.add_argument("--_record", help=argparse.SUPPRESS)
    ap.add_argument("--_replay", help=argparse.SUPPRESS)
    ap.add_argument("--_out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._record:
        return record(args.input, args.samples, args._record)
    if args._replay:
        return replay(args.input, args._out, args.samples, args._replay)
    os.makedirs(args.out_dir, exist_ok=True)
    rows = subset(load(args.input), args.programs)
    src = write_jsonl(os.path.join(args.out_dir, "programs.jsonl"),
                      [{"instruction": r["instruction"], "response": r["response"]} for r in rows])
    table = os.path.join(args.out_dir, "verdicts.pkl")
    me = [sys.executable, os.path.abspath(__file__), "--input", src, "--samples", str(args.samples)]
    outs = {k: os.path.join(args.out_dir, f"{k}.jsonl") for k in ("real", "sampler")}
    cmds = {
        "real": [sys.executable, "-m", "lintseq.cli", "generate", src, "-o", outs["real"], "-s", str(args.samples),
                 "--workers", "1", "--seed", str(SEED), "--overwrite", "-q"],
        "sampler": [*me, "--_replay", table, "--_out", outs["sampler"]],
    }
    runs: dict[str, list[float]] = {k: [] for k in cmds}
    stats = []
    for _ in range(args.repeat):  # interleaved, so the machine's drift touches all alike
        timed([*me, "--_record", table])
        with open(table, "rb") as fh:
            stats.append(pickle.load(fh)["stats"])
        for k, cmd in cmds.items():
            runs[k].append(timed(cmd)[0])
    real = {r["id"]: (r["edits"], r["original_errors"]) for r in load(outs["real"])}
    if {r["id"]: (r["edits"], r["original_errors"]) for r in load(outs["sampler"])} != real:
        sys.exit("the replayed records differ from the real run's: the table is not the real run's")
    peer = None
    if args.peer:
        dest = os.path.join(args.out_dir, "peer")
        shutil.rmtree(dest, ignore_errors=True)
        sec, _ = timed([sys.executable, os.path.join(HERE, "_pylintseq_shim.py"), "-p", src, "-d", dest, "-c", "1",
                        "-s", str(args.samples), "--seed", str(SEED)])
        (peer_out,) = glob.glob(os.path.join(dest, "*.jsonl"))
        peer = {"seconds": round(sec, 1), "sequences": len(load(peer_out))}

    def median(xs):
        return sorted(xs)[len(xs) // 2]

    startup, build = median([s["startup_s"] for s in stats]), median([s["build_s"] for s in stats])
    rows_out = {"real": median(runs["real"]), "sampler": median(runs["sampler"]), "pylint start-up": startup,
                "module builds": build}
    rows_out["floor"] = rows_out["sampler"] + startup + build
    result = {"programs": len(rows), "s": args.samples, "sequences": len(real), "peer": peer,
              "runs": {k: [round(x, 2) for x in v] for k, v in runs.items()}, "record": stats,
              "medians": {k: round(v, 2) for k, v in rows_out.items()}}
    print("\n| part (one worker) | seconds, median (runs) | pylintseq / this |")
    print("|---|---|---|")
    runs_of = {"real": runs["real"], "sampler": runs["sampler"], "pylint start-up": [s["startup_s"] for s in stats],
               "module builds": [s["build_s"] for s in stats]}
    for k, v in rows_out.items():
        ratio = f"{peer['seconds'] / v:.1f}x" if peer and k in ("real", "floor") else "-"
        each = f" ({', '.join(f'{x:.2f}' for x in runs_of[k])})" if k in runs_of else ""
        print(f"| {k} | {v:.2f}{each} | {ratio} |")
    if peer:
        print(f"| pylintseq 0.0.2 | {peer['seconds']} | 1x |")
    with open(os.path.join(args.out_dir, "realworld_floor.json"), "w") as fh:
        json.dump(result, fh, indent=1)


if __name__ == "__main__":
    main()
