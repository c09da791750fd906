"""Build the real-world fidelity set: functions, classes and whole modules of installed libraries
that ``lintseq corpus build`` does not mine (it mines the stdlib, networkx, more_itertools, toolz
and boltons), as instruction/response JSONL for ``benchmarks/fidelity.py``.

    python benchmarks/realworld_build.py -o /tmp/realworld.jsonl            # ~400 programs

The mined code is third-party source: write it outside the repository (or under the ignored
``bench_out/``) and never commit it. Selection is deterministic (a seeded shuffle of every
candidate), so the same installed versions give the same set.

What a program is:

* a top-level function (decorators and multi-line signatures kept) with a docstring;
* a top-level class (methods, dunders, properties, classmethods, nested functions);
* a whole module of at most ``--module-lines`` lines.

Functions and classes get the module's import lines that bind names they use, with relative
imports made absolute (the package is installed, so pylint resolves them); names from the rest of
their module stay free, as in real scraped code, so originals may carry lint errors. Whole
modules keep their relative imports as written.

    >>> row = _row("pkg.mod", "function", "def f():\\n    '''Add.'''\\n    return 1", "f")
    >>> row["instruction"], row["kind"]
    ('Add.', 'function')
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import os
import random
import textwrap

# Installed, pure-Python, not mined by `corpus build`; pip's vendored libraries included.
PACKAGES = ("pip._vendor.rich", "pip._vendor.pygments", "pip._vendor.packaging", "pip._vendor.urllib3",
            "pip._vendor.requests", "astroid", "pylint", "hypothesis", "tqdm", "yaml", "jinja2", "click",
            "attr", "packaging", "isort", "tomlkit", "jsonschema", "sortedcontainers", "dateutil",
            "pyparsing", "markdown_it", "h11", "idna", "fire", "termcolor", "mccabe")


def _package_files(pkg: str) -> list[tuple[str, str]]:
    """(module name, path) of every .py file in an installed package (sorted, tests skipped)."""
    spec = importlib.util.find_spec(pkg)
    if spec is None or not spec.origin:
        return []
    if not spec.submodule_search_locations:
        return [(pkg, spec.origin)]
    out = []
    for root in spec.submodule_search_locations:
        for dirpath, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in ("tests", "test", "__pycache__"))
            for f in sorted(files):
                if f.endswith(".py"):
                    rel = os.path.relpath(os.path.join(dirpath, f), root)[:-3].replace(os.sep, ".")
                    mod = pkg if rel == "__init__" else f"{pkg}.{rel.removesuffix('.__init__')}"
                    out.append((mod, os.path.join(dirpath, f)))
    return out


def _absolute(node: ast.ImportFrom, module: str, is_pkg: bool) -> str:
    """An import line with a relative ``from`` made absolute."""
    if not node.level:
        return ast.unparse(node)
    parts = module.split(".")
    base = parts if is_pkg else parts[:-1]
    base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
    target = ".".join(base + ([node.module] if node.module else []))
    return ast.unparse(ast.ImportFrom(module=target, names=node.names, level=0))


def _imports_for(tree: ast.Module, used: set[str], module: str, is_pkg: bool) -> list[str]:
    """Top-level import lines of the module that bind a name in ``used``."""
    out = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            keep = [a for a in node.names if (a.asname or a.name.split(".")[0]) in used]
            if keep and not any(a.name == "*" for a in node.names):
                if isinstance(node, ast.Import):
                    out.append(ast.unparse(ast.Import(names=keep)))
                else:
                    out.append(_absolute(ast.ImportFrom(node.module, keep, node.level), module, is_pkg))
    return out


def _row(module: str, kind: str, code: str, name: str) -> dict:
    doc = None
    try:
        node = ast.parse(code).body[-1]
        doc = ast.get_docstring(node) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
            else ast.get_docstring(ast.parse(code))
    except (SyntaxError, IndexError):
        pass
    first = (doc or "").strip().split("\n\n")[0].strip()
    instruction = first or f"Write the {kind} `{name}` of `{module}`."
    return {"instruction": instruction, "response": code, "id": f"{module}:{name}", "kind": kind}


def mine(module: str, path: str, module_lines: int) -> list[dict]:
    """Every candidate program of one module file."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    lines = text.split("\n")
    is_pkg = path.endswith("__init__.py")
    out = []
    n = len(text.rstrip("\n").split("\n"))
    if 20 <= n <= module_lines:
        out.append(_row(module, "module", text.rstrip("\n"), "<module>"))
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        start = min([node.lineno] + [d.lineno for d in node.decorator_list])
        body = textwrap.dedent("\n".join(lines[start - 1: node.end_lineno]))
        if not 4 <= body.count("\n") + 1 <= 250:
            continue
        kind = "class" if isinstance(node, ast.ClassDef) else "function"
        if kind == "function" and ast.get_docstring(node) is None:
            continue
        used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        used |= {n.value.id for n in ast.walk(node) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
        head = _imports_for(tree, used, module, is_pkg)
        code = ("\n".join(head) + "\n\n\n" if head else "") + body
        out.append(_row(module, kind, code, node.name))
    return out


# The scale set (issue 18): 10,000 functions and classes from a wider range of installed packages.
SCALE_PACKAGES = (*PACKAGES, "sympy", "networkx", "rich", "pygments", "requests", "urllib3", "fsspec", "setuptools",
                  "huggingface_hub", "_pytest", "pluggy", "anyio", "typer", "platformdirs", "referencing",
                  "markdown_it", "jsonschema_specifications", "pyflakes", "matplotlib", "pandas")


def build(n_functions: int, n_classes: int, n_modules: int, module_lines: int, seed: int,
          packages: tuple[str, ...] = PACKAGES) -> list[dict]:
    """A seeded sample of functions, classes and modules across ``packages``."""
    pools: dict[str, list[dict]] = {"function": [], "class": [], "module": []}
    seen: set[str] = set()
    for pkg in packages:
        for module, path in _package_files(pkg):
            for row in mine(module, path, module_lines):
                if row["id"] not in seen:  # packages listed twice (rich and pip's vendored rich differ in id)
                    seen.add(row["id"])
                    pools[row["kind"]].append(row)
    rng = random.Random(seed)
    rows = []
    for kind, n in (("function", n_functions), ("class", n_classes), ("module", n_modules)):
        pool = pools[kind]
        rng.shuffle(pool)
        rows += pool[:n]
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--output", default="/tmp/lintseq_realworld.jsonl",
                    help="JSONL to write, outside the repo or under bench_out/ (default %(default)s)")
    ap.add_argument("--functions", type=int, default=180, help="top-level functions (default %(default)s)")
    ap.add_argument("--classes", type=int, default=160, help="top-level classes (default %(default)s)")
    ap.add_argument("--modules", type=int, default=60, help="whole modules (default %(default)s)")
    ap.add_argument("--module-lines", type=int, default=200, help="longest whole module (default %(default)s)")
    ap.add_argument("--seed", type=int, default=0, help="selection seed (default %(default)s)")
    ap.add_argument("--scale", action="store_true",
                    help="mine the wider SCALE_PACKAGES (for the 10,000-program run: --functions 6000 --classes 4000 --modules 0)")
    args = ap.parse_args()
    rows = build(args.functions, args.classes, args.modules, args.module_lines, args.seed,
                 SCALE_PACKAGES if args.scale else PACKAGES)
    with open(args.output, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    kinds = {k: sum(r["kind"] == k for r in rows) for k in ("function", "class", "module")}
    print(json.dumps({"output": args.output, "programs": len(rows), **kinds}))


if __name__ == "__main__":
    main()
