"""Generated text -> program: the one resolver ``sample``, ``evaluate``, ``resolve`` and ``show`` share.

Both arms are resolved as the authors' evaluation resolves them (upiterbarg/lintseq,
``src/eval/humaneval/evaluation.py``), so neither is scored more leniently than the other:

1. generation stops at EOS (``eos``: the text from the first EOS on is dropped, as vLLM's stop does);
2. an edit-sequence completion (``editseq``) becomes a program by the authors' ``resolve_edit_path``
   (``rule="authors"``, see ``diffs.apply_authors``) or by our ``strict`` rule (what ``verify``
   checks records with); a plain completion is taken as it is;
3. markdown fences are stripped as the authors strip them, for both formats: the text after the
   first ```` ```python ```` when there is one, then the text before the next ```` ``` ````.
   (A ```` ```py ```` fence therefore keeps only what came before it, as theirs does.)

``extract="rescue"`` is an extra, off by default and applied to both formats alike: a program that
does not compile loses its leading prose and then trailing lines until it does.

    >>> r = resolve("@@ -0,0 +1 @@\\n+def f():\\n    return 1\\n<|diff|>\\n<|diff|>", "editseq")
    >>> r.program, r.hunks, r.miscounted, r.malformed
    ('def f():\\n    return 1', 1, 1, 1)
    >>> resolve("@@ -0,0 +1 @@\\n+def f():\\n+    return 1", "editseq", rule="strict").program
    ''
    >>> r = resolve("Sure! Here it is:\\n```python\\ndef f():\\n    return 1\\n```\\nHope it helps.", "plain")
    >>> r.program, r.extraction
    ('\\ndef f():\\n    return 1\\n', 'fence')
    >>> resolve("Sure:\\ndef f():\\n    return 1\\nDone.", "plain", extract="rescue").program
    'def f():\\n    return 1'
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from .diffs import RULE_ALIASES, RULES, apply_authors, apply_edits
from .formats import DIFF_TOKEN, split_completion

FORMATS = ("editseq", "plain")
EXTRACTS = ("authors", "rescue")
_CODE_START = re.compile(r"^(def |class |async def |import |from \S+ import |@\w)")


@dataclass
class Resolution:
    """A program and how it was obtained (what result rows record as ``resolution``)."""

    program: str
    format: str
    rule: str = ""
    """``authors`` / ``strict`` for edit sequences; empty for plain text."""
    edits: int = 0
    """Pieces between ``<|diff|>`` markers that hold a hunk (edit sequences)."""
    hunks: int = 0
    """Hunks applied."""
    malformed: int = 0
    """Hunks skipped (unparsable), plus (``authors``) hunks applied with lines lacking ``+``."""
    miscounted: int = 0
    """Hunks whose body length differs from the header's count (inserted anyway under ``authors``)."""
    extraction: str = ""
    """``fence`` (a markdown fence was stripped), ``as_is``, or ``rescued`` (``extract="rescue"`` changed it)."""
    extract: str = "authors"
    """The extraction mode: ``authors`` (fences only) or ``rescue``."""

    def info(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "program"}


def _parses(text: str) -> bool:
    try:
        compile(text, "<sample>", "exec")
        return True
    except (SyntaxError, ValueError):
        return False


def strip_fences(text: str) -> tuple[str, str]:
    """(text, how) with markdown fences stripped as the authors' HumanEval evaluation does."""
    how = "as_is"
    if "```python" in text:
        text, how = text[text.find("```python") + len("```python"):], "fence"
    if "```" in text:
        text, how = text[: text.find("```")], "fence"
    return text, how


def rescue(text: str) -> str | None:
    """A compiling program from ``text`` (leading prose dropped, trailing lines cut), or None."""
    lines = text.strip("\n").split("\n")
    start = next((i for i, ln in enumerate(lines) if _CODE_START.match(ln)), 0)
    for end in range(len(lines), start, -1):
        candidate = "\n".join(lines[start:end]).rstrip("\n")
        if _parses(candidate):
            return candidate
    return None


def extract_program(text: str, extract: str = "authors") -> tuple[str, str]:
    """(program, how) from a completion's text: fences stripped, then the optional rescue."""
    if extract not in EXTRACTS:
        raise ValueError(f"unknown extraction {extract!r}: one of {EXTRACTS}")
    program, how = strip_fences(text)
    if extract == "rescue" and not _parses(program):
        rescued = rescue(program)
        if rescued is not None:
            return rescued, "rescued"
    return program, how


def resolve(raw: str, fmt: str, rule: str = "authors", eos: str | None = None, extract: str = "authors") -> Resolution:
    """Resolve one generated completion (``raw``, without the prompt) into a program."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: one of {FORMATS}")
    if eos and eos in raw:
        raw = raw[: raw.index(eos)]
    if fmt == "plain":
        program, how = extract_program(raw, extract)
        return Resolution(program, fmt, extraction=how, extract=extract)
    rule = RULE_ALIASES.get(rule, rule)
    if rule not in RULES:
        raise ValueError(f"unknown resolution rule {rule!r}: one of {RULES}")
    if rule == "strict":
        edits = split_completion(raw)
        applied = apply_edits(edits, rule="strict")
        return Resolution(applied.text, fmt, rule, len(edits), applied.hunks, applied.malformed, applied.miscounted,
                          extract="none")
    applied = apply_authors(raw)
    program, how = extract_program(applied.text, extract)
    edits = sum("@@" in piece for piece in raw.split("\n<|diff|>"))
    return Resolution(program, fmt, rule, edits, applied.hunks, applied.malformed, applied.miscounted, how, extract)


def resolve_raw(row: dict, rule: str = "authors", extract: str = "authors") -> Resolution:
    """A samples row's ``raw`` text resolved with the row's own ``format`` (else guessed from the
    diff token) and ``eos``: the tokenizer's end-of-text string, which `lintseq sample` records
    because it decodes with special tokens kept (the text after EOS is not the model's answer).

        >>> resolve_raw({"raw": "x = 1<|endoftext|>junk", "format": "plain", "eos": "<|endoftext|>"}).program
        'x = 1'
    """
    raw = row["raw"]
    fmt = row.get("format") or ("editseq" if DIFF_TOKEN in raw else "plain")
    eos = row.get("eos") if isinstance(row.get("eos"), str) else None
    return resolve(raw, fmt, rule, eos, extract)
