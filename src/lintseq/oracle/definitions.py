"""Definition rules of the fast oracle, after pylint 3.2.6: E0102 function-redefined /
class-redefined, and E1111 assignment-from-no-return / E1128 assignment-from-none for calls of
functions (and ``self`` methods) defined in the file.

    >>> import ast
    >>> src = "def f():\\n    pass\\nx = f()"
    >>> [(m.line, m.code) for m in no_return_messages(ast.parse(src), {})]
    [(3, 'E1111')]
"""

from __future__ import annotations

import ast

from . import LintMessage
from .astutil import BLOCK_FIELDS, DEFS, FUNCS, bodies, children, decorator_names, module_functions, walk


def redefinition_messages(body: list[ast.stmt]) -> list[LintMessage]:
    """E0102: a def/class name defined again by a def/class in the same statement list."""
    seen: dict[str, int] = {}
    out = []
    for node in body:
        if not isinstance(node, DEFS):
            continue
        if decorator_names(node) & {"setter", "deleter", "getter", "overload", "register"} or node.name == "_":
            continue
        if node.name in seen:
            kind = "class" if isinstance(node, ast.ClassDef) else "function"
            out.append(LintMessage(node.lineno, "E0102", f"{kind} already defined line {seen[node.name]}"))
        seen[node.name] = node.lineno
    return out


def _returns(fn: ast.AST) -> list[ast.Return]:
    """Return statements of ``fn`` itself (not of nested functions or classes' methods)."""
    found, stack = [], list(fn.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return):
            found.append(node)
        if not isinstance(node, (*FUNCS, ast.Lambda)):
            stack.extend(children(node))
    return found


def _is_checkable(fn: ast.AST) -> bool:
    """pylint skips async, decorated, generator, raise-only and abstract functions."""
    if not isinstance(fn, ast.FunctionDef) or fn.decorator_list:
        return False
    if len(fn.body) == 1 and isinstance(fn.body[0], ast.Raise):
        return False
    stack = list(fn.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return False
        if not isinstance(node, (*FUNCS, ast.Lambda, ast.ClassDef)):
            stack.extend(children(node))
    return True


def no_return_messages(tree: ast.Module, classes: dict[str, ast.ClassDef]) -> list[LintMessage]:
    """E1111 / E1128: ``x = f(...)`` where local ``f`` never returns a value."""
    funcs = module_functions(tree)
    methods = {
        (cls.name, m.name): m
        for cls in classes.values()
        if not cls.bases
        for m in cls.body
        if isinstance(m, ast.FunctionDef)
    }
    owner = {id(m): cls.name for cls in classes.values() for m in cls.body if isinstance(m, FUNCS)}
    out = []

    if not funcs and not methods:
        return out
    local_names: dict[int, set[str]] = {}

    def local(fn) -> set[str]:
        if fn is None:
            return set()
        if id(fn) not in local_names:
            args = fn.args
            names = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
            names |= {a.arg for a in (args.vararg, args.kwarg) if a}
            names |= {n.id for n in walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            local_names[id(fn)] = names
        return local_names[id(fn)]

    def visit(block, cls_name: str | None, fn) -> None:
        for child in block:
            if isinstance(child, FUNCS):
                visit(child.body, owner.get(id(child)), child)
                continue
            if isinstance(child, ast.Assign) and isinstance(child.value, ast.Call):
                target = _resolve(child.value.func, cls_name, fn, local, funcs, methods)
                if target is not None and _is_checkable(target):
                    rets = _returns(target)
                    if not rets:
                        out.append(LintMessage(child.lineno, "E1111", "assignment-from-no-return"))
                    elif all(r.value is None or (isinstance(r.value, ast.Constant) and r.value.value is None) for r in rets):
                        out.append(LintMessage(child.lineno, "E1128", "assignment-from-none"))
            for name in BLOCK_FIELDS:
                block = getattr(child, name, None)
                if block:
                    visit(block, cls_name, fn)

    visit(tree.body, None, None)
    return out


def _resolve(func, cls_name, fn, local, funcs, methods):
    if isinstance(func, ast.Name) and func.id in funcs and func.id not in local(fn):
        return funcs[func.id]
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self" and cls_name:
        return methods.get((cls_name, func.attr))
    return None


# rule family for oracle/dispatch.py
def _redefinition_rule(state) -> list[LintMessage]:
    return [m for body in bodies(state.tree) for m in redefinition_messages(body)]


def _no_return_rule(state) -> list[LintMessage]:
    return no_return_messages(state.tree, state.classes)


ORDER = 4
RULES = (_redefinition_rule, _no_return_rule)
