r"""Argument checks of calls to callables defined in the same file, for the fast oracle, after
pylint 3.2.6's ``TypeChecker.visit_call``: E1120 no-value-for-parameter, E1121
too-many-function-args, E1123 unexpected-keyword-arg, E1124 redundant-keyword-arg and E1125
missing-kwoa. Deleting one line of a multi-line signature, or a keyword line of a call, is what
creates them in intermediate states.

The callee must be known without inference: a module-level function or class bound once
(``f(...)``, ``C(...)`` with ``__init__``/``__new__`` in ``C`` or its local bases), or a method
of the enclosing class called on ``self`` (``self.m(...)``). Undecorated callees only (apart from
``staticmethod``/``classmethod``), no ``*args``/``**kwargs`` at the call site, and never a name
that a local or enclosing scope rebinds.

    >>> import ast
    >>> src = "def f(a, b):\n    return a\nf(1)\nf(1, 2, 3)\nf(1, c=2, b=3)"
    >>> [(m.line, m.code) for m in call_messages(ast.parse(src))]
    [(3, 'E1120'), (4, 'E1121'), (5, 'E1123')]
"""

from __future__ import annotations

import ast

from . import LintMessage
from .astutil import FUNCS, children, class_methods, method_kind, module_functions, named_before, walk

_SCOPES = (*FUNCS, ast.Lambda)


def _bound_names(fn: ast.AST) -> set[str]:
    """Names a function or lambda binds itself: parameters, and every binding in its body
    outside nested scopes (a nested def or class binds only its own name here)."""
    a = fn.args
    names = {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs}
    names |= {x.arg for x in (a.vararg, a.kwarg) if x}
    stack = list(fn.body) if isinstance(fn.body, list) else [fn.body]
    while stack:
        n = stack.pop()
        if isinstance(n, (*FUNCS, ast.ClassDef)):
            names.add(n.name)
            continue
        if isinstance(n, ast.Lambda):
            continue
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            names.add(n.id)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            names |= {(x.asname or x.name).split(".")[0] for x in n.names}
        elif isinstance(n, ast.ExceptHandler) and n.name:
            names.add(n.name)
        stack.extend(children(n))
    return names


