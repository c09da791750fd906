"""BigCodeBench (Zhuo et al., 2024): 1,140 practical tasks over 139 libraries, judged by each
task's ``unittest`` class. Rows come from ``bigcodebench/BigCodeBench.jsonl.gz`` under the data
folder, or the hub's ``bigcode/bigcodebench`` (its newest version). A task whose libraries (listed,
or imported by its prompt, reference or tests) are not installed is not runnable here.
"""

from __future__ import annotations

import ast
import re

from .base import Benchmark, Task, from_hub, imported_modules, local_file, read_jsonl


def newest_split(names) -> str:
    """The hub dataset's newest release split, by version number, not text (v0.1.10 after v0.1.2).

        >>> newest_split(["v0.1.0_hf", "v0.1.10", "v0.1.2"])
        'v0.1.10'
    """
    return max(names, key=lambda name: [int(part) for part in re.findall(r"\d+", name)])


def load(folder: str | None, **options) -> dict[str, Task]:
    if folder:
        rows = read_jsonl(local_file(folder, "bigcodebench", "BigCodeBench.jsonl.gz"))
    else:
        ds = from_hub("bigcodebench", "bigcode/bigcodebench")
        rows = [dict(r) for r in ds[newest_split(ds.keys())]]
    tasks = {}
    for r in rows:
        libs = r["libs"] if isinstance(r["libs"], list) else ast.literal_eval(r["libs"])
        # the task's libraries plus whatever its prompt, reference and tests import
        needs = set(libs) | imported_modules(r["complete_prompt"] + r["canonical_solution"], r["test"])
        tasks[r["task_id"]] = Task(r["task_id"], r["instruct_prompt"], r["complete_prompt"],
                                   {"kind": "unittest", "test": r["test"]},
                                   r["complete_prompt"] + r["canonical_solution"], sorted(needs))
    return tasks


BENCHMARKS = (Benchmark("bigcodebench", load, order=4, folder="bigcodebench"),)
