"""CodeContests (Li et al., 2022), the test split: 165 Codeforces problems judged as the
contest judges them, by running a whole program on each test's stdin and comparing its stdout.

Rows are the hub dataset's (``deepmind/code_contests``, split ``test``): ``name``,
``description``, ``public_tests`` / ``private_tests`` / ``generated_tests`` as {input: [...],
output: [...]}, ``solutions`` / ``incorrect_solutions`` as {language: [...], solution: [...]}
(Python 3 is the language ``3`` in the hub's integer enum, ``"PYTHON3"`` in exports that write the
enum's name; both are read), ``time_limit`` as {seconds, nanos} or null, ``memory_limit_bytes``,
``cf_contest_id``, ``cf_index``, ``cf_rating``, ``cf_tags``, ``difficulty``, ``source`` and the rest.
Locally: ``code_contests/test.jsonl(.gz)`` or the hub's ``test-*.parquet`` under ``--data-dir``.

Judging (``evaluate/checks.py``): public + private tests (``--generated-tests`` adds the
generated ones), each a fresh ``python program.py`` with the test on stdin, as the official
tester runs Python; the limit is the problem's time limit in CPU seconds (10 s when it has none,
the official tester's default; it ignores the problem's own), with 3x that plus 1 s of wall-clock
time for programs that wait; the address space is the problem's ``memory_limit_bytes`` (256 MiB
when unset) plus 32 MiB, as the official tester sets it; outputs compared as the official tester
does: whitespace-separated tokens, case-insensitive, numbers within 1e-5. The reference is the
first Python 3 solution.

    >>> time_limit({"seconds": 2, "nanos": 500000000}), time_limit(None)
    (2.5, 10.0)
"""

from __future__ import annotations

from .base import Benchmark, Task, first_local, from_hub

PYTHON3 = 3
DEFAULT_TIME_LIMIT = 10.0
DEFAULT_MEMORY_LIMIT = 256 << 20
WALL_FACTOR = 3.0


def time_limit(value: dict | None) -> float:
    """Seconds of a row's ``time_limit`` ({seconds, nanos}, or null: the tester's default)."""
    if not value:
        return DEFAULT_TIME_LIMIT
    seconds = int(value.get("seconds") or 0) + int(value.get("nanos") or 0) / 1e9
    return seconds or DEFAULT_TIME_LIMIT


def tests_of(row: dict, generated: bool) -> list[list[str]]:
    """[stdin, expected stdout] pairs: public, then private, then (optionally) generated."""
    kinds = ("public_tests", "private_tests") + (("generated_tests",) if generated else ())
    pairs = []
    for kind in kinds:
        block = row.get(kind) or {}
        pairs += [[i, o] for i, o in zip(block.get("input") or [], block.get("output") or [])]
    return pairs


def is_python3(language) -> bool:
    """The hub's integer (3), its name ("PYTHON3", any case), or the integer as text.

        >>> [is_python3(x) for x in (3, "PYTHON3", "python3", "3", 1, "PYTHON", "CPP", None)]
        [True, True, True, True, False, False, False, False]
    """
    if isinstance(language, bool):
        return False
    if isinstance(language, int):
        return language == PYTHON3
    return str(language).strip().upper() in ("PYTHON3", str(PYTHON3))


def python_solutions(block: dict | None) -> list[str]:
    block = block or {}
    return [s for lang, s in zip(block.get("language") or [], block.get("solution") or []) if is_python3(lang)]


def instruction(row: dict) -> str:
    return ("Write a Python program to solve the following problem. Read the input from standard input "
            f"and print the answer to standard output.\n{row['description'].strip()}")


def task_id(row: dict, index: int) -> str:
    """``CodeContests/<contest>_<index>`` from a Codeforces name like ``1548_C. The Three Little Pigs``."""
    head = str(row.get("name") or "").split(". ")[0].strip()
    return f"CodeContests/{head or index}"


def task_fields(row: dict, index: int, generated: bool) -> dict:
    """Task fields of one row (``tasks.Task`` keywords)."""
    tests = tests_of(row, generated)
    limit = time_limit(row.get("time_limit"))
    references = python_solutions(row.get("solutions"))
    wall = WALL_FACTOR * limit + 1.0
    return {"task_id": task_id(row, index), "instruction": instruction(row), "code_prompt": "",
            "test": {"kind": "stdio", "tests": tests, "time_limit": limit, "wall_limit": wall,
                     "memory_limit": int(row.get("memory_limit_bytes") or DEFAULT_MEMORY_LIMIT)},
            "reference": references[0] if references else "", "group": "",
            # every test may use its whole limit; the judge stops at the first failure
            "time_limit": wall * len(tests) + 5.0}


def load(folder: str | None, generated_tests: bool = False, **options) -> dict:
    """The test split from ``code_contests/test.jsonl(.gz)`` or ``test-*.parquet`` (or the hub's
    ``deepmind/code_contests``); ``generated_tests`` adds the generated tests to the judged ones."""
    rows = (first_local(folder, "code_contests", ("test.jsonl.gz", "test.jsonl", "test-*.parquet")) if folder
            else [dict(r) for r in from_hub("codecontests", "deepmind/code_contests", split="test")])
    tasks = {}
    for i, r in enumerate(rows):
        fields = task_fields(r, i, generated_tests)
        if fields["task_id"] in tasks:  # two rows of one name: keep both, by position
            fields["task_id"] = f"CodeContests/{i}"
        tasks[fields["task_id"]] = Task(**fields)
    return tasks


BENCHMARKS = (Benchmark("codecontests", load, order=6, folder="code_contests", decontaminate="if_local"),)