def _module_classes(tree: ast.Module) -> dict[str, ast.ClassDef]:
    """Module-level classes whose name is bound exactly once at module level."""
    counts: dict[str, int] = {}
    for node in tree.body:
        if isinstance(node, (*FUNCS, ast.ClassDef)):
            names = [node.name]
        else:
            names = [n.id for n in walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
            names += [(a.asname or a.name).split(".")[0] for n in walk(node)
                      if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names]
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    return {n.name: n for n in tree.body if isinstance(n, ast.ClassDef) and counts.get(n.name) == 1}


def _constructor(cls: ast.ClassDef, classes, seen=()) -> ast.AST | None | bool:
    """The ``__new__``/``__init__`` a call of ``cls`` is checked against; False = object's (no
    check); None = unknowable here (decorated, metaclass, or an unknown base first in line)."""
    if cls.decorator_list or cls.keywords or cls.name in seen:
        return None
    for name in ("__new__", "__init__"):
        found = [f for f in cls.body if isinstance(f, FUNCS) and f.name == name]
        if found:
            return found[-1] if not found[-1].decorator_list or name == "__new__" else None
    for base in cls.bases:
        if isinstance(base, ast.Name) and base.id in classes:
            sub = _constructor(classes[base.id], classes, (*seen, cls.name))
            if sub is not False:
                return sub
        elif not (isinstance(base, ast.Name) and base.id in ("object",)):
            return None
    return False


def check_call(call: ast.Call, fn: ast.AST, implicit: int, what: str) -> list[LintMessage]:
    """pylint's argument matching for one call against one signature."""
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return []
    a = fn.args
    names = [x.arg for x in a.posonlyargs + a.args]
    if len(names + [x.arg for x in a.kwonlyargs]) != len(set(names + [x.arg for x in a.kwonlyargs])):
        return []
    mandatory = len(names) - len(a.defaults)
    filled = [False] * len(names)
    out = []
    for i in range(len(call.args) + implicit):
        if i < len(names):
            filled[i] = True
        elif a.vararg is not None:
            break
        else:
            out.append(LintMessage(call.lineno, "E1121", f"Too many positional arguments for {what} call"))
            break
    kw_filled = {x.arg: False for x in a.kwonlyargs}
    kw_default = {x.arg: d is not None for x, d in zip(a.kwonlyargs, a.kw_defaults)}
    posonly = {x.arg for x in a.posonlyargs}
    for k in (kw.arg for kw in call.keywords):
        if a.kwarg and k in posonly:
            continue
        if k in names:
            i = names.index(k)
            if filled[i]:
                out.append(LintMessage(call.lineno, "E1124", f"Argument {k!r} passed by position and keyword"))
            filled[i] = True
        elif k in kw_filled:
            if kw_filled[k]:
                out.append(LintMessage(call.lineno, "E1124", f"Argument {k!r} passed by position and keyword"))
            kw_filled[k] = True
        elif a.kwarg is None:
            out.append(LintMessage(call.lineno, "E1123", f"Unexpected keyword argument {k!r} in {what} call"))
    for i, name in enumerate(names):
        if i < mandatory and not filled[i]:
            out.append(LintMessage(call.lineno, "E1120", f"No value for argument {name!r} in {what} call"))
    for name, done in kw_filled.items():
        if not done and not kw_default[name]:
            out.append(LintMessage(call.lineno, "E1125", f"Missing mandatory keyword argument {name!r}"))
    return out


def _bindings(cls: ast.ClassDef) -> dict[str, int]:
    """How many times each name is bound anywhere in ``cls`` (definitions, plain and attribute
    stores): one walk per class and state, where a walk per call was a tenth of the fast
    oracle's time on real code."""
    counts: dict[str, int] = {}
    for s in walk(cls):
        if isinstance(s, (*FUNCS, ast.ClassDef)):
            name = s.name
        elif isinstance(s, ast.Name) and isinstance(s.ctx, ast.Store):
            name = s.id
        elif isinstance(s, ast.Attribute) and isinstance(s.ctx, ast.Store):
            name = s.attr
        else:
            continue
        counts[name] = counts.get(name, 0) + 1
    return counts


def _method_target(cls: ast.ClassDef, attr: str, classes, seen=(), index=None):
    """(method, implicit args) that ``self.attr`` resolves to, or None when unknowable.
    ``index``: a dict the caller keeps, class -> :func:`_bindings`, filled on first need."""
    if cls.decorator_list or cls.keywords or cls.name in seen:
        return None
    index = {} if index is None else index
    if cls not in index:
        index[cls] = _bindings(cls)
    bound = index[cls].get(attr, 0)
    own = [f for f in class_methods(cls) if f.name == attr]
    if bound:
        if bound != 1 or len(own) != 1:
            return None
        kind = method_kind(own[0], cls)
        extra = [d for d in own[0].decorator_list if getattr(d, "id", None) not in ("staticmethod", "classmethod")]
        if extra:
            return None
        return own[0], kind
    if len(cls.bases) != 1 or not (isinstance(cls.bases[0], ast.Name) and cls.bases[0].id in classes):
        return None
    return _method_target(classes[cls.bases[0].id], attr, classes, (*seen, cls.name), index)


def call_messages(tree: ast.Module, source: str | None = None, has_classes: bool = True,
                  name_calls=None) -> list[LintMessage]:
    """Every message above. ``name_calls`` (the fast oracle's pyflakes pass: each call of a
    plain name with the binding it resolves to) spares the walk when the state has no class."""
    if not has_classes:  # only module-level functions can be checked: is any of them called?
        names = [n.name for n in tree.body if isinstance(n, FUNCS) and not n.decorator_list]
        if not names or source is not None and not named_before(source, names, "("):
            return []
        if name_calls is not None:
            funcs = {k: v for k, v in module_functions(tree).items() if not v.decorator_list}
            out = []
            for call, binding in name_calls:
                fn = funcs.get(call.func.id)
                if fn is not None and getattr(binding, "source", None) is fn:
                    out += check_call(call, fn, 0, "function")
            return out
    funcs = {k: v for k, v in module_functions(tree).items() if not v.decorator_list}
    classes = _module_classes(tree)
    if not funcs and not classes and not has_classes:
        return []
    out: list[LintMessage] = []

    def constructor_call(call, klass):
        ctor = _constructor(klass, classes)
        return check_call(call, ctor, 1, "constructor") if ctor else []

    bindings: dict = {}

    def method_call(call, klass, attr, on_instance):
        target = _method_target(klass, attr, classes, index=bindings)
        if not target:
            return []
        fn, kind = target
        # through an instance every non-static method is bound; through the class only classmethods
        implicit = int(kind != "staticmethod") if on_instance else int(kind == "classmethod")
        return check_call(call, fn, implicit, "method")

    def check(call, scopes, cls, me):
        f = call.func
        name, kind = me or (None, None)  # the method's first parameter and what it is (self / cls)
        if isinstance(f, ast.Name) and f.id == name and kind == "cls":
            return constructor_call(call, cls)
        if isinstance(f, ast.Name) and not any(f.id in s for s in scopes):
            if f.id in funcs:
                return check_call(call, funcs[f.id], 0, "function")
            if f.id in classes:
                return constructor_call(call, classes[f.id])
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
            if f.value.id == name:
                return method_call(call, cls, f.attr, kind == "self")
            if f.value.id in classes and not any(f.value.id in s for s in scopes):
                return method_call(call, classes[f.value.id], f.attr, False)
        return []

    # one iterative pass; each item: (node, enclosing function/lambda nodes, class, self name,
    # whether the node sits directly in a class body)
    found = []
    stack = [(n, (), None, None, False) for n in reversed(tree.body)]
    while stack:
        node, chain, cls, me, class_body = stack.pop()
        if isinstance(node, ast.ClassDef):
            heads = [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]
            stack.extend((n, chain, cls, me, class_body) for n in heads)
            stack.extend((n, chain, node, None, True) for n in reversed(node.body))
        elif isinstance(node, _SCOPES):
            a = node.args
            heads = [*getattr(node, "decorator_list", []), *a.defaults, *[d for d in a.kw_defaults if d]]
            stack.extend((n, chain, cls, me, class_body) for n in heads)
            first = None
            if cls is not None and class_body and isinstance(node, FUNCS) and a.args:
                kind = method_kind(node, cls)
                if kind != "staticmethod":
                    first = (a.args[0].arg, "self" if kind == "method" else "cls")
            body = node.body if isinstance(node.body, list) else [node.body]
            stack.extend((n, (*chain, node), cls, first or me, False) for n in reversed(body))
        else:
            if isinstance(node, ast.Call) and not class_body and (  # class-body calls: left out
                    isinstance(node.func, ast.Name) and (node.func.id in funcs or node.func.id in classes
                                                         or me and node.func.id == me[0])
                    or isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)
                    and (me and node.func.value.id == me[0] or node.func.value.id in classes)):
                found.append((node, chain, cls, me))
            stack.extend((n, chain, cls, me, class_body) for n in children(node))
    bound: dict[int, set[str]] = {}
    for call, chain, cls, me in found:
        for scope in chain:
            if id(scope) not in bound:
                bound[id(scope)] = _bound_names(scope)
        out.extend(check(call, [bound[id(s)] for s in chain], cls, me))
    return out


# rule family for oracle/dispatch.py
def _call_rule(state) -> list[LintMessage]:
    return call_messages(state.tree, state.source, bool(state.all_classes), state.name_calls)


ORDER = 3
RULES = (_call_rule,)
