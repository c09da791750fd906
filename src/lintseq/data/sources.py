"""Reading instruction/program sources and normalising programs.

A source is a JSONL file, a Parquet file, or a Hugging Face dataset (a hub name or a
``save_to_disk`` folder). Every row becomes a :class:`Row` with its 0-based row index as
``source_id``; a row that cannot be read becomes a :class:`Reject` with a reason, never an
exception, so one broken record never stops a run.

    >>> extract_code("Here you go:\\n```python\\nprint(1)\\n```\\nDone.")
    'print(1)'
    >>> program_of("Here you go:\\n```python\\nprint(1)\\n```\\nDone.")
    ('print(1)', 'fence')
    >>> program_of("def f():\\n    '''Use it:\\n\\n    ```python\\n    f()\\n    ```\\n    '''")[1]
    'as_is'
    >>> normalize_program("\\ufeffx = 1\\r\\ny = 2\\r\\n\\r\\n")
    'x = 1\\ny = 2'
    >>> classify("# just a comment", max_lines=1000).reason
    'comment_only'
"""

from __future__ import annotations

import ast
import json
import os
import re
import warnings
from dataclasses import dataclass
from typing import Iterator

from ..backward_sampling import candidate_lines

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:\n[ \t]*```|\Z)", re.S)
# CommonMark fences: opened and closed at the start of a line, indented at most 3 spaces, so a
# docstring's indented ```python example inside a fenced program does not close the fence
_LINE_FENCE = re.compile(r"^ {0,3}```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:\n {0,3}```[ \t]*$|\Z)", re.S | re.M)


@dataclass
class Row:
    """One input row: its index, its own id if it had one, instruction and raw code."""

    source_id: int
    instruction: str | None = None
    code: str | None = None
    input_id: object = None
    reject: "Reject | None" = None


@dataclass
class Reject:
    source_id: int
    reason: str
    detail: str

    def to_json(self) -> dict:
        return {"source_id": self.source_id, "reason": self.reason, "detail": self.detail}


def extract_code(text: str) -> str:
    """Keep the contents of Python markdown fences (joined by newlines), else the text itself.

    Fences tagged ``python``/``py``/``python3`` win; untagged fences are used when no tagged
    one exists; fences in other languages are ignored. Prose around fences is dropped.
    """
    if "```" not in text:
        return text
    blocks = [(lang.lower(), body) for lang, body in _LINE_FENCE.findall(text) or _FENCE.findall(text)]
    if not blocks:
        return text
    py = [b for lang, b in blocks if lang in ("python", "py", "python3")]
    bare = [b for lang, b in blocks if lang == ""]
    chosen = py or bare
    return "\n".join(chosen) if chosen else text


EXTRACTED = ("as_is", "fence")


