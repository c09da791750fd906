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
* ``authors`` (the default for model output): exactly what the authors' ``resolve_edit_path``
  (upiterbarg/lintseq, ``src/utils.py``) builds from a whole completion, read from their code and
  checked against it on many model-like outputs (``tests/fixtures/authors_resolve.jsonl``):
  every piece between ``\n<|diff|>`` that holds ``@@`` (edits after the empty edit included) is
  split into hunks at ``\n@@``; a hunk is ``_ @@ header @@ body``; the header must be two
  space-separated words whose second gives ``c`` (``+c`` or ``+c,d``); the body loses its leading
  whitespace, then every line loses its leading ``-`` and then ``+`` characters (lines without a
  ``+``, context and ``-`` lines, blank lines are all kept) and goes in at ``c - 1`` by Python's
  slice rules (a negative index counts from the end; past the end appends). A hunk that does not
  split into three parts or whose header does not parse is skipped. One deliberate difference:
  their ``rstrip("<|endoftext|>")`` strips a *character set* (a final line ending in ``e``,
  ``n``, ``d``, ``t`` ... loses letters); we remove the EOS text itself.

On every record the generator writes, both rules rebuild the same program, unless a program line
begins with ``+`` or ``<|diff|>`` or holds ``@@``, which the authors' format cannot carry
(``verify`` counts such records).

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
RULES = ("authors", "strict")
RULE_ALIASES = {"paper": "authors"}  # the name this rule had before 0.2 (configs may still say it)
EOS_TEXT = "<|endoftext|>"


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
    """Hunks parsed from one edit; how many were malformed (skipped) and how many had a body
    length other than the header's count (``authors`` inserts them anyway)."""

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


def parse_edit(edit: str) -> Parsed:
    r"""Parse one edit into hunks under the ``strict`` rule (see the module docstring).

        >>> parse_edit("@@ -0,0 +1 @@\n+a\n+b").malformed, parse_edit("@@ -0,0 +1,2 @@\n+a\n+b").hunks[0].lines
        (1, ('a', 'b'))
    """
    out = Parsed()
    if edit == "":
        return out
    for header, *body in _chunks(edit):
        m = HUNK_HEADER.match(header)
        if not m:
            out.malformed += 1
            continue
        d = int(m.group(4)) if m.group(4) is not None else 1
        if len(body) != d or not all(b.startswith("+") for b in body):
            out.malformed += 1
            continue
        out.hunks.append(Hunk(start=int(m.group(3)), lines=tuple(b[1:] for b in body), after=int(m.group(1))))
    return out


@dataclass
class Applied:
    """The file an edit sequence rebuilds: its lines, and the hunks applied, skipped as
    malformed, or applied despite a wrong count or lines without ``+`` (``authors`` rule)."""

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


def apply_edit(lines: list[str], edit: str) -> Parsed:
    """Apply one edit to ``lines`` in place (strict rule); returns what was parsed."""
    parsed = parse_edit(edit)
    for h in parsed.hunks:
        insert_hunk(lines, h)
    return parsed


def apply_edits(edits: Iterable[str], lines: list[str] | None = None, rule: str = "strict") -> Applied:
    """Apply edits in order, starting from ``lines`` (default: an empty file).

    ``rule="authors"`` joins the edits into a completion and resolves it with ``apply_authors``.
    """
    rule = RULE_ALIASES.get(rule, rule)
    if rule not in RULES:
        raise ValueError(f"unknown resolution rule {rule!r}: one of {RULES}")
    edits = list(edits)
    if rule == "authors":
        start = list(lines or [])
        joined = "\n<|diff|>".join(edits)
        applied = apply_authors(joined, start)
        return applied
    result = Applied(lines=list(lines or []))
    for edit in edits:
        parsed = apply_edit(result.lines, edit)
        result.hunks += len(parsed.hunks)
        result.malformed += parsed.malformed
        result.miscounted += parsed.miscounted
    return result


def _authors_hunks(text: str) -> list[str]:
    """The hunk texts the authors' resolver visits: every ``\\n<|diff|>`` piece holding ``@@``,
    cut at each ``\\n@@`` (the cut-off newline stays on the hunk it starts)."""
    hunks = []
    for piece in text.split("\n<|diff|>"):
        if "@@" in piece:
            first, *rest = piece.split("\n@@")
            hunks += [first] + ["\n@@" + r for r in rest]
    return [h for h in hunks if "@@" in h]


def _authors_start(header: str) -> int | None:
    """0-based insertion index from a header's ``+c[,d]`` word (None when it does not parse)."""
    words = header.strip().split(" ")
    if len(words) != 2:
        return None
    word = words[1].split(",")[0] if "," in words[1] else words[1]
    try:
        return int(word.lstrip("+")) - 1  # int() as they call it: " 7", "0_1", "-3" all parse
    except ValueError:
        return None


def _header_count(header: str) -> int:
    word = header.strip().split(" ")[-1]
    try:
        return int(word.split(",")[1]) if "," in word else 1
    except ValueError:
        return -1


def apply_authors(text: str, lines: list[str] | None = None) -> Applied:
    r"""Resolve a whole completion as the authors' ``resolve_edit_path`` does (module docstring).

        >>> apply_authors("@@ -0,0 +1 @@\n+def f():\n    return 1\n<|diff|>\n<|diff|>").text
        'def f():\n    return 1'
        >>> apply_authors("@@ -0,0 +1 @@ trailing\n+x = 1").text  # trailing header text becomes a line
        'trailing\nx = 1'
        >>> apply_authors("@@ -0,0 +1 @@\n+a = 1<|endoftext|>").text  # their rstrip would also eat the "1"
        'a = 1'
    """
    while text.endswith(EOS_TEXT):
        text = text[: -len(EOS_TEXT)]
    result = Applied(lines=list(lines or []))
    for hunk in _authors_hunks(text):
        parts = hunk.split("@@")
        at = _authors_start(parts[1]) if len(parts) == 3 else None
        if at is None:
            result.malformed += 1
            continue
        body = parts[2].lstrip().split("\n")
        new = [ln.lstrip("-").lstrip("+") for ln in body]
        result.hunks += 1
        result.miscounted += len(body) != _header_count(parts[1])
        result.malformed += not all(ln.startswith("+") for ln in body)
        cur = result.lines
        result.lines = cur + new if at >= len(cur) else cur[:at] + new + cur[at:]
    return result


def is_insertion_only(edit: str) -> bool:
    """True when ``edit`` is non-empty and every hunk is a well-formed insertion."""
    parsed = parse_edit(edit)
    return bool(parsed.hunks) and parsed.malformed == 0


def inserted_line_count(edit: str) -> int:
    """Number of ``+`` lines in an edit (the "lines per edit" statistic)."""
    return sum(len(h.lines) for h in parse_edit(edit).hunks)
