"""Rendering one edit sequence for a person: each state in turn, inserted lines highlighted.

    >>> rec = {"id": "0-0", "instruction": "Print one.", "program": "x = 1\\nprint(x)",
    ...        "edits": ["@@ -0,0 +1 @@\\n+x = 1", "@@ -1,0 +2 @@\\n+print(x)"]}
    >>> print(render_record(rec, color=False))  # doctest: +NORMALIZE_WHITESPACE
    record 0-0: 2 edits
    instruction: Print one.
    ── state 1/2 (+1 lines)
    + 1 x = 1
    ── state 2/2 (+1 lines)
      1 x = 1
    + 2 print(x)
"""

from __future__ import annotations

from ..diffs import insert_hunk, parse_edit

GREEN, DIM, BOLD, RESET = "\033[32m", "\033[2m", "\033[1m", "\033[0m"


def render_record(rec: dict, color: bool = True) -> str:
    """All states of ``rec``, numbered, with the lines each edit inserts marked ``+``."""
    g, d, b, r = (GREEN, DIM, BOLD, RESET) if color else ("", "", "", "")
    edits = rec.get("edits", [])
    out = [f"{b}record {rec.get('id')}: {len(edits)} edits{r}"]
    if rec.get("instruction"):
        out.append(f"instruction: {rec['instruction']}")
    lines: list[tuple[str, bool]] = []
    for k, edit in enumerate(edits, 1):
        lines = [(text, False) for text, _ in lines]
        parsed = parse_edit(edit)
        for h in parsed.hunks:  # the shared applier's placement rule, with each line marked new
            insert_hunk(lines, h, [(t, True) for t in h.lines])
        added = sum(len(h.lines) for h in parsed.hunks)
        bad = f", {parsed.malformed} malformed hunks skipped" if parsed.malformed else ""
        out.append(f"{b}── state {k}/{len(edits)} (+{added} lines{bad}){r}")
        width = len(str(len(lines)))
        for i, (text, new) in enumerate(lines, 1):
            if new:
                out.append(f"{g}+ {i:>{width}} {text}{r}")
            else:
                out.append(f"{d}  {i:>{width}} {text}{r}")
    return "\n".join(out)