def _parses(text: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(text, "<program>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return False
    return True


def program_of(code: str) -> tuple[str, str]:
    """The normalised program in a row's code field, and how it was found (:data:`EXTRACTED`).

    Text that parses as Python as given is the program (``"as_is"``), even when it contains
    markdown fences: a docstring may show examples in a ```` ```python ```` fence, and pulling
    that example out would lose the real program. Only text that does not parse has its fences
    extracted (``"fence"``); text with no usable fence stays as given (and is rejected later if
    it does not compile).
    """
    program = normalize_program(code)
    if "```" not in program or _parses(program):
        return program, "as_is"
    fenced = normalize_program(extract_code(program))  # fences found on LF text (CRLF hides closing ones)
    return (fenced, "fence") if fenced != program else (program, "as_is")


def normalize_program(code: str) -> str:
    """Drop a BOM, turn CRLF/CR into LF, remove trailing newlines; nothing else."""
    if code.startswith("\ufeff"):
        code = code[1:]
    return code.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")


def classify(program: str, max_lines: int) -> Reject | None:
    """Why ``program`` (normalised) cannot be sampled, or None when it can."""
    if not program.strip():
        return Reject(-1, "empty", "no code after normalisation")
    n = program.count("\n") + 1
    if max_lines and n > max_lines:
        return Reject(-1, "too_large", f"{n} lines > --max-lines {max_lines}")
    if not candidate_lines(program.split("\n")):
        return Reject(-1, "comment_only", "no line other than comments and blanks")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(program, "<program>", "exec", dont_inherit=True)
        except SyntaxError as exc:
            return Reject(-1, "syntax_error", f"line {exc.lineno}: {exc.msg}")
        except (ValueError, MemoryError, RecursionError) as exc:  # NUL bytes: binary data
            return Reject(-1, "syntax_error", f"does not compile: {exc}")
    return None


def _row_from_dict(i: int, obj, ifield: str, cfield: str) -> Row:
    if not isinstance(obj, dict):
        return Row(i, reject=Reject(i, "bad_record", f"row is {type(obj).__name__}, not an object"))
    for key in (ifield, cfield):
        if key not in obj:
            return Row(i, reject=Reject(i, "bad_record", f"missing field {key!r}"))
        if not isinstance(obj[key], str):
            return Row(i, reject=Reject(i, "bad_record", f"field {key!r} is {type(obj[key]).__name__}, not a string"))
        try:
            obj[key].encode("utf-8")
        except UnicodeEncodeError as exc:
            return Row(i, reject=Reject(i, "not_utf8", f"field {key!r}: {exc.reason}"))
    return Row(i, obj[ifield], obj[cfield], _input_id(obj.get("id", obj.get("task_id"))))


def _input_id(value):
    """The row's own id, kept in its records as ``input_id``: JSON's plain values as they are,
    anything else (a Parquet timestamp, bytes) as its text; text that is not valid UTF-8 (a lone
    surrogate) as its escaped form, so one odd id never stops the writing of a run.

        >>> _input_id(7), _input_id("a"), _input_id("\\ud800"), _input_id(b"x")
        (7, 'a', '\\\\ud800', "b'x'")
    """
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = value if isinstance(value, str) else str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _iter_jsonl(path: str, ifield: str, cfield: str) -> Iterator[Row]:
    i = 0
    with open(path, "rb") as fh:
        for raw in fh:
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8-sig")  # a byte-order mark (editors on Windows write one) is not data
            except UnicodeDecodeError as exc:
                yield Row(i, reject=Reject(i, "not_utf8", f"byte {exc.start}: {exc.reason}"))
            else:
                try:
                    obj = json.loads(text)
                except ValueError as exc:
                    yield Row(i, reject=Reject(i, "bad_record", f"invalid JSON: {exc}"))
                else:
                    yield _row_from_dict(i, obj, ifield, cfield)
            i += 1


def _iter_parquet(path: str, ifield: str, cfield: str) -> Iterator[Row]:
    import pyarrow.parquet as pq

    i = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
        for obj in batch.to_pylist():
            yield _row_from_dict(i, obj, ifield, cfield)
            i += 1


def _iter_hf(name: str, ifield: str, cfield: str, split: str) -> Iterator[Row]:
    import datasets

    if os.path.isdir(name) and os.path.exists(os.path.join(name, "dataset_info.json")) or (
        os.path.isdir(name) and os.path.exists(os.path.join(name, "dataset_dict.json"))
    ):
        ds = datasets.load_from_disk(name)
    else:
        ds = datasets.load_dataset(name, split=split)
    if isinstance(ds, datasets.DatasetDict):
        ds = ds[split]
    for i, obj in enumerate(ds):
        yield _row_from_dict(i, dict(obj), ifield, cfield)


def iter_rows(source: str, instruction_field="instruction", code_field="response", split="train") -> Iterator[Row]:
    """Rows of a JSONL/Parquet file or a Hugging Face dataset name/folder."""
    low = source.lower()
    if os.path.isfile(source) and (low.endswith(".parquet") or low.endswith(".pq")):
        return _iter_parquet(source, instruction_field, code_field)
    if os.path.isfile(source):
        return _iter_jsonl(source, instruction_field, code_field)
    return _iter_hf(source, instruction_field, code_field, split)


def count_rows(source: str) -> int | None:
    """Row count for a progress bar when it is cheap to know (JSONL, Parquet), else None."""
    try:
        if source.lower().endswith((".parquet", ".pq")):
            import pyarrow.parquet as pq

            return pq.ParquetFile(source).metadata.num_rows
        if os.path.isfile(source):
            with open(source, "rb") as fh:
                return sum(1 for line in fh if line.strip())
    except Exception:  # a count is only for the progress bar
        return None
    return None
