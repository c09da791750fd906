"""The text a person reads after each command: every workflow returns a result dict, and these
functions turn it into lines (the CLI prints them; ``--json`` prints the dict instead).

    >>> print(resolve_counts({"rows": 3, "from_raw": 2, "malformed_rows": 1, "miscounted_rows": 0, "bad_lines": 0},
    ...                      "authors", "authors", "programs.jsonl"))
    3 rows (2 resolved from raw under rule authors, extract authors; 1 with malformed hunks, 0 miscounted; 0 bad lines) -> programs.jsonl
"""

from __future__ import annotations

import sys


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _scores(d: dict) -> str:
    return "  ".join(f"{k} {100 * v:.2f}%" for k, v in d.items() if k.startswith("pass@"))


def generate_summary(s: dict) -> str:
    """``lintseq generate``'s table: counts, rejections by reason, sequence shape, throughput."""
    rej = ", ".join(f"{k} {v}" for k, v in s["rejected_by_reason"].items()) or "none"
    lines = [f"programs in      {s['programs_in']}  (resumed {s['resumed_programs']})",
             f"sequences out    {s['sequences_out']}  -> {s['output']}",
             f"rejected         {s['rejected']}  ({rej})",
             f"edits/sequence   {s['mean_edits_per_sequence']:.2f}   lines/edit {s['mean_lines_per_edit']:.2f}"]
    if s["sampler"] == "lintseq":
        lines.append(f"degenerate       {_plural(s['single_edit_sequences'], 'single-edit sequence')}, "
                     f"{_plural(s['programs_with_original_errors'], 'program')} with lint errors as given")
    lines.append(f"throughput       {s['sequences_per_second']} sequences/s "
                 f"({s['seconds']} s, {_plural(s['workers'], 'worker')}, linter {s['linter']}, sampler {s['sampler']})")
    return "\n".join(lines)


def example_sequence(path: str) -> str | None:
    """One sequence of 3-6 edits from a records file, rendered state by state (None if there is none)."""
    from .generate.show import render_record
    from .generate.verify import iter_records

    for _, rec, _ in iter_records(path):
        if rec and 3 <= len(rec["edits"]) <= 6:
            return "\nexample sequence:\n" + render_record(rec, color=sys.stdout.isatty()) + "\n"
    return None


def verify_report(report: dict) -> str:
    """``lintseq verify``: each check's count, every violation, then OK or FAILED."""
    n = report["sequences"]
    lines = [f"sequences        {n}", f"round trip       {report['roundtrip_ok']}/{n}",
             f"insertion-only   {report['insertion_only_ok']}/{n}",
             f"clean states     {report['clean_states']}/{report['states']}  (linter: {report['linter']})"]
    if report["authors_differs"]:
        lines.append(f"authors' rule    {report['authors_differs']} records rebuild differently under the authors' "
                     "resolver (a line starting with '+' or holding '@@')")
    lines += [f"  violation {v['id']}: {v['check']}: {v['detail']}" for v in report["violations"]]
    lines.append("OK" if report["ok"] else "FAILED")
    return "\n".join(lines)


def evaluate_summary(summary: dict, samples: str) -> str:
    """``lintseq evaluate``: coverage, verdicts, pass@k (per group too), resolution counts, FLOPs."""
    cov = summary["coverage"]
    lines = [f"{summary['benchmark']}: {summary['samples']} samples, {summary['tasks_scored']} tasks scored, "
             f"{summary['not_runnable_tasks']} not runnable  [{summary['isolation']}]",
             f"coverage: {cov['tasks_with_samples']}/{cov['tasks_in_benchmark']} tasks have samples"
             + (f" (PARTIAL: {cov['missing']} missing, e.g. {', '.join(cov['first_missing'][:3])})" if cov["missing"] else ""),
             f"verdicts: {summary['verdicts']}",
             _scores(summary) or "pass@k: no k with enough samples per task"]
    for group, g in summary.get("per_group", {}).items():
        lines.append(f"  {group}: {g['tasks_scored']} tasks scored, {g['not_runnable']} not runnable  " + _scores(g))
    lines += [f"pass@{k} not reported: {why}" for k, why in summary.get("skipped_k", {}).items()]
    if summary.get("hunks"):
        h = summary["hunks"]
        lines.append(f"edit sequences: {summary['editseq_rows']} rows, hunks applied {h['applied']}, malformed "
                     f"{h['malformed']}, miscounted {h['miscounted']}; rows with a bad hunk {100 * summary['malformed_rate']:.1f}%")
    if summary.get("plain_extraction"):
        lines.append(f"plain rows, program taken from: {summary['plain_extraction']}")
    if summary.get("flops"):
        lines.append("FLOPs: " + "  ".join(f"{k} {v:.3g}" for k, v in summary["flops"].items()))
    lines.append(f"results -> {samples}_results.jsonl, summary -> {samples}_summary.json")
    return "\n".join(lines)


def resolve_counts(c: dict, rule: str, extract: str, output: str) -> str:
    """``lintseq resolve``: how many rows were resolved from raw text and how well-formed they were."""
    return (f"{c['rows']} rows ({c['from_raw']} resolved from raw under rule {rule}, extract {extract}; "
            f"{c['malformed_rows']} with malformed hunks, {c['miscounted_rows']} miscounted; {c['bad_lines']} bad lines) -> {output}")


def train_result(out: dict) -> str:
    """``lintseq train``: steps, data, first and last loss, speed (MFU where known), where the model went."""
    losses = out["losses"]
    mfu = f", MFU {out['mfu']:.1%} of H100 bf16" if out.get("mfu") else ""
    return (f"trained steps {out['start_step']}..{out['steps']} on {out['examples']} examples in {out['rows']} rows "
            f"({out['processes']} processes, {out['backend']}; token cache {out['cache']}): loss "
            f"{losses[0] if losses else float('nan'):.4f} -> {losses[-1] if losses else float('nan'):.4f}, "
            f"{out['tokens_per_s']:,.0f} tokens/s after step 1{mfu}; model -> {out['output']}")


def pretrain_result(out: dict) -> str:
    return (f"pretrained {out['steps']} steps on {out['examples']} sequences from {out['documents']} documents: "
            f"loss {out['losses'][0]:.4f} -> {out['losses'][-1]:.4f}; model -> {out['output']}")


def sample_result(meta: dict, output: str) -> str:
    """``lintseq sample``: count, speed, device, and the edit sequences' well-formedness."""
    return (f"{meta['samples']} samples in {meta['seconds']:.1f} s ({meta['samples_per_s']:.2f} samples/s, "
            f"{meta['generated_tokens_per_s']:.0f} generated tokens/s on {meta.get('device', '?')}) -> {output}; "
            f"hunks {meta['hunks']}, malformed {meta['malformed_hunks']}, miscounted {meta['miscounted_hunks']}; "
            f"meta -> {output}.meta.json")


def experiment_result(summary: dict, output_dir: str) -> str:
    """``lintseq experiment``: pass@k and malformed rate per arm, then where the summary and report are."""
    lines = [f"{arm:9s} {_scores(s)}  malformed rate {s['malformed_rate'] if s['malformed_rate'] is not None else '-'}"
             for arm, s in summary["arms"].items()]
    lines.append(f"summary -> {output_dir}/summary.json, report -> {output_dir}/report.md (+ plots); "
                 f"stages: " + ", ".join(f"{k} {v:.0f}s" for k, v in summary["stages"].items()))
    return "\n".join(lines)
