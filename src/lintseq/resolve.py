"""Generated text -> program: the one resolver ``sample``, ``evaluate`` and ``show`` share.

An edit-sequence completion (``editseq``) is split at ``\\n<|diff|>`` up to the empty edit and
its hunks applied to an empty file by the shared applier (``diffs.py``) under the ``paper`` rule
(the authors' evaluation: header counts not trusted) or the ``strict`` one. A plain completion
(the baseline) is turned into a program as the authors' evaluation does: the first fenced
markdown block when there is one, else the text itself when it parses, else the text from its
first line of code on (leading prose dropped, trailing prose cut until it parses).

    >>> r = resolve("@@ -0,0 +1 @@\\n+def f():\\n+    return 1\\n<|diff|>\\n<|diff|>", "editseq")
    >>> r.program, r.hunks, r.miscounted
    ('def f():\\n    return 1', 1, 1)
    >>> resolve("@@ -0,0 +1 @@\\n+def f():\\n+    return 1", "editseq", rule="strict").program
    ''
    >>> r = resolve("Sure! Here it is:\\n```python\\ndef f():\\n    return 1\\n```\\nHope it helps.", "plain")
    >>> r.program, r.extraction
    ('def f():\\n    return 1', 'fence')
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from .diffs import RULES, apply_edits
from .formats import split_completion

FORMATS = ("editseq", "plain")
_FENCE = re.compile(r"^[ \t]*```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:^[ \t]*```|\Z)", re.S | re.M)
_CODE_START = re.compile(r"^(def |class |async def |import |from \S+ import |@\w)")


@dataclass
class Resolution:
    """A program and how it was obtained (what result rows record as ``resolution``)."""

    program: str
    format: str
    rule: str = ""
    """``paper`` / ``strict`` for edit sequences; empty for plain text."""
    edits: int = 0
    hunks: int = 0
    """Hunks applied."""
    malformed: int = 0
    """Hunks skipped (strict), or with an unparsable header or stray body lines."""
    miscounted: int = 0
    """Hunks whose ``+`` lines differ from the header's count (inserted anyway under ``paper``)."""
    extraction: str = ""
    """Plain text: ``fence``, ``as_is``, ``from_code`` or ``unparsed``."""

    def info(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "program"}


def _parses(text: str) -> bool:
    try:
        compile(text, "<sample>", "exec")
        return True
    except (SyntaxError, ValueError):
        return False


def extract_program(text: str) -> tuple[str, str]:
    """(program, how) from a plain completion; ``how`` in fence / as_is / from_code / unparsed."""
    blocks = [(lang.lower(), body) for lang, body in _FENCE.findall(text)]
    code = [b for lang, b in blocks if lang in ("", "python", "py", "python3")] or [b for _, b in blocks]
    if code:
        return code[0].rstrip("\n"), "fence"
    stripped = text.strip("\n")
    if _parses(stripped):
        return stripped, "as_is"
    lines = stripped.split("\n")
    start = next((i for i, ln in enumerate(lines) if _CODE_START.match(ln)), None)
    if start is not None:
        for end in range(len(lines), start, -1):  # cut trailing prose until it parses
            candidate = "\n".join(lines[start:end]).rstrip("\n")
            if _parses(candidate):
                return candidate, "from_code"
    return stripped, "unparsed"


def resolve(raw: str, fmt: str, rule: str = "paper", eos: str | None = None) -> Resolution:
    """Resolve one generated completion (``raw``, without the prompt) into a program."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: one of {FORMATS}")
    if eos and eos in raw:
        raw = raw[: raw.index(eos)]
    if fmt == "plain":
        program, how = extract_program(raw)
        return Resolution(program, fmt, extraction=how)
    if rule not in RULES:
        raise ValueError(f"unknown resolution rule {rule!r}: one of {RULES}")
    edits = split_completion(raw)
    applied = apply_edits(edits, rule=rule)
    return Resolution(applied.text, fmt, rule, len(edits), applied.hunks, applied.malformed, applied.miscounted)
