"""Turning one input row into edit-sequence records (or a reject): the unit of work that the
local pool and Ray both run, so both engines produce the same records.

    >>> from lintseq.data.sources import Row
    >>> out = process_row(Row(7, "Add one.", "def f(x):\\n    return x + 1"), JobSpec(samples=2))
    >>> [r["id"] for r in out.records], out.reject
    (['7-0', '7-1'], None)
"""

from __future__ import annotations

import gc
import sys
from dataclasses import asdict, dataclass, field

from ..diffs import inserted_line_count
from ..formats import editseq_view
from ..oracle import DEFAULT_LINTER, get_linter
from ..backward_sampling import lintseq_sample, randseq_sample, rng_for
from ..data.sources import Reject, Row, classify, program_of

SAMPLERS = ("lintseq", "randseq")


@dataclass(frozen=True)
class JobSpec:
    """What decides the records: changing any field changes the output."""

    samples: int = 5
    """Edit sequences per program (the paper's s)."""
    seed: int = 0
    """Base seed; each sequence's RNG is seeded by (seed, source_id, sample)."""
    linter: str = DEFAULT_LINTER
    """Oracle for --sampler lintseq: ``hybrid`` (default), ``fast`` or ``pylint``."""
    sampler: str = "lintseq"
    """``lintseq`` or the linter-free ablation ``randseq``."""
    max_lines: int = 1000
    """Programs longer than this are rejected as too_large (0 lifts the limit)."""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class RowResult:
    source_id: int
    records: list[dict] = field(default_factory=list)
    reject: Reject | None = None
    lint_calls: int = 0


_LINTERS: dict[str, object] = {}


def _linter(name: str):
    """One linter per process, built on first use (pylint set-up is not free)."""
    if name not in _LINTERS:
        _LINTERS[name] = get_linter(name)
    return _LINTERS[name]


class _Memo:
    """One row's linter verdicts by state: the s sequences of a program ask about the same
    states again (15% of the calls on HumanEval), and a linter is a pure function of the text
    (and of the base, for one that takes a base: the hybrid's delta gate)."""

    def __init__(self, linter) -> None:
        self.linter, self.name, self.cache = linter, linter.name, {}
        self.takes_base = getattr(linter, "takes_base", False)

    def error_lines(self, source: str, base: str | None = None) -> list[int]:
        key = (source, base) if self.takes_base else source
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = (self.linter.error_lines(source, base=base) if self.takes_base
                                       else self.linter.error_lines(source))
        return found

    def messages(self, source: str):
        return self.linter.messages(source)


def process_row(row: Row, spec: JobSpec) -> RowResult:
    """All ``spec.samples`` records for one row, or its reject. Never raises for bad data."""
    res = RowResult(row.source_id)
    if row.reject is not None:
        res.reject = row.reject
        return res
    program, extracted = program_of(row.code)
    why = classify(program, spec.max_lines)
    if why is not None:
        res.reject = Reject(row.source_id, why.reason, why.detail)
        return res
    linter = _Memo(_linter(spec.linter)) if spec.sampler == "lintseq" else None
    # errors the oracle already finds in the original go in the first backward step (as in the
    # paper), taking their blocks with them: counted so the summary can say when that dominates
    try:
        original_errors = len(linter.error_lines(program)) if linter else None
    except RecursionError:
        original_errors = None
    for k in range(spec.samples):
        rng = rng_for(spec.seed, row.source_id, k)
        try:
            seq = lintseq_sample(program, linter, rng) if linter else randseq_sample(program, rng)
        except RecursionError as exc:  # pathological nesting inside the linter
            res.records, res.reject = [], Reject(row.source_id, "syntax_error", f"linter failed: {exc!r}")
            return res
        if seq is None:
            res.records, res.reject = [], Reject(row.source_id, "comment_only", "no candidate line")
            return res
        res.lint_calls += seq.lint_calls
        rec = {
            "id": f"{row.source_id}-{k}",
            "source_id": row.source_id,
            "sample": k,
            "instruction": row.instruction,
            "program": program,
            "extracted": extracted,
            "edits": seq.edits,
            **editseq_view(row.instruction, seq.edits),
            "original_errors": original_errors,
            "sampler": spec.sampler,
            "linter": spec.linter if linter else None,
            "seed": spec.seed,
        }
        if row.input_id is not None:
            rec["input_id"] = row.input_id
        if seq.capped:
            rec["capped"] = True
        res.records.append(rec)
    return res


