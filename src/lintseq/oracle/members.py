r"""E0203 access-member-before-definition for the fast oracle, after pylint 3.2.6's
``ClassChecker._check_accessed_members``: in a method, ``self.x`` read before the one statement
that assigns it, when ``x`` is no class attribute and every ``self.x = ...`` sits in that one
method. Deleting the ``__init__`` line that set ``x`` is what creates it.

    >>> import ast
    >>> src = "class A:\n    def f(self):\n        print(self.v)\n        self.v = 1"
    >>> [(m.line, m.code) for m in member_order_messages(ast.parse(src))]
    [(3, 'E0203')]
"""

from __future__ import annotations

import ast
import builtins

from . import LintMessage
from .astutil import BLOCK_FIELDS, DEFS, FUNCS, class_methods, method_kind, module_classes, named_before, own_nodes, walk
from .attributes import class_attrs


def _walk_frame(fn: ast.AST):
    """(node, chain) for nodes of ``fn`` outside nested scopes; ``chain`` is the tuple of
    (statement, field) pairs that lead to it, for telling exclusive branches apart."""
    stack = [(s, ((fn, "body"),)) for s in reversed(fn.body)]
    while stack:
        node, chain = stack.pop()
        yield node, chain
        if isinstance(node, (*FUNCS, ast.Lambda, ast.ClassDef)):
            continue
        for field, value in ast.iter_fields(node):
            items = value if isinstance(value, list) else [value]
            sub = (*chain, (node, field)) if field in BLOCK_FIELDS else chain
            for item in reversed(items):
                if isinstance(item, ast.AST):
                    stack.append((item, sub))


_CAUGHT = ("AttributeError", "Exception", "BaseException")


def _catches(handler: ast.ExceptHandler) -> bool:
    """Whether a handler catches what pylint passes to ``are_exclusive`` (or everything)."""
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return handler.type is None or any(getattr(k, "id", getattr(k, "attr", None)) in _CAUGHT for k in kinds)


def _exclusive(a: tuple, b: tuple) -> bool:
    """astroid's ``are_exclusive`` as pylint calls it here (checked case by case against pylint):
    ``if`` branches and ``match`` cases are NOT exclusive; in a ``try``, two handlers, or a
    handler and the ``else``, are; the body and a handler are when the handler catches
    AttributeError, Exception or BaseException (or is bare)."""
    for i, ((na, fa), (nb, fb)) in enumerate(zip(a, b)):
        if na is not nb:
            return isinstance(na, ast.ExceptHandler) and isinstance(nb, ast.ExceptHandler)
        if fa != fb:
            if not isinstance(na, (ast.Try, getattr(ast, "TryStar", ast.Try))) or "handlers" not in (fa, fb):
                return False
            other = fb if fa == "handlers" else fa
            if other == "orelse":
                return True
            if other != "body":
                return False
            side = a if fa == "handlers" else b
            handler = side[i + 1][0] if i + 1 < len(side) else None
            return isinstance(handler, ast.ExceptHandler) and _catches(handler)
    return False


def _class_level_names(cls: ast.ClassDef, classes: dict[str, ast.ClassDef], seen=()) -> set[str] | None:
    """Class attributes of ``cls`` and its local bases, or None if a base is unknown here
    (then its attributes could be anything)."""
    names: set[str] = set()
    for node in walk(cls):
        if isinstance(node, DEFS) and node is not cls:
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
    for fn in class_methods(cls):  # cls.x = ... in a classmethod binds a class attribute
        if method_kind(fn, cls) == "classmethod" and fn.args.args:
            first = fn.args.args[0].arg
            names |= {n.attr for n in walk(fn) if isinstance(n, ast.Attribute)
                      and isinstance(n.ctx, ast.Store) and isinstance(n.value, ast.Name) and n.value.id == first}
    for base in cls.bases:
        if isinstance(base, ast.Name) and base.id in classes and base.id not in seen:
            inherited = _class_level_names(classes[base.id], classes, (*seen, cls.name))
            if inherited is None:
                return None
            names |= inherited
            names |= _instance_attrs(classes[base.id]).keys()
        elif isinstance(base, ast.Name) and isinstance(getattr(builtins, base.id, None), type):
            names |= set(dir(getattr(builtins, base.id)))  # object, Exception, dict, ...
        else:
            return None
    return names


def _instance_attrs(cls: ast.ClassDef, frames: dict | None = None) -> dict[str, list]:
    """attr -> [(line, method, chain, augmented)] for ``self.attr = ...`` in regular methods.
    ``frames``: a dict to keep each method's walk in (method -> list of (node, chain)), so a
    caller that walks the method again reads it instead."""
    out: dict[str, list] = {}
    for fn in class_methods(cls):
        if method_kind(fn, cls) != "method" or not (fn.args.posonlyargs or fn.args.args):
            continue
        me = (fn.args.posonlyargs or fn.args.args)[0].arg
        aug = set()
        frame = list(_walk_frame(fn))
        if frames is not None:
            frames[fn] = frame
        for node, chain in frame:
            if isinstance(node, ast.AugAssign):
                aug.add(id(node.target))
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) \
                    and isinstance(node.value, ast.Name) and node.value.id == me:
                out.setdefault(node.attr, []).append((node.lineno, fn, chain, id(node) in aug))
    return out


