"""Fidelity: how often the paper's pylint criteria call our intermediate states clean, and the
edit distributions side by side with the authors' pylintseq on the same programs.

    python benchmarks/fidelity.py --ours bench_out/ours_fast_w1.jsonl --ours-pylint bench_out/ours_pylint_w1.jsonl \
        --peer bench_out/peer_w1.jsonl

Every intermediate state of every --ours sequence (the text after edits 1..K-1) is linted with
the in-process pylint oracle (checked against the authors' file_linter in tests). Messages that
depend on what is installed (E0401, E0402, E1101) are counted separately.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(__file__))
from common import edit_stats  # noqa: E402

from lintseq.diffs import apply_edit  # noqa: E402
from lintseq.oracle import get_linter  # noqa: E402
from lintseq.oracle.pylint_oracle import ENVIRONMENT_DEPENDENT  # noqa: E402


def load(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def states(rec: dict) -> list[str]:
    lines: list[str] = []
    out = []
    for edit in rec["edits"][:-1]:
        apply_edit(lines, edit)
        out.append("\n".join(lines))
    return out


def pylint_clean_fraction(records: list[dict]) -> dict:
    pylint = get_linter("pylint")
    total = clean = env_only = 0
    codes: Counter = Counter()
    for rec in records:
        for st in states(rec):
            total += 1
            msgs = pylint.messages(st)
            if not msgs:
                clean += 1
            elif all(m.code in ENVIRONMENT_DEPENDENT for m in msgs):
                env_only += 1
            codes.update({m.code for m in msgs})
    return {"states": total, "pylint_clean": clean, "fraction_clean": round(clean / total, 4) if total else None,
            "unclean_env_dependent_only": env_only,
            "fraction_clean_ignoring_env": round((clean + env_only) / total, 4) if total else None,
            "message_codes_in_unclean_states": dict(codes.most_common())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ours", required=True, help="lintseq output made with --linter fast")
    ap.add_argument("--ours-pylint", help="lintseq output made with --linter pylint")
    ap.add_argument("--peer", help="pylintseq output on the same programs")
    args = ap.parse_args()
    ours = load(args.ours)
    report = {"fast_vs_pylint_criteria": pylint_clean_fraction(ours),
              "distributions": {"lintseq --linter fast": edit_stats([r["edits"] for r in ours])}}
    if args.ours_pylint:
        op = load(args.ours_pylint)
        report["pylint_oracle_vs_pylint_criteria"] = pylint_clean_fraction(op)
        report["distributions"]["lintseq --linter pylint"] = edit_stats([r["edits"] for r in op])
    if args.peer:
        report["distributions"]["pylintseq 0.0.2"] = edit_stats([r["edit_path"] for r in load(args.peer)])
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
