"""Checking edit-sequence records: round trip, insertion-only edits, clean intermediate states.

For every record: applying ``edits`` to an empty file must rebuild ``program`` exactly, every
edit must be a well-formed insertion, and every intermediate state (the text after edits
1..K-1) must be clean under the linter (by default each record's own; RandSeq records have
none, so only the first two checks apply to them unless a linter is named). ``authors_differs``
counts records the authors' resolver would rebuild differently (a program line that starts with
``+`` or holds ``@@``: their text format cannot carry it); they are reported, not failed. Where a
record has the ``prompt``/``completion`` text that training reads, it must be what its
``instruction`` and ``edits`` render (``text_view_mismatches``).

    >>> rec = {"id": "0-0", "program": "x = 1\\nprint(x)", "linter": "fast",
    ...        "edits": ["@@ -0,0 +1 @@\\n+x = 1", "@@ -1,0 +2 @@\\n+print(x)"]}
    >>> r = verify_records([rec])
    >>> (r["sequences"], r["roundtrip_ok"], r["states"], r["clean_states"], r["authors_differs"])
    (1, 1, 1, 1, 0)
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Iterator

from ..diffs import apply_authors, apply_edit, is_insertion_only
from ..formats import editseq_completion, editseq_view
from ..jsonl import read_jsonl
from ..oracle import Linter, get_linter
from .records import settle_heap


def iter_records(path: str) -> Iterator[tuple[int, dict | None, str | None]]:
    """(line number, record or None, error) for each non-blank line of a records file."""
    for n, rec, err in read_jsonl(path):
        if rec is not None and (not isinstance(rec.get("edits"), list) or "program" not in rec):
            rec, err = None, f"line {n}: not an edit-sequence record (needs 'program' and 'edits')"
        yield n, rec, err


def verify_records(records: Iterable[dict], linter: str | None = None, max_violations: int = 20) -> dict:
    """Counts over all records plus the first ``max_violations`` violations found."""
    linters: dict[str, Linter] = {}
    c: Counter = Counter()
    violations: list[dict] = []

    def flag(rec, kind, detail):
        c[kind] += 1
        if len(violations) < max_violations:
            violations.append({"id": rec.get("id"), "check": kind, "detail": detail})

    for rec in records:
        c["sequences"] += 1
        edits = [e for e in rec["edits"]]
        lines: list[str] = []
        states = []
        insertion_ok = True
        for k, edit in enumerate(edits):
            if not isinstance(edit, str) or not is_insertion_only(edit):
                insertion_ok = False
                flag(rec, "not_insertion_only", f"edit {k + 1}")
                continue
            apply_edit(lines, edit)
            if k < len(edits) - 1:
                states.append("\n".join(lines))
        c["insertion_only_ok"] += insertion_ok
        if "\n".join(lines) == rec["program"]:
            c["roundtrip_ok"] += 1
        else:
            flag(rec, "roundtrip", "applying the edits does not rebuild the program")
        if insertion_ok and apply_authors(editseq_completion(edits)).lines != lines:
            c["authors_differs"] += 1
        if insertion_ok and ("prompt" in rec or "completion" in rec):
            # training reads these text fields where a record has them, not the edits
            view = editseq_view(str(rec.get("instruction", "")), edits)
            wrong = [k for k in ("prompt", "completion") if k in rec and rec[k] != view[k]]
            if wrong:
                flag(rec, "text_view", f"{' and '.join(wrong)} not what the instruction and edits render")
        name = linter or rec.get("linter")
        if not name:
            continue
        if name not in linters:
            linters[name] = get_linter(name)
        judge = linters[name]
        # a linter that takes a base judges each state against its successor, as the sampler
        # judged it against the state it came from (backward: the program first, when clean)
        takes_base = getattr(judge, "takes_base", False)
        base = rec["program"] if takes_base and not judge.messages(rec["program"]) else None
        unclean = {}
        for k in range(len(states), 0, -1):
            state = states[k - 1]
            c["states"] += 1
            msgs = judge.messages(state, base=base) if takes_base else judge.messages(state)
            if msgs:
                unclean[k] = msgs[0]
                base = None
            else:
                c["clean_states"] += 1
                base = state
        for k, m in sorted(unclean.items()):
            flag(rec, "unclean_state", f"after edit {k}: line {m.line} {m.code} {m.text}")
        settle_heap()  # as the generator does: astroid's built modules out of the collector's walks
    n = c["sequences"]
    return {
        "sequences": n,
        "roundtrip_ok": c["roundtrip_ok"],
        "insertion_only_ok": c["insertion_only_ok"],
        "states": c["states"],
        "clean_states": c["clean_states"],
        "unreadable_lines": c["unreadable"],
        "authors_differs": c["authors_differs"],
        "linter": linter or "per-record",
        "text_view_mismatches": c["text_view"],
        "ok": (n > 0 and c["roundtrip_ok"] == n and c["insertion_only_ok"] == n and c["clean_states"] == c["states"]
               and not c["text_view"]),
        "violations": violations,
    }


def verify_file(path: str, linter: str | None = None) -> dict:
    """:func:`verify_records` over a JSONL file; unreadable lines count as violations."""
    bad: list[dict] = []

    def good():
        for n, rec, err in iter_records(path):
            if rec is None:
                bad.append({"id": f"line {n}", "check": "unreadable", "detail": err})
            else:
                yield rec

    report = verify_records(good(), linter)
    report["unreadable_lines"] = len(bad)
    report["violations"] = bad[:20] + report["violations"]
    report["ok"] = report["ok"] and not bad
    return report
