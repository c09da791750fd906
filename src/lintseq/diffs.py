"""Forward phase: render, parse and apply insertion-only diffs.

An edit is one or more zero-context, insertion-only hunks in the header format of
``difflib.unified_diff(n=0)`` without the ``---``/``+++`` file header::

    @@ -a,0 +c,d @@      a = old line after which to insert, c = first new line,
    +line                ``,d`` omitted when d == 1
    +line

Edits are rendered from the kept-line indices of two states (never by re-diffing text,
which can emit ``-`` hunks on long files with repeated lines), and applied by the one shared
applier that ``verify``, ``sample``, ``evaluate`` and ``show`` all use, under one of two rules:

* ``strict`` (what ``verify`` checks our own records with): a hunk whose header does not parse,
  whose body has a line without the leading ``+``, or whose body length differs from the
  header's ``d`` is skipped and counted as malformed.
* ``paper`` (the authors' evaluation; the default for model output): a header's counts are not
  trusted; its ``+`` lines go in at ``c``; text that is no hunk is skipped. Hunks whose body
  length differs from ``d`` are counted as miscounted, hunks with an unparsable header or
  stray body lines as malformed.

On every record the generator writes, both rules rebuild the same program.

Worked example::

    >>> lines = ["def f(x):", "    y = x + 1", "    return y"]
    >>> d1 = render_edit(lines, [], [0, 2])
    >>> d1
    '@@ -0,0 +1,2 @@\\n+def f(x):\\n+    return y'
    >>> d2 = render_edit(lines, [0, 2], [0, 1, 2])
    >>> d2
    '@@ -1,0 +2 @@\\n+    y = x + 1'
    >>> apply_edits([d1, d2]).lines == lines
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Sequence

HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$")
RULES = ("paper", "strict")


@dataclass(frozen=True)
class Hunk:
    """One insertion: ``lines`` go in at 1-based new-file line ``start``."""

    start: int
    lines: tuple[str, ...]
    after: int = 0  # old-file line after which the lines go (the ``-a`` of the header)

    def render(self) -> str:
        d = len(self.lines)
        new = f"+{self.start}" if d == 1 else f"+{self.start},{d}"
        return "\n".join([f"@@ -{self.after},0 {new} @@"] + ["+" + ln for ln in self.lines])


def _runs(positions: Sequence[int]) -> list[tuple[int, int]]:
    """Group sorted positions into (first, length) runs of consecutive integers."""
    runs: list[tuple[int, int]] = []
    for p in positions:
        if runs and runs[-1][0] + runs[-1][1] == p:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((p, 1))
    return runs


def render_edit(lines: Sequence[str], old_kept: Iterable[int], new_kept: Iterable[int]) -> str:
    """Render the insertion that turns state ``old_kept`` into ``new_kept``.

    Both are collections of indices into ``lines`` (the full program), ``old_kept`` a subset of
    ``new_kept``. Returns "" when nothing is inserted.
    """
    new_sorted = sorted(new_kept)
    old = set(old_kept)
    inserted_pos = [pos for pos, idx in enumerate(new_sorted) if idx not in old]
    hunks = []
    for first, length in _runs(inserted_pos):
        inserted_before = sum(1 for p in inserted_pos if p < first)
        after = first - inserted_before  # old lines preceding the run
        body = tuple(lines[new_sorted[p]] for p in range(first, first + length))
        hunks.append(Hunk(start=first + 1, lines=body, after=after).render())
    return "\n".join(hunks)


def render_sequence(lines: Sequence[str], states: Sequence[Iterable[int]]) -> list[str]:
    """Render the forward edits between consecutive kept-index states (empty first).

    ``states`` run forward, e.g. ``[set(), {0, 2}, {0, 1, 2}]``; empty diffs are dropped.
    """
    edits = []
    for prev, nxt in zip(states, states[1:]):
        d = render_edit(lines, prev, nxt)
        if d:
            edits.append(d)
    return edits


@dataclass
class Parsed:
    """Hunks parsed from one edit; how many were malformed (skipped under ``strict``) and how
    many had a body length other than the header's count (``paper`` inserts them anyway)."""

    hunks: list[Hunk] = field(default_factory=list)
    malformed: int = 0
    miscounted: int = 0


def _chunks(edit: str) -> list[list[str]]:
    """Split an edit into [header, *body] chunks; text before the first header is a chunk too."""
    chunks: list[list[str]] = []
    for line in edit.split("\n"):
        if line.startswith("@@") or not chunks:
            chunks.append([line])
        else:
            chunks[-1].append(line)
    return chunks


def parse_edit(edit: str, rule: str = "strict") -> Parsed:
    r"""Parse one edit into hunks under ``rule`` (see the module docstring).

        >>> parse_edit("@@ -0,0 +1 @@\n+a\n+b").malformed, parse_edit("@@ -0,0 +1 @@\n+a\n+b", "paper").hunks[0].lines
        (1, ('a', 'b'))
    """
    if rule not in RULES:
        raise ValueError(f"unknown resolution rule {rule!r}: one of {RULES}")
    out = Parsed()
    if edit == "":
        return out
    for header, *body in _chunks(edit):
        m = HUNK_HEADER.match(header)
        if not m:
            out.malformed += 1
            continue
        d = int(m.group(4)) if m.group(4) is not None else 1
        plus = [b[1:] for b in body if b.startswith("+")]
        stray = len(plus) != len(body)
        if rule == "strict" and (len(body) != d or stray):
            out.malformed += 1
            continue
        out.malformed += stray
        out.miscounted += len(plus) != d
        out.hunks.append(Hunk(start=int(m.group(3)), lines=tuple(plus), after=int(m.group(1))))
    return out


@dataclass
class Applied:
    """The file an edit sequence rebuilds: its lines, and the hunks applied, skipped as
    malformed, or applied despite a wrong count (``paper`` rule)."""

    lines: list[str]
    malformed: int = 0
    hunks: int = 0
    miscounted: int = 0

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def insert_hunk(lines: list, hunk: Hunk, items: Sequence | None = None) -> int:
    """Insert a hunk's lines (or ``items`` in their place) at its new-file line, appending when
    that is past the end; returns the 0-based index of the first inserted line."""
    at = min(max(hunk.start - 1, 0), len(lines))
    lines[at:at] = hunk.lines if items is None else items
    return at


def apply_edit(lines: list[str], edit: str, rule: str = "strict") -> Parsed:
    """Apply one edit to ``lines`` in place; returns what was parsed."""
    parsed = parse_edit(edit, rule)
    for h in parsed.hunks:
        insert_hunk(lines, h)
    return parsed


def apply_edits(edits: Iterable[str], lines: list[str] | None = None, rule: str = "strict") -> Applied:
    """Apply edits in order, starting from ``lines`` (default: an empty file)."""
    result = Applied(lines=list(lines or []))
    for edit in edits:
        parsed = apply_edit(result.lines, edit, rule)
        result.hunks += len(parsed.hunks)
        result.malformed += parsed.malformed
        result.miscounted += parsed.miscounted
    return result


def is_insertion_only(edit: str) -> bool:
    """True when ``edit`` is non-empty and every hunk is a well-formed insertion."""
    parsed = parse_edit(edit)
    return bool(parsed.hunks) and parsed.malformed == 0


def inserted_line_count(edit: str) -> int:
    """Number of ``+`` lines in an edit (the "lines per edit" statistic)."""
    return sum(len(h.lines) for h in parse_edit(edit).hunks)
