r"""possibly-used-before-assignment (pylint E0606) for the fast oracle, narrowed to what
deletions commonly create: a name bound only inside ``if`` branches that do not all bind it (or
stop), read after them outside any ``if``.

    >>> import ast
    >>> [(m.line, m.code) for m in possibly_unbound(ast.parse("def f(s):\n    if s:\n        v = 1\n    return v"))]
    [(4, 'E0606')]
"""

from __future__ import annotations

import ast

from . import LintMessage
from .astutil import BLOCK_FIELDS, DEFS, FUNCS, children, stmts, walk


_NEW_SCOPE = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_STOPS = (ast.Return, ast.Raise, ast.Continue, ast.Break)


def _expr_names(stmt: ast.AST) -> list[ast.Name]:
    """Names in a statement's own expressions (not nested blocks, lambdas or comprehensions)."""
    stack = [v for f, v in ast.iter_fields(stmt) if f not in BLOCK_FIELDS and f != "decorator_list"]
    found = []
    while stack:
        v = stack.pop()
        if isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, ast.Name):
            found.append(v)
        elif isinstance(v, ast.AST) and not isinstance(v, (*_NEW_SCOPE, ast.stmt)):
            stack.extend(children(v))
    return found


def _binds(stmt: ast.AST, name: str) -> bool:
    if isinstance(stmt, DEFS):
        return stmt.name == name
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return any((a.asname or a.name.split(".")[0]) == name for a in stmt.names)
    if isinstance(stmt, ast.AugAssign):
        return False
    return any(n.id == name and isinstance(n.ctx, ast.Store) for n in _expr_names(stmt))


def _all_paths_bind(block: list[ast.stmt], name: str) -> bool:
    for s in block:
        if isinstance(s, _STOPS) or _binds(s, name):
            return True
        if isinstance(s, ast.If) and _all_paths_bind(s.body, name) and s.orelse and _all_paths_bind(s.orelse, name):
            return True
    return False


def possibly_unbound(tree: ast.Module) -> list[LintMessage]:
    """E0606 (pylint's possibly-used-before-assignment), narrowed: in one scope, a name bound
    only inside ``if`` branches that do not all bind it (or stop), read later outside any ``if``."""
    out: list[LintMessage] = []
    scopes = [tree.body] + [n.body for n in stmts(tree.body) if isinstance(n, FUNCS)]
    for body in scopes:
        binds: dict[str, list[ast.AST | None]] = {}  # name -> outermost If around each binding
        uses: list[tuple[str, int]] = []

        def scan(block, root):
            for s in block:
                names = [s.name] if isinstance(s, DEFS) else []
                if isinstance(s, (ast.Import, ast.ImportFrom)):
                    names = [(a.asname or a.name.split(".")[0]) for a in s.names]
                if isinstance(s, ast.ExceptHandler) and s.name:
                    names.append(s.name)
                for n in [] if isinstance(s, DEFS) else _expr_names(s):
                    if isinstance(n.ctx, ast.Store) and not isinstance(s, ast.AugAssign):
                        names.append(n.id)
                    elif root is None:
                        uses.append((n.id, n.lineno))
                for nm in names:
                    binds.setdefault(nm, []).append(root)
                if isinstance(s, DEFS):
                    continue
                for field in BLOCK_FIELDS:
                    block = getattr(s, field, None)
                    if block:
                        scan(block, root if root is not None or not isinstance(s, ast.If) else s)

        scan(body, None)
        for name, line in uses:
            roots = binds.get(name)
            if not roots or any(r is None for r in roots):
                continue
            first = min(r.lineno for r in roots)
            if line > first and not any(_all_paths_bind([r], name) for r in roots):
                out.append(LintMessage(line, "E0606", f"Possibly using variable {name!r} before assignment"))
    return out


def undefined_globals(tree: ast.Module) -> list[LintMessage]:
    """E0602 for a name declared ``global`` but bound nowhere: pyflakes takes the declaration
    as a definition, pylint does not (deleting the one assignment after ``global x`` leaves it).

        >>> [(m.line, m.code) for m in undefined_globals(ast.parse("def f():\\n    global g\\n    return g"))]
        [(3, 'E0602')]
    """
    funcs = [n for n in stmts(tree.body) if isinstance(n, FUNCS)]
    declared = {fn: {name for s in stmts(fn.body) if isinstance(s, ast.Global) for name in s.names} for fn in funcs}
    names = set().union(*declared.values()) if declared else set()
    if not names:
        return []
    bound = set()
    for node in tree.body:  # what the module binds itself
        if isinstance(node, DEFS):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
    for stmt in tree.body:
        if not isinstance(stmt, FUNCS):
            bound |= {n.id for n in walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    for fn, decl in declared.items():
        for s in stmts(fn.body):
            bound |= {n.id for n in _expr_names(s) if n.id in decl and isinstance(n.ctx, ast.Store)}
    missing = names - bound
    if not missing:
        return []
    out = []
    for fn in [None, *funcs]:  # every scope reads the name as a global unless it binds it itself
        body = tree.body if fn is None else fn.body
        own = [s for s in _own_stmts(body)]
        names_here = [n for s in own for n in _expr_names(s)]
        local = set() if fn is None else {a.arg for a in walk(fn.args) if isinstance(a, ast.arg)}
        local |= {n.id for n in names_here if isinstance(n.ctx, ast.Store)} - declared.get(fn, set())
        out += [LintMessage(n.lineno, "E0602", f"Undefined variable {n.id!r}")
                for n in names_here if n.id in missing - local and isinstance(n.ctx, ast.Load)]
    return out


def _own_stmts(body):
    """Statements of one function or module scope (nested function bodies left out)."""
    stack = list(reversed(body))
    while stack:
        s = stack.pop()
        yield s
        if isinstance(s, FUNCS):
            continue
        for name in BLOCK_FIELDS:
            stack.extend(reversed(getattr(s, name, None) or []))


# rule family for oracle/dispatch.py
def _possibly_unbound_rule(state) -> list[LintMessage]:
    return possibly_unbound(state.tree)


def _undefined_globals_rule(state) -> list[LintMessage]:
    # a substring test spares the walk in nearly every state
    return undefined_globals(state.tree) if "global" in (state.source or "global") else []


ORDER = 0
RULES = (_possibly_unbound_rule, _undefined_globals_rule)