def process_rows(rows: list[Row], spec: JobSpec) -> list[RowResult]:
    """What every engine runs on a chunk: :func:`process_row` on each row, the heap settled after
    each (:func:`settle_heap`)."""
    out = []
    for r in rows:
        out.append(process_row(r, spec))
        settle_heap()
    return out


_astroid_modules_seen = [0]


def settle_heap() -> bool:
    """After astroid built modules (pylint inferred through imports), collect once and freeze
    what survives: the cache of built modules lives as long as the process, and left in the
    collector's reach every later collection walks it again. On the 400 real-world programs
    (s = 1, one process) Python's cyclic collector was a third of the CPU, and interpreter
    shutdown (collecting that heap once more) 7 s of a 35 s run; with this, 20 s in all, peak
    memory +7%. Objects frozen are still freed by reference counting; only cycles among them
    are never collected (a module astroid drops from its cache). A no-op until pylint has
    built something, so runs of the fast oracle alone never pay a collection. True when it
    collected."""
    manager = sys.modules.get("astroid.manager")
    if manager is None:
        return False
    built = len(manager.AstroidManager.brain["astroid_cache"])
    if built == _astroid_modules_seen[0]:
        return False
    gc.collect()
    gc.freeze()
    _astroid_modules_seen[0] = built
    return True


class Tally:
    """Running counts over written records, for the summary (resumed records included).

    ``degenerate`` flags a run where single-edit sequences or programs whose original already
    has oracle errors dominate: in the paper's algorithm those errors go in the first backward
    step with their blocks, so code that leans on names from the rest of its module collapses
    into one edit.

        >>> t = Tally()
        >>> for i in range(10):
        ...     t.add([{"source_id": i, "edits": ["@@ -0,0 +1 @@\\n+x = y"], "original_errors": 1}])
        >>> t.single_edit, t.programs_with_original_errors, bool(t.warnings())
        (10, 10, True)
    """

    DOMINANT = 0.5
    MIN_PROGRAMS = 10  # too few programs to call anything dominant

    def __init__(self) -> None:
        self.sequences = self.edits = self.lines = self.single_edit = 0
        self.programs = self.programs_with_original_errors = self.single_edit_broken = 0

    def add(self, records: list[dict]) -> None:
        """One program's records."""
        broken = bool(records and records[0].get("original_errors"))
        for rec in records:
            e, n = record_stats(rec)
            self.sequences, self.edits, self.lines = self.sequences + 1, self.edits + e, self.lines + n
            self.single_edit += e == 1
            self.single_edit_broken += e == 1 and broken
        if records:
            self.programs += 1
            self.programs_with_original_errors += broken

    def as_dict(self) -> dict:
        return {"single_edit_sequences": self.single_edit,
                "programs_with_original_errors": self.programs_with_original_errors}

    def warnings(self) -> list[str]:
        single = self.single_edit / self.sequences if self.sequences else 0.0
        broken = self.programs_with_original_errors / self.programs if self.programs else 0.0
        # short clean programs have single edits by nature: only errors as given make it a warning
        collapsed = self.single_edit_broken / self.sequences if self.sequences else 0.0
        if self.programs < self.MIN_PROGRAMS or max(collapsed, broken) <= self.DOMINANT:
            return []
        return [f"{100 * single:.0f}% of sequences have a single edit and {100 * broken:.0f}% of programs "
                "already have lint errors as given (often names defined elsewhere in their module); the "
                "first backward step deletes those lines with their blocks. Make programs self-contained: "
                "`lintseq corpus build` adds the imports they need and drops what it cannot bind."]


def record_stats(rec: dict) -> tuple[int, int]:
    """(edits, inserted lines) of one record, for the summary."""
    return len(rec["edits"]), sum(inserted_line_count(e) for e in rec["edits"])
