"""Comparing runs: a markdown table and the paper's two plots (pass@k against k, and against
total test-time FLOPs on a log scale), one curve per run, as PNG and SVG.

A RUN is a samples file (its ``_summary.json`` is read), its ``_results.jsonl`` or
``_summary.json``, or a ``lintseq experiment`` folder (one run per arm).
"""

from __future__ import annotations

import json
import os


def load_runs(run: str) -> list[tuple[str, dict]]:
    """(name, summary) pairs for one RUN argument; a LintseqError says what is missing."""
    from ..errors import LintseqError

    if os.path.isdir(run):
        path = os.path.join(run, "summary.json")
        if not os.path.isfile(path):
            raise LintseqError(f"{run!r} is a folder without summary.json", fix="give samples files, or a finished `lintseq experiment` folder")
        with open(path, encoding="utf-8") as fh:
            exp = json.load(fh)
        return [(arm, {**_arm_evaluation(run, arm), **s, "benchmark": exp["config"]["benchmark"]})
                for arm, s in exp["arms"].items()]
    stem = run
    for suffix in ("_summary.json", "_results.jsonl"):
        if run.endswith(suffix):
            stem = run[: -len(suffix)]
    path = stem + "_summary.json"
    if not os.path.isfile(path):
        raise LintseqError(f"no evaluation summary {path!r} for {run!r}", fix=f"run `lintseq evaluate {stem}` first")
    with open(path, encoding="utf-8") as fh:
        return [(os.path.basename(stem), json.load(fh))]


def _arm_evaluation(run: str, arm: str) -> dict:
    """What the experiment's summary leaves out of an arm (its sample count and coverage), from
    the arm's own evaluation summary (``OUT/<arm>/samples.jsonl_summary.json``)."""
    path = os.path.join(run, arm, "samples.jsonl_summary.json")
    try:
        with open(path, encoding="utf-8") as fh:
            own = json.load(fh)
    except (OSError, ValueError):
        return {"samples": "-"}
    return {k: own[k] for k in ("samples", "coverage") if k in own}


def _ks(summary: dict) -> list[int]:
    return sorted(int(k.split("@")[1]) for k in summary if k.startswith("pass@"))


def markdown_table(runs: list[tuple[str, dict]]) -> str:
    ks = sorted({k for _, s in runs for k in _ks(s)})
    head = "| run | benchmark | samples | tasks | " + " | ".join(f"pass@{k}" for k in ks) + " | FLOPs @ max k | isolation |"
    lines = [head, "|" + "---|" * (6 + len(ks))]
    for name, s in runs:
        cells = [f"{100 * s[f'pass@{k}']:.1f}" if f"pass@{k}" in s else "-" for k in ks]
        flops = s.get("flops") or {}
        top = max((int(k.split("@")[1]), v) for k, v in flops.items()) if flops else None
        cov = s.get("coverage") or {}
        tasks = f"{cov['tasks_with_samples']}/{cov['tasks_in_benchmark']}" if cov else "-"
        lines.append(f"| {name} | {s['benchmark']} | {s['samples']} | {tasks} | " + " | ".join(cells)
                     + f" | {f'{top[1]:.3g}' if top else '-'} | {s.get('isolation', '-')} |")
    return "\n".join(lines)


def plot(runs: list[tuple[str, dict]], out_dir: str) -> list[str]:
    """Write pass_at_k.{png,svg} and pass_at_k_flops.{png,svg}; returns the paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for kind in ("k", "flops"):
        fig, ax = plt.subplots(figsize=(5.5, 4))
        for name, s in runs:
            ks = _ks(s)
            ys = [100 * s[f"pass@{k}"] for k in ks]
            if kind == "k":
                ax.plot(ks, ys, marker="o", label=name)
            elif s.get("flops"):
                xs = [s["flops"][f"pass@{k}"] for k in ks]
                ax.plot(xs, ys, marker="o", label=name)
        if not ax.lines:
            ax.text(0.5, 0.5, "no FLOPs: the samples lack token counts or model size", ha="center",
                    va="center", transform=ax.transAxes)
        ax.set_xscale("log")
        top = max((y for line in ax.lines for y in line.get_ydata()), default=0.0)
        ax.set_ylim(0, max(1.0, min(100.0, 1.15 * top)))  # percent from 0; never a -0.04..0.04 "%" axis
        ax.set_xlabel("k (samples per task)" if kind == "k" else "total test-time FLOPs")
        ax.set_ylabel("pass@k (%)")
        ax.grid(True, which="both", alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=8)
        fig.tight_layout()
        stem = os.path.join(out_dir, "pass_at_k" if kind == "k" else "pass_at_k_flops")
        for ext in ("png", "svg"):
            fig.savefig(f"{stem}.{ext}", dpi=150)
            written.append(f"{stem}.{ext}")
        plt.close(fig)
    return written


def _named_apart(loaded: list[tuple[str, str, dict]]) -> list[tuple[str, dict]]:
    """(name, summary) pairs whose names differ: a name that several runs share (each arm's
    ``samples.jsonl``, or the arms of two experiment folders) gets its folder's name in front.

        >>> [n for n, _ in _named_apart([("a/s.jsonl", "s.jsonl", {}), ("b/s.jsonl", "s.jsonl", {}), ("c/t.jsonl", "t.jsonl", {})])]
        ['a/s.jsonl', 'b/s.jsonl', 't.jsonl']
    """
    counts: dict[str, int] = {}
    for _, name, _ in loaded:
        counts[name] = counts.get(name, 0) + 1

    def folder(run: str) -> str:
        path = os.path.abspath(run)
        return os.path.basename(path if os.path.isdir(path) else os.path.dirname(path))

    return [(f"{folder(run)}/{name}" if counts[name] > 1 else name, summary) for run, name, summary in loaded]


def report(runs: list[str], out_dir: str | None = None) -> dict:
    """The table for ``runs``; with ``out_dir``, also report.md and the plots there (made only
    after every run loaded, so a failure leaves nothing behind)."""
    loaded = _named_apart([(r, name, summary) for r in runs for name, summary in load_runs(r)])
    table = markdown_table(loaded)
    if not out_dir:
        return {"table": table, "files": []}
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "report.md"), "w", encoding="utf-8") as fh:
        fh.write(table + "\n")
    return {"table": table, "files": [os.path.join(out_dir, "report.md")] + plot(loaded, out_dir)}
