"""Backward sampling: LintSeq (linter-guided) and the RandSeq ablation.

Faithful to the authors' released sampler (``lintseq_backward_sampling_pythonic`` with one
child, top-1, population 1, ``max_depth=512``, ``indent_bias_sampling_factor=1``):

1. candidates: lines that are not blank, not comments, and not continuation lines of a
   multi-line ALL-CAPS global definition (``CONSTS = [`` ... ``]``);
2. indentation: a line's leading whitespace, inherited from the previous line when the line
   has at most one visible character (so blanks and lone ``)`` belong to the enclosing block);
3. weights: 1 at indentation 0, otherwise indentation / tab width (the nesting depth);
4. one edit: delete the sampled line with its indented children, lint what is left, and while
   the linter reports errors delete each reported line (with its children) too. Errors present
   in the original program count, so the first edit also removes them;
5. repeat on the remaining candidates until none is left or 512 edits were made.

Unlike the authors', no state is ever ``.strip()``-ped, a reported line outside the file is
blamed on the last remaining line instead of crashing, and randomness comes from one
``random.Random`` seeded per (seed, source id, sample), so output never depends on scheduling.

    >>> from lintseq.oracle import get_linter
    >>> prog = "import math\\ndef f(x):\\n    return math.sqrt(x)"
    >>> seq = lintseq_sample(prog, get_linter("fast"), rng_for(0, 0, 0))
    >>> apply_edits(seq.edits).text == prog
    True
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .diffs import apply_edits, render_sequence  # noqa: F401  (apply_edits: doctest)
from .oracle import Linter

MAX_EDITS = 512


@dataclass
class EditSequence:
    """One sampled sequence: forward edits and the kept-line states they pass through."""

    edits: list[str]
    states: list[list[int]]  # forward: [] ... all lines; kept original-line indices
    lint_calls: int = 0
    capped: bool = False  # the 512-edit cap was hit; the rest went into the first edit
    fallbacks: int = 0  # states the linter could not clean line by line (emptied instead)
    backward_edits: list[list[int]] = field(default_factory=list)


def rng_for(seed: int, source_id: int, sample: int) -> random.Random:
    """The RNG for one sequence: a pure function of (seed, source id, sample)."""
    return random.Random(f"lintseq:{seed}:{source_id}:{sample}")


def indentation(lines: list[str]) -> tuple[list[int], int | None]:
    """Per-line indentation as the authors compute it, and the tab width (first indent > 0)."""
    indents, tab_width, li = [], None, 0
    for line in lines:
        stripped = line.lstrip()
        if len(stripped) > 1:
            li = len(line) - len(stripped)
        indents.append(li)
        if tab_width is None and li > 0:
            tab_width = li
    return indents, tab_width


def candidate_lines(lines: list[str]) -> list[int]:
    """Lines that may be sampled: not blank, not a comment, not inside an ALL-CAPS global def."""
    out, open_def = [], None
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if not stripped or stripped[0] == "#":
            continue
        last = line.rstrip()[-1]
        if open_def is not None:
            if last == open_def:
                open_def = None
            continue
        out.append(i)
        if "=" in line and line[: line.find("=")].replace(" ", "").isupper() and last in "([":
            open_def = ")" if last == "(" else "]"
    return out


def children(i: int, indents: list[int]) -> list[int]:
    """Lines after ``i`` indented deeper than it, up to the first that is not."""
    out, j = [], i + 1
    while j < len(indents) and indents[j] > indents[i]:
        out.append(j)
        j += 1
    return out


def _check_newlines(program: str) -> None:
    """Lines are split at LF; Python also ends a line at a lone CR, so a program with CRs would
    put the linter's line numbers and ours on different lines. ``generate`` normalizes its input
    (``data.sources.normalize_program``); a direct call must too."""
    if "\r" in program:
        raise ValueError("program contains carriage returns: normalize it first "
                         "(lintseq.data.sources.normalize_program turns CRLF and CR into LF)")


def lintseq_sample(program: str, linter: Linter, rng: random.Random, max_edits: int = MAX_EDITS) -> EditSequence | None:
    """Sample one LintSeq edit sequence for ``program``; None when it has no candidate line."""
    _check_newlines(program)
    lines = program.split("\n")
    n = len(lines)
    indents, tab_width = indentation(lines)
    remaining = candidate_lines(lines)
    if not remaining:
        return None
    weight = [1.0 if indents[i] == 0 else indents[i] / tab_width for i in range(n)]
    # a linter that takes a base (the hybrid's delta gate) judges each candidate against the
    # current state, known clean: the program itself when it has no errors, then each new state
    takes_base = getattr(linter, "takes_base", False)
    base = program if takes_base and not linter.error_lines(program) else None
    deleted: set[int] = set()
    backward: list[list[int]] = []
    calls = fallbacks = 0
    while remaining and len(backward) < max_edits:
        start = rng.choices(remaining, weights=[weight[i] for i in remaining])[0]
        edit: set[int] = set()
        affected = [start]
        while True:
            for a in list(affected):
                affected.extend(c for c in children(a, indents) if c not in edit)
            edit.update(affected)
            kept = [i for i in range(n) if i not in deleted and i not in edit]
            calls += 1
            text = "\n".join(lines[i] for i in kept)
            bad = (linter.error_lines(text, base=base) if takes_base else linter.error_lines(text)) if kept else []
            if not bad:
                base = text if takes_base else None
                break
            # line 0 / out of range: blame the last remaining line (the authors' rm[-1])
            affected = [kept[ln - 1] if 0 < ln <= len(kept) else kept[-1] for ln in bad]
            if all(a in edit for a in affected):  # cannot happen with a sane linter; stay total
                fallbacks += 1
                affected = kept
        deleted |= edit
        backward.append(sorted(edit))
        remaining = [i for i in remaining if i not in edit]
    return _forward(lines, backward, calls, capped=bool(remaining), fallbacks=fallbacks)


def randseq_sample(program: str, rng: random.Random) -> EditSequence | None:
    """RandSeq ablation: delete random (non-contiguous) chunks of lines, no linter."""
    lines = program.split("\n")
    remaining = list(range(len(lines)))
    if not program.strip():
        return None
    backward = []
    while remaining:
        size = 1 if len(remaining) == 1 else rng.randint(1, len(remaining) - 1)
        chunk = rng.sample(remaining, size)
        backward.append(sorted(chunk))
        chosen = set(chunk)
        remaining = [i for i in remaining if i not in chosen]
    return _forward(lines, backward, 0)


def _forward(lines: list[str], backward: list[list[int]], calls: int, capped=False, fallbacks=0) -> EditSequence:
    """Reverse the backward deletions into forward kept-line states and render the diffs."""
    full = list(range(len(lines)))
    states = [full]
    gone: set[int] = set()
    for edit in backward:
        gone |= set(edit)
        states.append([i for i in full if i not in gone])
    if states[-1]:
        states.append([])  # leftover skeleton (top-level comments, blanks) is the first edit
    states.reverse()
    if len(states) > 2 and all(not lines[i].strip() for i in states[1]):
        # a leftover of blank lines only joins the next edit: the authors' .strip() erases it (and
        # drops its empty diff); a blank-only first edit would teach models to open with blanks
        del states[1]
    # every backward edit deletes at least one line, so consecutive states always differ
    return EditSequence(render_sequence(lines, states), states, calls, capped, fallbacks, backward)
