"""astroid's transforms, looked up by name: the same transforms, fewer predicate calls.

Every node astroid builds (each module inference reaches, each state pylint checks) goes past
the transforms registered for its class, and each transform's predicate is called on it: 21
for every ``Name`` node, 25 for every ``Attribute``, 35 for every ``Call``. Most of those are
the numpy brain's (``name_looks_like_numpy_member(member, node)``, one per numpy member) and
the builtins brain's (``_builtin_filter_predicate(node, builtin_name)``), and each can only
hold when the node's name is that member: on the 400 real-world programs, 4.6 million
predicate calls. :func:`index_transforms` replaces the visitor's dispatch with one that looks
those predicates up by the node's name and calls only the ones that can hold, in registration
order, with the others; the predicates themselves still decide. After a transform applies,
the rest of the node's transforms run as astroid runs them, so a replaced node sees every
later predicate. The exact oracle and the hybrid's pylint both use it.

    >>> from astroid import MANAGER, extract_node
    >>> index_transforms(MANAGER)
    >>> node = extract_node("import numpy\\nnumpy.ones(3)")
    >>> node.func._explicit_inference is not None   # the numpy brain's tip, found by name
    True
"""

from __future__ import annotations

from functools import partial

_ANY = object()  # a node every predicate of the family may hold for


def _families():
    from astroid import nodes
    from astroid.brain.brain_builtin_inference import _builtin_filter_predicate
    from astroid.brain.brain_numpy_utils import attribute_looks_like_numpy_member, name_looks_like_numpy_member

    def call_key(node):
        func = node.func
        if isinstance(func, nodes.Name):
            return func.name
        if (isinstance(func, nodes.Attribute) and func.attrname == "fromkeys" and isinstance(func.expr, nodes.Name)
                and func.expr.name == "dict"):
            return _ANY  # dict.fromkeys(...): _builtin_filter_predicate holds for every builtin
        return None

    # predicate function -> (how its partial names the member, the node's name for it)
    return {
        name_looks_like_numpy_member: (lambda p: p.args[0] if len(p.args) == 1 and not p.keywords else None,
                                       lambda node: node.name),
        attribute_looks_like_numpy_member: (lambda p: p.args[0] if len(p.args) == 1 and not p.keywords else None,
                                            lambda node: node.attrname),
        _builtin_filter_predicate: (lambda p: p.keywords.get("builtin_name") if not p.args and len(p.keywords) == 1
                                    else None, call_key),
    }


class _Plan:
    """One node class's transforms: those whose predicate can hold for any node, and those
    indexed by the name a node must have for their predicate to hold."""

    def __init__(self, entries: list, families: dict) -> None:
        self.entries, self.size = entries, len(entries)  # astroid's clear_cache makes new lists
        self.plain: list[tuple[int, object, object]] = []
        self.indexed: dict[object, tuple] = {}  # predicate function -> (node key, {member: [...]})
        for pos, (transform, predicate) in enumerate(entries):
            family = families.get(predicate.func) if isinstance(predicate, partial) else None
            member = family[0](predicate) if family else None
            if member is None:
                self.plain.append((pos, transform, predicate))
                continue
            by_member = self.indexed.setdefault(predicate.func, (family[1], {}))[1]
            by_member.setdefault(member, []).append((pos, transform, predicate))

    def candidates(self, node) -> list:
        out = self.plain
        for node_key, by_member in self.indexed.values():
            key = node_key(node)
            if key is None:
                continue
            found = ([e for group in by_member.values() for e in group] if key is _ANY
                     else by_member.get(key))
            if found:
                out = sorted(out + found, key=lambda e: e[0])
        return out


def index_transforms(manager) -> None:
    """Install the indexed dispatch on ``manager``'s transform visitor (idempotent)."""
    visitor = manager._transform
    if getattr(visitor, "_lintseq_plans", None) is not None:
        return
    from astroid.transforms import _invalidate_cache

    families = _families()
    plans: dict[type, _Plan] = {}
    visitor._lintseq_plans = plans
    register, unregister = visitor.register_transform, visitor.unregister_transform

    def register_transform(*args, **kwargs):
        plans.clear()
        return register(*args, **kwargs)

    def unregister_transform(*args, **kwargs):
        plans.clear()
        return unregister(*args, **kwargs)

    def _transform(node):
        cls = node.__class__
        entries = visitor.transforms[cls]
        plan = plans.get(cls)
        if plan is None or plan.entries is not entries or plan.size != len(entries):
            plan = plans[cls] = _Plan(entries, families)
        for pos, _, predicate in plan.candidates(node):
            if predicate is None or predicate(node):
                return _run_from(node, cls, entries, pos)
        return node

    def _run_from(node, cls, entries, pos):
        """astroid's own loop from ``entries[pos]`` on (whose predicate just held)."""
        for k in range(pos, len(entries)):
            transform, predicate = entries[k]
            if k == pos or predicate is None or predicate(node):
                ret = transform(node)
                if ret is not None:
                    _invalidate_cache()
                    node = ret
                if ret.__class__ != cls:
                    break
        return node

    visitor.register_transform = register_transform
    visitor.unregister_transform = unregister_transform
    visitor._transform = _transform
