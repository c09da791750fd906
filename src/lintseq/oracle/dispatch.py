"""The fast oracle's dispatcher: every rule family on one parsed state, each asked only where it
can fire (a class, a ``global``, a call of a local function).

    >>> import ast
    >>> src = "def f():\\n    pass\\nx = f()"
    >>> [(m.line, m.code) for m in custom_messages(ast.parse(src))]
    [(3, 'E1111')]
"""

from __future__ import annotations

import ast

from . import LintMessage
from .astutil import bodies, stmts
from .attributes import self_attribute_messages, super_init_messages
from .calls import call_messages
from .definitions import no_return_messages, redefinition_messages
from .members import instance_member_messages, member_order_messages
from .methods import method_messages
from .unbound import possibly_unbound, undefined_globals


def custom_messages(tree: ast.Module, source: str | None = None, name_calls=None) -> list[LintMessage]:
    """Every check of this module and its siblings; ``source`` (the text of ``tree``) lets the
    call checks skip states that call no function or class defined in them."""
    out: list[LintMessage] = possibly_unbound(tree)
    if "global" in (source or "global"):  # a substring test spares the walk in nearly every state
        out += undefined_globals(tree)
    all_classes = [n for n in stmts(tree.body) if isinstance(n, ast.ClassDef)]
    if all_classes:
        out += method_messages(tree, all_classes)
        out += member_order_messages(tree, all_classes)
        out += instance_member_messages(tree)
    out += call_messages(tree, source, bool(all_classes), name_calls)
    for body in bodies(tree):
        out += redefinition_messages(body)
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    out += no_return_messages(tree, classes)
    for cls in classes.values():
        out += self_attribute_messages(cls, classes)
        out += super_init_messages(cls, classes)
    return out
