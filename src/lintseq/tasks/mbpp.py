"""MBPP (Austin et al., 2021): the test split (task ids 11-510, 500 problems) of the full set, and
sanitized MBPP (its 257 test problems), judged by their ``assert`` lines. Rows come from
``mbpp/mbpp.jsonl`` and ``mbpp/sanitized-mbpp.json`` under the data folder, or the hub's
``google-research-datasets/mbpp``. The instruction names the reference's signature, as the paper's
prompts do: the first "function" becomes "function `name(args)`", the function the tests call
(the authors' code takes the first ``def`` line, which in 19 of the 500 names a helper).

    >>> MBPP_TEST_IDS
    range(11, 511)
"""

from __future__ import annotations

import json

from .base import Benchmark, Task, from_hub, function_instruction, local_file, read_jsonl, signature_of, tested_function

MBPP_TEST_IDS = range(11, 511)
MBPP_VALIDATION_IDS = range(511, 601)
HUB = {"mbpp": ("google-research-datasets/mbpp", "full"), "mbpp-sanitized": ("google-research-datasets/mbpp", "sanitized")}


def mbpp_rows(name: str, folder: str | None) -> list[dict]:
    """Raw MBPP rows (``mbpp``: all 974; ``mbpp-sanitized``: the 427) from ``folder`` or the hub."""
    if folder:
        if name == "mbpp":
            return read_jsonl(local_file(folder, "mbpp", "mbpp.jsonl"))
        with open(local_file(folder, "mbpp", "sanitized-mbpp.json"), encoding="utf-8") as fh:
            return json.load(fh)
    return [dict(r) for split in from_hub(name, *HUB[name]).values() for r in split]


def load_named(name: str, folder: str | None) -> dict[str, Task]:
    tasks = {}
    for r in mbpp_rows(name, folder):
        if int(r["task_id"]) not in MBPP_TEST_IDS:
            continue
        code = r["code"].replace("\r\n", "\n")
        text = r.get("text") or r.get("prompt")
        setup = r.get("test_setup_code", "") or "\n".join(r.get("test_imports", []))
        sig, _ = signature_of(code, tested_function(code, r["test_list"]))
        tid = f"Mbpp/{r['task_id']}"
        tasks[tid] = Task(tid, function_instruction(text, sig), "",
                          {"kind": "asserts", "setup": setup, "asserts": list(r["test_list"])}, code)
    return tasks


def validation_texts(name: str, folder: str | None):
    """The validation split's (511-600) texts, code and tests: decontamination avoids them too."""
    for r in mbpp_rows(name, folder):
        if int(r["task_id"]) in MBPP_VALIDATION_IDS:
            yield from (r.get("text") or r.get("prompt"), r["code"], "\n".join(r["test_list"]))


BENCHMARKS = (
    Benchmark("mbpp", lambda folder, **options: load_named("mbpp", folder), order=1, folder="mbpp",
              extra_texts=lambda folder: validation_texts("mbpp", folder)),
    Benchmark("mbpp-sanitized", lambda folder, **options: load_named("mbpp-sanitized", folder), order=2, folder="mbpp",
              extra_texts=lambda folder: validation_texts("mbpp-sanitized", folder)),
)
