"""lintseq: LintSeq synthetic edit sequences, end to end (see README.md for the map)."""

__version__ = "0.1.0"
