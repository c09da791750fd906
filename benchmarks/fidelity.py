"""Fidelity: how often the paper's pylint criteria call our intermediate states clean, per pylint
message how often the fast oracle agrees, and edit distributions beside the authors' pylintseq.

Two modes:

    # records already written (e.g. by benchmarks/speed.py): clean share of their states
    python benchmarks/fidelity.py --ours bench_out/ours_fast_w1.jsonl --ours-pylint bench_out/ours_pylint_w1.jsonl \
        --peer bench_out/peer_w1.jsonl
    # programs: sample here with --linter, record every state the sampler asked the linter about,
    # and lint each with pylint too (the per-message agreement table)
    python benchmarks/fidelity.py --programs /tmp/lintseq_realworld.jsonl -s 1 --linter fast
    python benchmarks/fidelity.py --programs humaneval -s 5 --linter fast

Counting follows the paper (pylint 3.2.6, ``--disable=C,R``, every E/F message plus W0311 and
W0231). Messages whose verdict depends on what is installed where pylint runs (E0401, E0402,
E0611, and E1101 on a module: :func:`environment_dependent`) are counted separately.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(__file__))
from common import edit_stats, humaneval_pairs  # noqa: E402

from lintseq.diffs import apply_edit  # noqa: E402
from lintseq.oracle import get_linter  # noqa: E402
from lintseq.oracle.pylint_oracle import environment_dependent  # noqa: E402


def load(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def states(rec: dict) -> list[str]:
    """The K-1 intermediate states of one record (texts after edits 1..K-1)."""
    lines: list[str] = []
    out = []
    for edit in rec["edits"][:-1]:
        apply_edit(lines, edit)
        out.append("\n".join(lines))
    return out


def pylint_clean_fraction(all_states: list[str], pylint=None, originals: list[str] | None = None) -> dict:
    """Share of states with no counted pylint message (and with only environment-dependent ones).

    With ``originals`` (each state's original program), unclean states whose every counted
    message (code and text) pylint already reports on the original are counted as inherited:
    errors no deletion made, which an oracle that cannot see them can never remove."""
    pylint = pylint or get_linter("pylint")
    total = clean = env_only = inherited = 0
    seen_originals: dict[str, set] = {}
    codes: Counter = Counter()
    examples: dict[str, str] = {}
    for k, st in enumerate(all_states):
        total += 1
        msgs = pylint.messages(st)
        real = [m for m in msgs if not environment_dependent(m.code, m.text)]
        if not msgs:
            clean += 1
        elif not real:
            env_only += 1
        elif originals is not None:
            orig = originals[k]
            if orig not in seen_originals:
                seen_originals[orig] = {(m.code, m.text) for m in pylint.messages(orig)}
            inherited += all((m.code, m.text) in seen_originals[orig] for m in real)
        codes.update({m.code for m in msgs})
        for m in real:
            examples.setdefault(m.code, f"line {m.line}: {m.text}")
    return {"states": total, "pylint_clean": clean, "fraction_clean": round(clean / total, 4) if total else None,
            "unclean_env_dependent_only": env_only,
            "fraction_clean_ignoring_env": round((clean + env_only) / total, 4) if total else None,
            **({"unclean_inherited_from_original": inherited} if originals is not None else {}),
            "message_codes_in_unclean_states": dict(codes.most_common()),
            "example_per_code": examples}


class Recording:
    """A linter wrapper that keeps every state the sampler asked about (and the verdict)."""

    def __init__(self, inner):
        self.inner, self.name, self.seen = inner, inner.name, {}
        self.takes_base = getattr(inner, "takes_base", False)

    def messages(self, source, **base):
        return self.inner.messages(source, **base)

    def error_lines(self, source, **base):
        lines = self.inner.error_lines(source, **base)
        self.seen.setdefault(source, lines)
        return lines


def agreement(seen: dict[str, list[int]], pylint) -> dict:
    """Per pylint message: states pylint flags with it, and the share the fast oracle also
    rejects (any error) and flags on the same line (the line the sampler then deletes)."""
    flagged: Counter = Counter()
    state_caught: Counter = Counter()
    line_caught: Counter = Counter()
    for st, ours in seen.items():
        per_code: dict[str, set[int]] = {}
        for m in pylint.messages(st):
            key = f"{m.code} (env)" if environment_dependent(m.code, m.text) else m.code
            per_code.setdefault(key, set()).add(m.line)
        for code, lines in per_code.items():
            flagged[code] += 1
            state_caught[code] += bool(ours)
            line_caught[code] += bool(lines & set(ours))
    return {code: {"states": n, "fast_rejects_state": round(state_caught[code] / n, 4),
                   "fast_flags_same_line": round(line_caught[code] / n, 4)}
            for code, n in flagged.most_common()}


def sample_programs(path: str, samples: int, linter_name: str) -> tuple[list[dict], Recording]:
    """Run the sampler in process on every row of ``path`` (or HumanEval) with a recording linter."""
    from lintseq.generate import records
    from lintseq.data.sources import Row

    rows = humaneval_pairs() if path == "humaneval" else load(path)
    rec_linter = Recording(get_linter(linter_name))
    records._LINTERS[linter_name] = rec_linter  # the sampler's per-process linter: ours, recorded
    out = []
    spec = records.JobSpec(samples=samples, linter=linter_name)
    for i, r in enumerate(rows):
        out += records.process_row(Row(i, r["instruction"], r["response"]), spec).records
    return out, rec_linter


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ours", help="lintseq output made with --linter fast")
    ap.add_argument("--ours-pylint", help="lintseq output made with --linter pylint")
    ap.add_argument("--peer", help="pylintseq output on the same programs")
    ap.add_argument("--programs", help="instruction/response JSONL (or 'humaneval') to sample and check here")
    ap.add_argument("-s", "--samples", type=int, default=1, help="sequences per program with --programs (default 1)")
    ap.add_argument("--linter", default="fast", help="oracle to sample with in --programs mode (default fast)")
    ap.add_argument("--no-agreement", action="store_true", help="skip the per-message table (pylint on every asked state)")
    args = ap.parse_args()
    pylint = get_linter("pylint")
    report: dict = {"distributions": {}}
    if args.programs:
        recs, seen = sample_programs(args.programs, args.samples, args.linter)
        pairs = [(s, r["program"]) for r in recs for s in states(r)]
        report[f"{args.linter}_states_vs_pylint_criteria"] = pylint_clean_fraction(
            [s for s, _ in pairs], pylint, [p for _, p in pairs])
        report["distributions"][f"lintseq --linter {args.linter}"] = edit_stats([r["edits"] for r in recs])
        if not args.no_agreement:
            report["asked_states"] = len(seen.seen)
            report["per_message_agreement"] = agreement(seen.seen, pylint)
    if args.ours:
        ours = load(args.ours)
        report["fast_vs_pylint_criteria"] = pylint_clean_fraction([s for r in ours for s in states(r)], pylint)
        report["distributions"]["lintseq --linter fast"] = edit_stats([r["edits"] for r in ours])
    if args.ours_pylint:
        op = load(args.ours_pylint)
        report["pylint_oracle_vs_pylint_criteria"] = pylint_clean_fraction([s for r in op for s in states(r)], pylint)
        report["distributions"]["lintseq --linter pylint"] = edit_stats([r["edits"] for r in op])
    if args.peer:
        report["distributions"]["pylintseq 0.0.2"] = edit_stats([r["edit_path"] for r in load(args.peer)])
    print(json.dumps(report, indent=1))
    if report.get("per_message_agreement"):
        print(agreement_table(report["per_message_agreement"]))


def agreement_table(rows: dict) -> str:
    """The per-message agreement as a markdown table (the README's)."""
    out = ["| pylint message | states pylint flags | fast oracle rejects the state | ... on the same line |",
           "|---|---|---|---|"]
    for code, r in rows.items():
        out.append(f"| {code} | {r['states']} | {100 * r['fast_rejects_state']:.1f}% | {100 * r['fast_flags_same_line']:.1f}% |")
    return "\n".join(out)


if __name__ == "__main__":
    main()
