"""MBPP+ (EvalPlus) tasks, scored the way EvalPlus scores them.

The file stores each task's inputs as JSON, which turns tuples into lists and cannot hold sets
or complex numbers. EvalPlus restores those types per task before anything runs (its
``mbpp_deserialize_inputs``); ``INPUT_TYPES`` is the same table in our words, one named
conversion per group of tasks, applied inside the sandbox by ``runner.py``. A few tasks also
have their own output check there (``ORACLES``) and two accept a second reference
(``ALTERNATIVE_REFERENCES``), as EvalPlus's special oracles do.

Protocols (``--protocol``): ``default`` scores every row of the file; ``release`` leaves out the
21 tasks EvalPlus removed as broken in v0.2.0 (378 remain, the hub release) and, as v0.2.0 did,
the source URLs some prompts end with; ``authors`` is how
the LintSeq authors' evaluation code ran MBPP+: the release's rows with its first 100 left out
("Always head-out first 100 examples", src/eval/mbpp), 278 tasks.

    >>> INPUT_TYPES["Mbpp/2"], ORACLES["Mbpp/2"], PROTOCOLS
    ('each_arg_tuple', 'set', ('default', 'release', 'authors'))
"""

from __future__ import annotations

import json
import re

from ..errors import LintseqError
from .base import Benchmark, Task, from_hub, function_instruction, local_file, read_jsonl, signature_of

PROTOCOLS = ("default", "release", "authors")


def _ids(kind: str, numbers: str) -> dict[str, str]:
    return {f"Mbpp/{n}": kind for n in numbers.split()}


# which conversion restores each task's argument types (runner.py: _RESTORE holds what each name does)
INPUT_TYPES: dict[str, str] = {
    **_ids("each_arg_tuple", "2 116 132 143 222 261 273 394 399 421 424 429 470 560 579 596 616 630 726 740 744 809"),
    **_ids("each_arg_list_of_tuples", "63 64 70 94 120 237 272 299 400 409 417 438 473 614 780"),
    **_ids("first_arg_list_of_tuples", "75 413 444 753"),
    **_ids("second_arg_tuple", "106 750"),
    **_ids("first_arg_sets", "115"),
    **_ids("float_and_complex", "124"),
    **_ids("first_arg_tuple", "250 405 446 617 720 763 808 307"),
    **_ids("each_arg_tuple_of_tuples", "259 401 445"),
    **_ids("first_arg_tuple_inner_tuples", "278"),
    **_ids("first_arg_dict_values_tuple", "722"),
    **_ids("first_arg_complex", "252"),
    **_ids("all_lists_tuple", "580 615 791"),
}

# outputs checked other than by equality: "set" (order-free), "not_none" (did it match at all:
# the reference's re.Match/None becomes True/False), "runs" (any output), "or_zero" (0 accepted too)
ORACLES: dict[str, str] = {
    **_ids("set", "2 7 111 140 232 249 579 769"),
    **_ids("not_none", "737 787 794"),
    **_ids("runs", "164"),
    **_ids("or_zero", "295"),
}

# a second accepted reference where the task's wording allows two readings
ALTERNATIVE_REFERENCES: dict[str, str] = {
    # "surface area of a square pyramid": the slant height computed from the height
    "Mbpp/581": ("def surface_Area(b, s):\n    slant = ((b / 2) ** 2 + s ** 2) ** 0.5\n"
                 "    return round(b * b + 2 * b * slant)\n"),
    # digit distance of numbers of different lengths: the shorter one zero-padded
    "Mbpp/558": ("def digit_distance_nums(n1, n2):\n    a, b = str(n1), str(n2)\n    width = max(len(a), len(b))\n"
                 "    return sum(abs(int(x) - int(y)) for x, y in zip(a.zfill(width), b.zfill(width)))\n"),
}

# tasks EvalPlus v0.2.0 removed as broken (tools/mbpp/fix_v010.py; 399 -> 378)
REMOVED_IN_RELEASE = frozenset(f"Mbpp/{n}" for n in (
    "83 115 117 143 164 229 249 295 396 400 407 431 438 442 461 574 582 595 640 746 783".split()))
AUTHORS_SKIP_FIRST = 100
_URL = re.compile(r"[ \t]*https?://\S+")


def select_protocol(rows: list[dict], protocol: str) -> list[dict]:
    """The rows a protocol scores (see the module docstring), in file order."""
    if protocol not in PROTOCOLS:
        raise LintseqError(f"unknown MBPP+ protocol {protocol!r}", fix=f"choose one of {', '.join(PROTOCOLS)}")
    if protocol == "default":
        return rows
    # v0.2.0 also took the URLs out of the prompts that cited their source (tools/mbpp/fix_v010.py)
    release = [{**r, "prompt": _URL.sub("", r["prompt"])} for r in rows if r["task_id"] not in REMOVED_IN_RELEASE]
    return release if protocol == "release" else release[AUTHORS_SKIP_FIRST:]


def io_test(row: dict) -> dict:
    """The runner payload of one MBPP+ row: inputs (base then plus), the reference that computes
    the expected outputs, and how to restore types and compare."""
    base, plus = (json.loads(x) if isinstance(x, str) else x for x in (row["base_input"], row["plus_input"]))
    tid = row["task_id"]
    return {"kind": "io", "entry_point": row["entry_point"], "inputs": list(base or []) + list(plus or []),
            "atol": float(row.get("atol") or 0), "reference": row["canonical_solution"], "n_base": len(base or []),
            "restore": INPUT_TYPES.get(tid), "oracle": ORACLES.get(tid),
            "alternative": ALTERNATIVE_REFERENCES.get(tid)}  # one task ships plus_input as {}


def load(folder: str | None, protocol: str = "default", **options) -> dict:
    """MBPP+'s tasks from ``mbppplus/MbppPlus-prerelease.jsonl`` (or the hub's ``evalplus/mbppplus``),
    the rows ``protocol`` selects."""
    if folder:
        rows = read_jsonl(local_file(folder, "mbppplus", "MbppPlus-prerelease.jsonl"))
    else:
        rows = [dict(r) for r in from_hub("mbppplus", "evalplus/mbppplus")["test"]]
    tasks = {}
    for r in select_protocol(rows, protocol):
        text = r["prompt"].strip().strip("'\"").strip()
        sig, _ = signature_of(r["canonical_solution"], r["entry_point"])
        tasks[r["task_id"]] = Task(r["task_id"], function_instruction(text, sig), "", io_test(r), r["canonical_solution"])
    return tasks


BENCHMARKS = (Benchmark("mbppplus", load, order=3, folder="mbppplus", protocols=PROTOCOLS),)
