"""Attribute and inheritance rules of the fast oracle, after pylint 3.2.6: E1101 no-member on
``self`` in a class whose bases are all known here, and W0231 super-init-not-called with a base
defined in the file. :func:`class_attrs` (what an instance of a local class has) also serves the
instance rules of :mod:`lintseq.oracle.members`.

    >>> import ast
    >>> tree = ast.parse("class A:\\n    def f(self):\\n        return self.v")
    >>> [(m.line, m.code) for m in self_attribute_messages(tree.body[0], {"A": tree.body[0]})]
    [(3, 'E1101')]
"""

from __future__ import annotations

import ast

from . import LintMessage
from .astutil import DEFS, FUNCS, OBJECT_ATTRS, decorator_names, walk


def class_attrs(cls: ast.ClassDef, classes: dict[str, ast.ClassDef]) -> set[str] | None:
    """Names an instance of ``cls`` has, or None when unknowable (unknown bases, magic)."""
    own = _defined_attrs(cls, classes, set())
    return None if own is None else own | OBJECT_ATTRS


def _defined_attrs(cls: ast.ClassDef, classes: dict[str, ast.ClassDef], seen: set[str]) -> set[str] | None:
    """Names ``cls`` and its local bases define (``object``'s left out, so that its own
    ``__getattribute__`` does not read as attribute magic)."""
    if cls.name in seen or cls.decorator_list or cls.keywords:
        return None
    seen.add(cls.name)
    attrs: set[str] = set()
    for base in cls.bases:
        if isinstance(base, ast.Name) and base.id == "object":
            continue
        if not (isinstance(base, ast.Name) and base.id in classes):
            return None
        inherited = _defined_attrs(classes[base.id], classes, seen)
        if inherited is None:
            return None
        attrs |= inherited
    augmented = {id(n.target) for n in walk(cls) if isinstance(n, ast.AugAssign)}  # reads first: no binding
    for node in walk(cls):
        if id(node) in augmented:
            continue
        if isinstance(node, DEFS):
            attrs.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            attrs.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)):
            attrs.add(node.attr)
        elif isinstance(node, ast.alias):
            attrs.add(node.asname or node.name)
    if attrs & {"__getattr__", "__getattribute__", "__slots__"}:  # pylint does not stop at __setattr__
        return None
    return attrs


def self_attribute_messages(cls: ast.ClassDef, classes: dict[str, ast.ClassDef]) -> list[LintMessage]:
    """E1101: ``self.x`` read in a method of a plain class that never binds ``x``."""
    if cls.name.lower().endswith("mixin"):
        return []
    attrs = class_attrs(cls, classes)
    if attrs is None:
        return []
    out = []
    for fn in cls.body:
        if not isinstance(fn, FUNCS) or not fn.args.args or decorator_names(fn) & {"staticmethod", "classmethod"}:
            continue
        me = fn.args.args[0].arg
        augmented = {id(n.target) for n in walk(fn) if isinstance(n, ast.AugAssign)}
        for node in walk(fn):
            if (isinstance(node, ast.Attribute) and (isinstance(node.ctx, ast.Load) or id(node) in augmented)
                    and isinstance(node.value, ast.Name) and node.value.id == me and node.attr not in attrs):
                out.append(LintMessage(node.lineno, "E1101", f"Instance of {cls.name!r} has no {node.attr!r} member"))
    return out


def _init_of(cls: ast.ClassDef) -> ast.AST | None:
    return next((n for n in cls.body if isinstance(n, FUNCS) and n.name == "__init__"), None)


def super_init_messages(cls: ast.ClassDef, classes: dict[str, ast.ClassDef]) -> list[LintMessage]:
    """W0231: a subclass ``__init__`` that never calls the ``__init__`` of a local base."""
    init = _init_of(cls)
    if init is None:
        return []
    bases = [classes[b.id] for b in cls.bases if isinstance(b, ast.Name) and b.id in classes]
    if not any(_inherits_init(b, classes, {cls.name}) for b in bases):
        return []
    for node in walk(init):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "__init__":
            return []
    return [LintMessage(init.lineno, "W0231", "__init__ method from base class is not called")]


def _inherits_init(cls: ast.ClassDef, classes: dict[str, ast.ClassDef], seen: set[str]) -> bool:
    if cls.name in seen:
        return False
    seen.add(cls.name)
    if _init_of(cls) is not None:
        return True
    return any(isinstance(b, ast.Name) and b.id in classes and _inherits_init(classes[b.id], classes, seen) for b in cls.bases)


# rule family for oracle/dispatch.py
def _class_rule(state) -> list[LintMessage]:
    out: list[LintMessage] = []
    for cls in state.classes.values():
        out += self_attribute_messages(cls, state.classes)
        out += super_init_messages(cls, state.classes)
    return out


ORDER = 5
RULES = (_class_rule,)
