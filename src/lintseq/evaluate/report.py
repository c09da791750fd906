"""Comparing runs: a markdown table and the paper's two plots (pass@k against k, and against
total test-time FLOPs on a log scale), one curve per run, as PNG and SVG.

A RUN is a samples file (its ``_summary.json`` is read) or a summary file itself.
"""

from __future__ import annotations

import json
import os


def load_summary(run: str) -> tuple[str, dict]:
    path = run if run.endswith("_summary.json") else run + "_summary.json"
    with open(path, encoding="utf-8") as fh:
        summary = json.load(fh)
    name = os.path.basename(path)[: -len("_summary.json")]
    return name, summary


def _ks(summary: dict) -> list[int]:
    return sorted(int(k.split("@")[1]) for k in summary if k.startswith("pass@"))


def markdown_table(runs: list[tuple[str, dict]]) -> str:
    ks = sorted({k for _, s in runs for k in _ks(s)})
    head = "| run | benchmark | samples | " + " | ".join(f"pass@{k}" for k in ks) + " | FLOPs @ max k | isolation |"
    lines = [head, "|" + "---|" * (5 + len(ks))]
    for name, s in runs:
        cells = [f"{100 * s[f'pass@{k}']:.1f}" if f"pass@{k}" in s else "-" for k in ks]
        flops = s.get("flops") or {}
        top = max((int(k.split("@")[1]), v) for k, v in flops.items()) if flops else None
        lines.append(f"| {name} | {s['benchmark']} | {s['samples']} | " + " | ".join(cells)
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


def report(runs: list[str], out_dir: str) -> dict:
    os.makedirs(out_dir, exist_ok=True)
    loaded = [load_summary(r) for r in runs]
    table = markdown_table(loaded)
    with open(os.path.join(out_dir, "report.md"), "w", encoding="utf-8") as fh:
        fh.write(table + "\n")
    return {"table": table, "files": [os.path.join(out_dir, "report.md")] + plot(loaded, out_dir)}
