"""The generation workflow: instruction/program rows in, LintSeq edit-sequence records out.

``pipeline`` (the resumable run, its summary and side files), ``records`` (one row -> s records,
the unit every engine runs), ``engines`` (in process, a local pool, or Ray), ``verify`` (checking
records) and ``show`` (one sequence for a person).

    >>> from lintseq.generate import GenerateConfig, generate  # doctest: +SKIP
    >>> generate(GenerateConfig(output="seqs.jsonl", input="pairs.jsonl", samples=5))  # doctest: +SKIP
"""

from .pipeline import GenerateConfig, ResumeMismatch, generate, side_path, write_parquet

__all__ = ["GenerateConfig", "ResumeMismatch", "generate", "side_path", "write_parquet"]
