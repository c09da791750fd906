"""Linters as oracles: one small protocol, several backends.

A linter looks at one program state (a string) and reports the 1-based line numbers that carry
an error. The backward sampler deletes those lines until nothing is reported.

    >>> from lintseq.oracle import get_linter
    >>> fast = get_linter("fast")
    >>> fast.error_lines("x = 1\\nprint(y)")
    [2]
    >>> fast.error_lines("def f():\\n    return 1")
    []

Backends:
  ``hybrid`` (default) the fast oracle, with pylint confirming the accepted states that define a
             class or import beyond the stdlib and whose deletion can change what pylint infers:
             :mod:`lintseq.oracle.hybrid`.
  ``hybrid-stdlib`` the same, with pylint's inference kept to the standard library (no
             third-party module is built): several times faster on code that imports much, less
             faithful (README, *Measurements*).
  ``fast``   compile() + pyflakes + pylint's rules that need no inference, in process: see
             :mod:`lintseq.oracle.fast` for what it checks and what pylint checks that it does not.
  ``pylint`` the paper's exact oracle (pylint 3.2.6, ``--disable=C,R``; every E/F message plus
             W0311 and W0231 count), run in process on strings: :mod:`lintseq.oracle.pylint_oracle`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

LINTERS = ("fast", "hybrid", "hybrid-stdlib", "pylint")
DEFAULT_LINTER = "hybrid"
"""The one place the default linter is named (generate's config and its job spec read it)."""


@dataclass(frozen=True)
class LintMessage:
    """One reported problem: 1-based line in the checked state, a code and a text."""

    line: int
    code: str
    text: str


@runtime_checkable
class Linter(Protocol):
    """What the sampler needs from a linter."""

    name: str

    def messages(self, source: str) -> list[LintMessage]:
        """Every problem that counts as an error in ``source``."""
        ...

    def error_lines(self, source: str) -> list[int]:
        """Sorted, distinct 1-based lines of :meth:`messages` (0 = "no line", see sampler)."""
        ...


_ON_LINE = re.compile(r"on line (\d+)")


def syntax_error_line(lineno: int | None, msg: str) -> int:
    """The line to blame for a syntax error, as the authors' ``file_linter`` does.

    Messages such as "expected an indented block after 'if' statement on line 3" blame the
    header (line 3), not the line where parsing stopped.
    """
    m = _ON_LINE.search(msg)
    if m:
        return int(m.group(1))
    return int(lineno or 0)


def get_linter(name: str) -> Linter:
    """Build a linter by name: one of :data:`LINTERS`."""
    if name == "fast":
        from .fast import FastLinter

        return FastLinter()
    if name == "pylint":
        from .pylint_oracle import PylintLinter

        return PylintLinter()
    if name in ("hybrid", "hybrid-stdlib"):
        from .hybrid import HybridLinter

        return HybridLinter(installed=name == "hybrid")
    raise ValueError(f"unknown linter {name!r}; choose one of {', '.join(LINTERS)}")