def member_order_messages(tree: ast.Module, all_classes: list[ast.ClassDef] | None = None) -> list[LintMessage]:
    classes, all_classes = module_classes(tree, all_classes)
    out: list[LintMessage] = []
    for cls in all_classes:
        frames: dict = {}  # each method walked once, not once per attribute it sets
        defs = _instance_attrs(cls, frames)
        if not defs:
            continue
        class_names = None
        for attr, stmts in defs.items():
            plain = [s for s in stmts if not s[3]]
            if not plain or len({id(s[1]) for s in plain}) != 1:
                continue  # only augmented, or assigned in more than one method: pylint stops
            if class_names is None:
                class_names = _class_level_names(cls, classes) or {attr}
            if attr in class_names:
                continue
            line, fn, def_chain, _ = min(plain, key=lambda s: s[0])
            if method_kind(fn, cls) != "method":
                continue
            me = (fn.args.posonlyargs or fn.args.args)[0].arg
            frame = frames[fn]
            aug = {id(n.target) for n, _ in frame if isinstance(n, ast.AugAssign)}  # read, then written
            for node, chain in frame:
                if (isinstance(node, ast.Attribute) and node.attr == attr and node.lineno < line
                        and isinstance(node.value, ast.Name) and node.value.id == me
                        and (isinstance(node.ctx, ast.Load) or id(node) in aug)
                        and not _exclusive(chain, def_chain)):
                    out.append(LintMessage(node.lineno, "E0203",
                                           f"Access to member {attr!r} before its definition line {line}"))
    return out


def instance_member_messages(tree: ast.Module, source: str | None = None) -> list[LintMessage]:
    """E1101 (no-member) on an instance of a class defined in the file: ``v.x`` where ``v`` is
    bound once in its scope, by ``v = C(...)``, and no ``C`` instance ever gets ``x`` (the class,
    its local bases, or any ``something.x = ...`` in the file); ``C(...).x`` likewise.

        >>> import ast
        >>> src = "class C:\\n    pass\\nc = C()\\nc.push(1)"
        >>> [(m.line, m.code) for m in instance_member_messages(ast.parse(src))]
        [(4, 'E1101')]
    """
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    # an instance starts as C(...) or C.of(...): a state with neither needs no walk
    if not classes or source is not None and not named_before(source, classes, "(."):
        return []
    stored: set[str] = set()
    rebound: set[str] = set()
    scopes: list[ast.AST] = [tree]
    for n in walk(tree):  # one walk for the three (this rule runs on every state with a class)
        if isinstance(n, ast.Attribute):
            if isinstance(n.ctx, (ast.Store, ast.Del)):
                stored.add(n.attr)
        elif isinstance(n, ast.Name):
            if isinstance(n.ctx, ast.Store) and n.id in classes:
                rebound.add(n.id)
        elif isinstance(n, FUNCS):
            scopes.append(n)
    attrs_of: dict[str, set[str] | None] = {}

    def attrs(name):
        if name not in attrs_of:
            found = class_attrs(classes[name], classes)
            attrs_of[name] = None if found is None else found | stored
        return attrs_of[name]

    out: list[LintMessage] = []
    for scope in scopes:
        nodes = list(own_nodes(scope))
        stores: dict[str, list] = {}
        for n in nodes:
            if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
                stores.setdefault(n.id, []).append(n)
            elif isinstance(n, (ast.Global, ast.Nonlocal, ast.Import, ast.ImportFrom, *DEFS)):
                for name in getattr(n, "names", None) or [getattr(n, "name", "")]:
                    stores.setdefault(getattr(name, "asname", None) or getattr(name, "name", name), []).extend([n, n])
        params = {a.arg for a in walk(scope.args) if isinstance(a, ast.arg)} if isinstance(scope, FUNCS) else set()
        instance_of: dict[str, tuple[str, int]] = {}
        for n in nodes:
            if (isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)
                    and isinstance(n.value, ast.Call) and isinstance(n.value.func, ast.Name)
                    and n.value.func.id in classes and n.value.func.id not in rebound
                    and len(stores.get(n.targets[0].id, ())) == 1 and n.targets[0].id not in params):
                instance_of[n.targets[0].id] = (n.value.func.id, n.lineno)
        for n in nodes:
            if not (isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load)):
                continue
            owner = None
            if isinstance(n.value, ast.Name) and n.value.id in instance_of and n.lineno > instance_of[n.value.id][1]:
                owner = instance_of[n.value.id][0]
            elif isinstance(n.value, ast.Call) and isinstance(n.value.func, ast.Name) \
                    and n.value.func.id in classes and n.value.func.id not in rebound:
                owner = n.value.func.id
            elif isinstance(n.value, ast.Call) and _makes_instance(n.value.func, classes, rebound):
                owner = n.value.func.value.id
            known = attrs(owner) if owner else None
            if known is not None and n.attr not in known:
                out.append(LintMessage(n.lineno, "E1101", f"Instance of {owner!r} has no {n.attr!r} member"))
    return out


def _makes_instance(func: ast.AST, classes: dict[str, ast.ClassDef], rebound: set[str]) -> bool:
    """``C.m`` where ``m`` is a classmethod of ``C`` whose every return is ``cls(...)``: astroid
    infers the call to an instance of ``C``."""
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
            and func.value.id in classes and func.value.id not in rebound):
        return False
    cls = classes[func.value.id]
    fns = [f for f in class_methods(cls) if f.name == func.attr]
    if len(fns) != 1 or method_kind(fns[0], cls) != "classmethod" or not fns[0].args.args:
        return False
    me = fns[0].args.args[0].arg
    rets = [r for r in own_nodes(fns[0]) if isinstance(r, ast.Return)]
    return bool(rets) and all(isinstance(r.value, ast.Call) and isinstance(r.value.func, ast.Name)
                              and r.value.func.id == me for r in rets)


# rule family for oracle/dispatch.py
def _member_order_rule(state) -> list[LintMessage]:
    return member_order_messages(state.tree, state.all_classes) if state.all_classes else []


def _instance_member_rule(state) -> list[LintMessage]:
    return instance_member_messages(state.tree, state.source) if state.all_classes else []


ORDER = 2
RULES = (_member_order_rule, _instance_member_rule)
