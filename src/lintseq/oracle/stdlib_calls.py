r"""Argument checks of calls to standard-library functions, for the fast oracle: E1120, E1121,
E1123, E1124 and E1125 (:func:`lintseq.oracle.calls.check_call`) against the signature in the
library's own source, which is what pylint infers (astroid builds pure-Python modules from
their source). Deleting an argument line of ``re.sub(...)`` was the one kind of unclean state
the hybrid oracle let through on real code: its gate sends only files with a class or a
third-party import to pylint.

Only what needs no inference is checked: ``mod.f(...)`` where ``import mod`` (top-level name)
is the file's only binding of ``mod``, and ``f(...)`` where ``from mod import f`` (or ``as g``)
is the only binding of that name; ``f`` must be an undecorated function bound once in
``mod``'s source, ``mod`` a pure-Python standard-library module that astroid's brain does not
rewrite. No ``*args``/``**kwargs`` at the call site.

    >>> import ast
    >>> src = "import re\ndef f(s):\n    return re.sub('a', s)\n"
    >>> [(m.line, m.code, m.text) for m in stdlib_call_messages(ast.parse(src))]
    [(3, 'E1120', "No value for argument 'string' in function call")]
    >>> stdlib_call_messages(ast.parse("import re\nre = None\nre.sub('a', 'b')"))  # rebound: unknown
    []
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import os
import sys
import sysconfig

from . import LintMessage
from .astutil import DEFS, FUNCS, children, walk
from .calls import check_call

# modules whose functions astroid's brain rewrites or infers specially (their signatures are
# not what the source says), and packages whose names are not plain modules
_BRAIN = frozenset({
    "collections", "crypt", "ctypes", "curses", "dataclasses", "datetime", "enum", "functools", "hashlib",
    "http", "io", "multiprocessing", "pathlib", "random", "signal", "ssl", "subprocess", "threading",
    "typing", "unittest", "uuid", "builtins", "__future__", "abc", "types", "weakref", "operator", "six",
})
_STDLIB_DIR = os.path.realpath(sysconfig.get_paths()["stdlib"])


def _bindings(tree: ast.Module) -> dict[str, list[ast.AST]]:
    """Every binding of each name anywhere at module scope of a stdlib source (nested blocks
    included, function and class bodies not)."""
    bound: dict[str, list[ast.AST]] = {}
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, DEFS):
            bound.setdefault(node.name, []).append(node)
            stack.extend(node.decorator_list)
            continue
        if isinstance(node, (ast.Name,)) and isinstance(node.ctx, ast.Store):
            bound.setdefault(node.id, []).append(node)
        elif isinstance(node, ast.alias):
            bound.setdefault((node.asname or node.name).split(".")[0], []).append(node)
        elif isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            bound.setdefault("*", []).append(node)
        stack.extend(children(node))
    return bound


@functools.lru_cache(maxsize=None)
def library_functions(modname: str) -> dict[str, ast.FunctionDef]:
    """Undecorated functions that a pure-Python standard-library module binds exactly once
    (and no ``*`` import could rebind), read from its source; empty for anything else.

        >>> sorted(library_functions("textwrap"))[:3]
        ['dedent', 'fill', 'indent']
    """
    if "." in modname or modname in _BRAIN or modname not in sys.stdlib_module_names:
        return {}
    try:
        spec = importlib.util.find_spec(modname)
    except (ImportError, ValueError):
        return {}
    origin = getattr(spec, "origin", None) or ""
    if not origin.endswith(".py") or not os.path.realpath(origin).startswith(_STDLIB_DIR + os.sep):
        return {}
    try:
        with open(origin, encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
        return {}
    bound = _bindings(tree)
    if "*" in bound or "__getattr__" in bound:
        return {}
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef) and not n.decorator_list
            and len(bound.get(n.name, ())) == 1}


def _file_bindings(tree: ast.Module) -> dict[str, int]:
    """How many times each name is bound anywhere in the file (every scope: definitions,
    parameters, stores, imports, handlers, globals)."""
    counts: dict[str, int] = {}
    for n in walk(tree):
        if isinstance(n, (*FUNCS, ast.ClassDef)):
            names = [n.name]
        elif isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
            names = [n.id]
        elif isinstance(n, ast.arg):
            names = [n.arg]
        elif isinstance(n, ast.alias):
            names = [(n.asname or n.name).split(".")[0]]
        elif isinstance(n, ast.ExceptHandler) and n.name:
            names = [n.name]
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            names = list(n.names)
        elif isinstance(n, (ast.MatchAs, ast.MatchStar)) and n.name:
            names = [n.name]
        elif isinstance(n, ast.MatchMapping) and n.rest:
            names = [n.rest]
        else:
            continue
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    return counts


def stdlib_call_messages(tree: ast.Module, source: str | None = None) -> list[LintMessage]:
    """Every message above, in the order of the calls in the file."""
    if source is not None and "import" not in source:
        return []
    modules: dict[str, str] = {}  # name bound by a top-level import -> module
    functions: dict[str, ast.FunctionDef] = {}  # name bound by a top-level from-import -> function
    for node in tree.body:
        if isinstance(node, ast.Import):
            for a in node.names:
                if "." not in a.name and library_functions(a.name):
                    modules[a.asname or a.name] = a.name
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            table = library_functions(node.module)
            for a in node.names:
                if a.name in table:
                    functions[a.asname or a.name] = table[a.name]
    if not modules and not functions:
        return []
    counts = _file_bindings(tree)
    modules = {k: v for k, v in modules.items() if counts.get(k) == 1}
    functions = {k: v for k, v in functions.items() if counts.get(k) == 1}
    out: list[LintMessage] = []
    for call in walk(tree):
        if not isinstance(call, ast.Call):
            continue
        f = call.func
        fn = None
        if isinstance(f, ast.Name):
            fn = functions.get(f.id)
        elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in modules:
            fn = library_functions(modules[f.value.id]).get(f.attr)
        if fn is not None:
            out += check_call(call, fn, 0, "function")
    out.sort(key=lambda m: m.line)
    return out


# rule family for oracle/dispatch.py
def _stdlib_call_rule(state) -> list[LintMessage]:
    return stdlib_call_messages(state.tree, state.source)


ORDER = 3.5
RULES = (_stdlib_call_rule,)
