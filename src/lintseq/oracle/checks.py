"""lintseq's own checks for the fast oracle: the pylint errors that deletions commonly cause
and pyflakes does not see. Each mirrors one pylint rule, narrowed to what can be decided
without type inference (a miss costs fidelity, a false alarm costs nothing but shorter edits).

    >>> import ast
    >>> src = "def f():\\n    pass\\nx = f()"
    >>> [(m.line, m.code) for m in custom_messages(ast.parse(src))]
    [(3, 'E1111')]
"""

from __future__ import annotations

import ast

from . import LintMessage

_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_OBJECT_ATTRS = frozenset(dir(object)) | {"__dict__", "__module__", "__weakref__"}


_BLOCK_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")


def _stmts(nodes):
    """Statements (and except handlers / match cases) nested in ``nodes``, depth first;
    expressions are never visited, which keeps these checks cheap."""
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        yield node
        for name in _BLOCK_FIELDS:
            block = getattr(node, name, None)
            if block:
                stack.extend(reversed(block))


def custom_messages(tree: ast.Module, source: str | None = None, name_calls=None) -> list[LintMessage]:
    """Every check of this module and its siblings; ``source`` (the text of ``tree``) lets the
    call checks skip states that call no function or class defined in them."""
    # these modules import this one's helpers, so they are imported here, not at the top
    from .calls import call_messages  # noqa: PLC0415
    from .members import instance_member_messages, member_order_messages  # noqa: PLC0415
    from .methods import method_messages  # noqa: PLC0415
    from .unbound import possibly_unbound, undefined_globals  # noqa: PLC0415

    out: list[LintMessage] = possibly_unbound(tree)
    if "global" in (source or "global"):  # a substring test spares the walk in nearly every state
        out += undefined_globals(tree)
    all_classes = [n for n in _stmts(tree.body) if isinstance(n, ast.ClassDef)]
    if all_classes:
        out += method_messages(tree, all_classes)
        out += member_order_messages(tree, all_classes)
        out += instance_member_messages(tree)
    out += call_messages(tree, source, bool(all_classes), name_calls)
    for body in _bodies(tree):
        out += _redefinitions(body)
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    out += _no_return_assignments(tree, classes)
    for cls in classes.values():
        out += _missing_self_attributes(cls, classes)
        out += _super_init_not_called(cls, classes)
    return out


def _bodies(tree: ast.AST):
    """Every statement list that forms one scope level (module, class and function bodies)."""
    yield tree.body
    for node in _stmts(tree.body):
        if isinstance(node, _DEFS):
            yield node.body


def _decorator_names(fn: ast.AST) -> set[str]:
    names = set()
    for d in getattr(fn, "decorator_list", []):
        d = d.func if isinstance(d, ast.Call) else d
        names.add(d.attr if isinstance(d, ast.Attribute) else getattr(d, "id", ""))
    return names


def _redefinitions(body: list[ast.stmt]) -> list[LintMessage]:
    """E0102: a def/class name defined again by a def/class in the same statement list."""
    seen: dict[str, int] = {}
    out = []
    for node in body:
        if not isinstance(node, _DEFS):
            continue
        if _decorator_names(node) & {"setter", "deleter", "getter", "overload", "register"} or node.name == "_":
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
        if not isinstance(node, (*_FUNCS, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))
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
        if not isinstance(node, (*_FUNCS, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))
    return True


def _module_functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    """Module-level names bound exactly once, and to a function definition."""
    bound: dict[str, list[ast.AST]] = {}
    for node in tree.body:
        if isinstance(node, _DEFS):
            bound.setdefault(node.name, []).append(node)
        else:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    bound.setdefault(sub.id, []).append(sub)
                elif isinstance(sub, ast.alias):
                    bound.setdefault((sub.asname or sub.name).split(".")[0], []).append(sub)
    return {k: v[0] for k, v in bound.items() if len(v) == 1 and isinstance(v[0], ast.FunctionDef)}


def _no_return_assignments(tree: ast.Module, classes: dict[str, ast.ClassDef]) -> list[LintMessage]:
    """E1111 / E1128: ``x = f(...)`` where local ``f`` never returns a value."""
    funcs = _module_functions(tree)
    methods = {
        (cls.name, m.name): m
        for cls in classes.values()
        if not cls.bases
        for m in cls.body
        if isinstance(m, ast.FunctionDef)
    }
    owner = {id(m): cls.name for cls in classes.values() for m in cls.body if isinstance(m, _FUNCS)}
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
            names |= {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            local_names[id(fn)] = names
        return local_names[id(fn)]

    def visit(stmts, cls_name: str | None, fn) -> None:
        for child in stmts:
            if isinstance(child, _FUNCS):
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
            for name in _BLOCK_FIELDS:
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


def _class_attrs(cls: ast.ClassDef, classes: dict[str, ast.ClassDef]) -> set[str] | None:
    """Names an instance of ``cls`` has, or None when unknowable (unknown bases, magic)."""
    own = _defined_attrs(cls, classes, set())
    return None if own is None else own | _OBJECT_ATTRS


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
    augmented = {id(n.target) for n in ast.walk(cls) if isinstance(n, ast.AugAssign)}  # reads first: no binding
    for node in ast.walk(cls):
        if id(node) in augmented:
            continue
        if isinstance(node, _DEFS):
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


def _missing_self_attributes(cls: ast.ClassDef, classes: dict[str, ast.ClassDef]) -> list[LintMessage]:
    """E1101: ``self.x`` read in a method of a plain class that never binds ``x``."""
    if cls.name.lower().endswith("mixin"):
        return []
    attrs = _class_attrs(cls, classes)
    if attrs is None:
        return []
    out = []
    for fn in cls.body:
        if not isinstance(fn, _FUNCS) or not fn.args.args or _decorator_names(fn) & {"staticmethod", "classmethod"}:
            continue
        me = fn.args.args[0].arg
        augmented = {id(n.target) for n in ast.walk(fn) if isinstance(n, ast.AugAssign)}
        for node in ast.walk(fn):
            if (isinstance(node, ast.Attribute) and (isinstance(node.ctx, ast.Load) or id(node) in augmented)
                    and isinstance(node.value, ast.Name) and node.value.id == me and node.attr not in attrs):
                out.append(LintMessage(node.lineno, "E1101", f"Instance of {cls.name!r} has no {node.attr!r} member"))
    return out


def _init_of(cls: ast.ClassDef) -> ast.AST | None:
    return next((n for n in cls.body if isinstance(n, _FUNCS) and n.name == "__init__"), None)


def _super_init_not_called(cls: ast.ClassDef, classes: dict[str, ast.ClassDef]) -> list[LintMessage]:
    """W0231: a subclass ``__init__`` that never calls the ``__init__`` of a local base."""
    init = _init_of(cls)
    if init is None:
        return []
    bases = [classes[b.id] for b in cls.bases if isinstance(b, ast.Name) and b.id in classes]
    if not any(_inherits_init(b, classes, {cls.name}) for b in bases):
        return []
    for node in ast.walk(init):
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
