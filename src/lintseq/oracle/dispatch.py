"""The fast oracle's dispatcher: every rule family on one parsed state.

A rule family is a module of this package with ``RULES``: functions ``rule(state) -> list of
LintMessage``, each returning at once where it cannot fire (no class, no ``global``, no call of a
local function), and ``ORDER``, where its messages come in the output. This module finds the
families itself, so a new family is one new module (and its test against real pylint).
``State`` computes what several rules share (the classes of the file) once per state.

    >>> import ast
    >>> src = "def f():\\n    pass\\nx = f()"
    >>> [(m.line, m.code) for m in custom_messages(ast.parse(src), src)]
    [(3, 'E1111')]
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from dataclasses import dataclass, field
from functools import cached_property

from . import LintMessage
from .astutil import one_state, stmts


@dataclass
class State:
    """One parsed program state as the rules see it."""

    tree: ast.Module
    source: str | None = None
    """The text of ``tree``; None where only the tree is known (rules then assume the worst)."""
    name_calls: dict | None = field(default=None)
    """pyflakes' calls of names, when it ran on the same tree (the call rules reuse them)."""

    @cached_property
    def all_classes(self) -> list[ast.ClassDef]:
        """Every class of the file, nested in blocks too."""
        return [n for n in stmts(self.tree.body) if isinstance(n, ast.ClassDef)]

    @cached_property
    def classes(self) -> dict[str, ast.ClassDef]:
        """The file's top-level classes by name."""
        return {n.name: n for n in self.tree.body if isinstance(n, ast.ClassDef)}


def _families() -> tuple:
    found = []
    for info in pkgutil.iter_modules(importlib.import_module(__package__).__path__):
        module = importlib.import_module(f"{__package__}.{info.name}")
        if hasattr(module, "RULES"):
            found.append(module)
    return tuple(rule for module in sorted(found, key=lambda m: m.ORDER) for rule in module.RULES)


_RULES: tuple | None = None


def custom_messages(tree: ast.Module, source: str | None = None, name_calls=None) -> list[LintMessage]:
    """Every rule family's messages on one state; ``source`` (the text of ``tree``) lets rules
    skip states that cannot trigger them (no ``global``, no call of a local function)."""
    global _RULES
    if _RULES is None:  # found on first use: the families import this package's siblings
        _RULES = _families()
    state = State(tree, source, name_calls)
    out: list[LintMessage] = []
    with one_state():  # the families walk the same subtrees: each is walked once per state
        for rule in _RULES:
            out += rule(state)
    return out
