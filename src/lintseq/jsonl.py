"""JSONL in and out, the one way every command does it: a tolerant reader that numbers lines
and reports bad ones instead of stopping, and an atomic writer (a failed command leaves no
half-written file behind).

    >>> import tempfile, os; path = os.path.join(tempfile.mkdtemp(), "x.jsonl")
    >>> write_jsonl(path, [{"a": 1}, {"a": 2}])
    2
    >>> open(path, "a").write("not json\\n")
    9
    >>> [(n, obj, err) for n, obj, err in read_jsonl(path)]
    [(1, {'a': 1}, None), (2, {'a': 2}, None), (3, None, 'line 3: invalid JSON (Expecting value)')]
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
from typing import Iterable, Iterator

from .errors import LintseqError


def read_jsonl(path: str) -> Iterator[tuple[int, dict | None, str | None]]:
    """(line number, object, None) per good line, (line number, None, reason) per bad one; blank
    lines skipped. A missing or unreadable file is a LintseqError; ``.gz`` files are read too."""
    if os.path.isdir(path):
        raise LintseqError(f"{path!r} is a directory, not a JSONL file", fix="give the path of a .jsonl file")
    opener = gzip.open if path.endswith(".gz") else open
    try:
        fh = opener(path, "rb")
    except OSError as exc:
        raise LintseqError(f"cannot read {path!r}: {exc.strerror or exc}", fix="check the path") from None
    with fh:
        for n, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw.decode("utf-8-sig"))
            except UnicodeDecodeError as exc:
                yield n, None, f"line {n}: not UTF-8 text (byte {exc.start}: {exc.reason}); convert the file to UTF-8"
                continue
            except ValueError as exc:
                yield n, None, f"line {n}: invalid JSON ({str(exc).split(':')[0]})"
                continue
            yield (n, obj, None) if isinstance(obj, dict) else (n, None, f"line {n}: not a JSON object")


def read_objects(path: str) -> list[dict]:
    """Every object of a file that must be well formed: the first bad line is a LintseqError."""
    out = []
    for n, obj, err in read_jsonl(path):
        if err:
            raise LintseqError(f"{path}: {err}")
        out.append(obj)
    return out


@contextlib.contextmanager
def atomic_open(path: str, mode: str = "w"):
    """Write to ``path + '.tmp'`` and move it into place only when the block succeeds."""
    tmp = f"{path}.tmp"
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fh = open(tmp, mode, encoding=None if "b" in mode else "utf-8")
    try:
        with fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def write_jsonl(path: str, rows: Iterable[dict]) -> int:
    """Write ``rows`` atomically; returns how many."""
    n = 0
    with atomic_open(path) as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def write_json(path: str, obj, indent: int = 1) -> None:
    with atomic_open(path) as fh:
        json.dump(obj, fh, indent=indent)
