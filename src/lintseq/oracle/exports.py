"""``__all__`` as pylint 3.2.6 checks it (``VariablesChecker._check_all``), for the fast oracle:
E0603 undefined-all-variable, E0604 invalid-all-object, E0605 invalid-all-format.

pyflakes reports undefined exports too, but not as pylint does: on the line of the last
``__all__`` statement instead of each string's own line (the line the sampler deletes), counting
``__all__ += [...]`` (pylint reads only the first value ``__all__`` is bound to), and never when
the file has a ``*`` import (pylint still reports when that import adds nothing). Only what is
decidable without inference is judged here: a first value that is a literal list or tuple (or a
sum of them), elements that are string literals; anything else is left alone. pylint's module
locals are the names bound at module level, walrus targets in module-level comprehensions, and
names a function declares ``global`` and binds (a class body's ``global`` does not count).

    >>> import ast
    >>> src = "__all__ = [\\n    'f',\\n    'g',\\n]\\ndef f():\\n    pass"
    >>> [(m.line, m.code, m.text) for m in export_messages(ast.parse(src))]
    [(3, 'E0603', "Undefined variable name 'g' in __all__")]
"""

from __future__ import annotations

import ast

from . import LintMessage
from .astutil import FUNCS, children, own_nodes, walk

_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _first_value(tree: ast.Module) -> ast.AST | None:
    """The value of the first statement that binds ``__all__`` at module level, in source
    order (astroid's ``igetattr`` yields it first); None when that binding has no value we read."""
    stack = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                return node.value if isinstance(node, ast.Assign) and len(targets) == 1 or isinstance(node, ast.AnnAssign) else None
            if any("__all__" in {n.id for n in walk(t) if isinstance(n, ast.Name)} for t in targets):
                return None  # unpacked into __all__: not read here
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            if any((a.asname or a.name) == "__all__" for a in node.names):
                return None
        elif not isinstance(node, (*FUNCS, ast.ClassDef)):
            inner = [n for field in ("body", "handlers", "orelse", "finalbody", "cases")
                     for n in getattr(node, field, None) or []]  # source order
            stack.extend(reversed(inner))
    return None


def _elements(value: ast.AST) -> list[ast.AST] | None:
    """The elements of a literal list or tuple, or of a ``+`` of literals of one kind."""
    if isinstance(value, (ast.List, ast.Tuple)):
        return list(value.elts) if not any(isinstance(e, ast.Starred) for e in value.elts) else None
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add) and type(value.left) is type(value.right):
        left, right = _elements(value.left), _elements(value.right)
        return None if left is None or right is None else left + right
    return None


def _bound_names(node: ast.AST, out: set[str]) -> None:
    """Names ``node`` (a module-level statement or expression) binds in the module's scope."""
    if isinstance(node, (*FUNCS, ast.ClassDef)):
        out.add(node.name)
        parts = [*node.decorator_list, *getattr(node, "bases", []), *getattr(node, "keywords", [])]
        if isinstance(node, FUNCS):
            parts += [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]
        for part in parts:
            _bound_names(part, out)
        return
    if isinstance(node, ast.Lambda):
        return
    if isinstance(node, _COMPREHENSIONS):  # their own scope, but a walrus binds outside it
        out.update(n.target.id for n in walk(node) if isinstance(n, ast.NamedExpr))
        return
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
        out.add(node.id)
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
        out.update((a.asname or a.name).split(".")[0] for a in node.names)
    elif isinstance(node, ast.ExceptHandler) and node.name:
        out.add(node.name)
    elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
        out.add(node.name)
    elif isinstance(node, ast.MatchMapping) and node.rest:
        out.add(node.rest)
    for child in children(node):
        _bound_names(child, out)


def _module_locals(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        _bound_names(node, names)
    for fn in (n for n in walk(tree) if isinstance(n, FUNCS)):
        declared = {name for n in own_nodes(fn) if isinstance(n, ast.Global) for name in n.names}
        if not declared:
            continue
        inner: set[str] = set()  # what the function itself binds (own_nodes stops at nested scopes)
        for n in own_nodes(fn):
            if isinstance(n, (*FUNCS, ast.ClassDef)):
                inner.add(n.name)
            elif isinstance(n, (ast.Name, ast.Import, ast.ImportFrom)):
                _bound_names(n, inner)
        names |= declared & inner
    return names


def export_messages(tree: ast.Module) -> list[LintMessage]:
    """E0603/E0604/E0605 for ``tree``'s ``__all__`` (see the module docstring)."""
    value = _first_value(tree)
    if value is None:
        return []
    if isinstance(value, (ast.Constant, ast.Dict, ast.Set)):
        end = getattr(value, "end_lineno", value.lineno)
        return [LintMessage(end, "E0605", "Invalid format for __all__, must be tuple or list")]
    elts = _elements(value)
    if not elts:
        return []
    if any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names) for n in walk(tree)):
        return []  # what a * import adds depends on the module: left alone
    known = _module_locals(tree)
    out = []
    for elt in elts:
        if not isinstance(elt, ast.Constant):
            continue  # a name or an expression: inference decides
        if not isinstance(elt.value, str):
            out.append(LintMessage(elt.lineno, "E0604",
                                   f"Invalid object {ast.unparse(elt)!r} in __all__, must contain only strings"))
        elif elt.value not in known:
            out.append(LintMessage(elt.lineno, "E0603", f"Undefined variable name {elt.value!r} in __all__"))
    return out


# rule family for oracle/dispatch.py
def _export_rule(state) -> list[LintMessage]:
    return export_messages(state.tree) if state.source is None or "__all__" in state.source else []


ORDER = 8
RULES = (_export_rule,)
