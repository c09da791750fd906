"""The one exception type for user-facing failures.

A ``LintseqError`` names the thing that is wrong and how to fix it; ``lintseq`` prints its
message on one line and exits with status 2 (no traceback unless ``--debug``).

    >>> raise LintseqError("samples.jsonl: no such file", fix="check the path")
    Traceback (most recent call last):
    ...
    lintseq.errors.LintseqError: samples.jsonl: no such file (fix: check the path)
"""

from __future__ import annotations


class LintseqError(Exception):
    """A user-facing error: ``str(err)`` is the one line the CLI prints."""

    exit_code = 2

    def __init__(self, message: str, fix: str | None = None):
        self.message, self.fix = message, fix
        super().__init__(f"{message} (fix: {fix})" if fix else message)
