r"""pylint's structural method rules for the fast oracle, modelled on pylint 3.2.6 exactly where
no type inference is needed (deleting a ``self,`` line, a ``return`` or a decorator line is what
creates them in intermediate states):

* E0211 no-method-argument and E0213 no-self-argument (``classes`` checker,
  ``_check_first_arg_for_type``); method kinds as astroid's ``FunctionDef.type`` decides them;
* E0302 unexpected-special-method-signature (parameter counts of dunder methods);
* E0301/E0303-E0311 (``__iter__``, ``__len__``, ``__bool__``, ``__index__``, ``__repr__``,
  ``__str__``, ``__bytes__``, ``__hash__``, ``__length_hint__``, ``__format__`` returning the
  wrong type) when astroid's inferred call result is ``None`` (no ``return``, or one bare or
  ``None`` return) or one literal of the wrong type; other results need inference and are left;
* E0100 init-is-generator and E0101 return-in-init;
* E1102 not-callable for calling the instance itself (``self(...)``) in a class with no
  ``__call__``.

    >>> import ast
    >>> src = "class A:\n    def f(x):\n        return 1\n    def __str__(self):\n        x = 1"
    >>> [(m.line, m.code) for m in method_messages(ast.parse(src))]
    [(2, 'E0213'), (4, 'E0307')]
"""

from __future__ import annotations

import ast
import builtins

from . import LintMessage
from .astutil import FUNCS, class_methods, last_name, method_kind, module_classes, own_nodes

# pylint.checkers.utils.SPECIAL_METHODS_PARAMS: expected parameters besides self (None: any).
_PARAMS: dict[str, object] = {n: 0 for n in (
    "__abs__ __aenter__ __aiter__ __anext__ __await__ __bool__ __bytes__ __ceil__ __complex__ __copy__ "
    "__del__ __dir__ __enter__ __float__ __floor__ __fspath__ __getnewargs__ __getnewargs_ex__ __getstate__ "
    "__hash__ __index__ __int__ __invert__ __iter__ __len__ __length_hint__ __neg__ __nonzero__ __pos__ "
    "__reduce__ __repr__ __reversed__ __str__ __subclasses__ __trunc__ __unicode__").split()}
_PARAMS.update({n: 1 for n in (
    "__add__ __and__ __cmp__ __contains__ __deepcopy__ __delattr__ __delete__ __delitem__ __div__ __divmod__ "
    "__eq__ __floordiv__ __format__ __ge__ __getattr__ __getattribute__ __getitem__ __gt__ __iadd__ __iand__ "
    "__ifloordiv__ __ilshift__ __imatmul__ __imod__ __imul__ __instancecheck__ __ior__ __ipow__ __irshift__ "
    "__isub__ __itruediv__ __ixor__ __le__ __lshift__ __lt__ __matmul__ __missing__ __mod__ __mul__ __ne__ "
    "__or__ __radd__ __rand__ __rdivmod__ __reduce_ex__ __rfloordiv__ __rlshift__ __rmatmul__ __rmod__ "
    "__rmul__ __ror__ __rpow__ __rrshift__ __rshift__ __rsub__ __rtruediv__ __rxor__ __setstate__ __sub__ "
    "__subclasscheck__ __truediv__ __xor__").split()})
_PARAMS.update({n: 2 for n in "__get__ __set__ __set_name__ __setattr__ __setitem__".split()})
_PARAMS.update({"__aexit__": 3, "__exit__": 3, "__round__": (0, 1), "__pow__": (1, 2)})
_PARAMS.update({n: None for n in ("__call__", "__init__", "__init_subclass__", "__new__")})

# dunder -> (message id, types a literal return may have); None = no literal is right
_RETURNS = {
    "__iter__": ("E0301", None), "__len__": ("E0303", (int,)), "__bool__": ("E0304", (bool,)),
    "__index__": ("E0305", (int,)), "__repr__": ("E0306", (str,)), "__str__": ("E0307", (str,)),
    "__bytes__": ("E0308", (bytes,)), "__hash__": ("E0309", (int,)), "__length_hint__": ("E0310", (int,)),
    "__format__": ("E0311", (str,)),
}
_BUILTIN_NAMES = frozenset(dir(builtins))


def is_metaclass(cls: ast.ClassDef, classes: dict[str, ast.ClassDef], seen=()) -> bool:
    """A class deriving from ``type`` (directly, through a local class, or an imported *Meta)."""
    for base in cls.bases:
        name = last_name(base)
        if name == "type" or name.endswith(("Meta", "MetaClass", "Metaclass")):
            return True
        if isinstance(base, ast.Name) and name in classes and name not in seen and is_metaclass(
                classes[name], classes, (*seen, cls.name)):
            return True
    return False


def _body(fn: ast.AST) -> list[ast.stmt]:
    """astroid's body: the docstring is not part of it."""
    b = fn.body
    if b and isinstance(b[0], ast.Expr) and isinstance(b[0].value, ast.Constant) and isinstance(b[0].value.value, str):
        return b[1:]
    return b


def _first_arg(fn: ast.AST) -> str | None:
    a = fn.args
    return (a.posonlyargs or a.args)[0].arg if (a.posonlyargs or a.args) else None


def _arguments(fn, kind, metaclass) -> list[LintMessage]:
    a = fn.args
    if kind == "staticmethod":
        return []
    if not (a.args or a.posonlyargs or a.vararg or a.kwarg):
        return [LintMessage(fn.lineno, "E0211", f"Method {fn.name!r} has no argument")]
    if kind == "method" and not metaclass and fn.name != "__class_getitem__" and _first_arg(fn) != "self":
        return [LintMessage(fn.lineno, "E0213", f'Method {fn.name!r} should have "self" as first argument')]
    return []


def _signature(fn) -> list[LintMessage]:
    """E0302, as pylint's ``_check_unexpected_method_signature``."""
    expected, a = _PARAMS.get(fn.name), fn.args
    if expected is None or (not a.args and not a.vararg):
        return []
    static = any(last_name(d) == "staticmethod" and not isinstance(d, ast.Call) for d in fn.decorator_list)
    params = a.args if static else a.args[1:]
    optional = len(a.defaults)
    mandatory = len(params) - optional
    if isinstance(expected, tuple):
        emit = mandatory not in expected
    else:
        rest = expected - mandatory
        emit = rest < 0 or (rest > 0 and not (optional - rest >= 0 or a.vararg))
    if not emit:
        return []
    return [LintMessage(fn.lineno, "E0302", f"The special method {fn.name!r} expects {expected} param(s)")]


def _is_abstract(fn) -> bool:
    body = _body(fn)
    if any("abstract" in last_name(d) for d in fn.decorator_list):
        return True
    return bool(body) and isinstance(body[0], (ast.Raise, ast.Pass))


def _returns_messages(fn) -> list[LintMessage]:
    """E0301-E0311 where astroid infers one call result without inference: None or a literal."""
    code, ok = _RETURNS[fn.name]
    nodes = list(own_nodes(fn))
    if any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in nodes):
        return []  # a generator: right for __iter__; for the others pylint infers a Generator
    returns = [n for n in nodes if isinstance(n, ast.Return)]
    body = _body(fn)
    if len(body) == 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and body[0].value.value is Ellipsis:
        return []
    if not returns:
        wrong = bool(body) and not _is_abstract(fn)
    elif len(returns) == 1:  # two results (even two Nones) are "ambiguous" to pylint: no message
        value = returns[0].value
        if value is None or isinstance(value, ast.Constant) and value.value is None:
            wrong = True
        elif isinstance(value, (ast.Constant, ast.UnaryOp, ast.Tuple, ast.List, ast.Dict, ast.Set)):
            try:  # a literal (-1 and (1, 2) included) is what astroid infers it to be
                v = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                return []
            wrong = ok is None or not isinstance(v, ok) or (code in ("E0303", "E0310") and v < 0)
        else:
            wrong = False
    else:
        wrong = False
    return [LintMessage(fn.lineno, code, f"{fn.name} does not return the right type")] if wrong else []


def _init_messages(fn) -> list[LintMessage]:
    nodes = list(own_nodes(fn))
    if any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in nodes):
        return [LintMessage(fn.lineno, "E0100", "__init__ method is a generator")]
    for n in nodes:
        if isinstance(n, ast.Return) and n.value is not None and not (
                isinstance(n.value, ast.Constant) and n.value.value is None):
            return [LintMessage(fn.lineno, "E0101", "Explicit return in __init__")]
    return []


def _has_call(cls: ast.ClassDef, classes: dict[str, ast.ClassDef], seen=()) -> bool | None:
    """Whether instances of ``cls`` are callable; None when a base is not known here."""
    if any(isinstance(f, FUNCS) and f.name == "__call__" for f in cls.body) or cls.decorator_list or cls.keywords:
        return True
    for base in cls.bases:
        if isinstance(base, ast.Name) and base.id in classes and base.id not in seen:
            sub = _has_call(classes[base.id], classes, (*seen, cls.name))
            if sub is not False:
                return sub
        elif not (isinstance(base, ast.Name) and base.id in _BUILTIN_NAMES and base.id != "type"):
            return None
    return False


def method_messages(tree: ast.Module, all_classes: list[ast.ClassDef] | None = None) -> list[LintMessage]:
    """Every message above, for every class in ``tree`` (nested classes included)."""
    classes, all_classes = module_classes(tree, all_classes)
    out: list[LintMessage] = []
    for cls in all_classes:
        meta = is_metaclass(cls, classes)
        callable_ = None
        for fn in class_methods(cls):
            kind = method_kind(fn, cls)
            out += _arguments(fn, kind, meta)
            if fn.name in _PARAMS:
                out += _signature(fn)
            if fn.name in _RETURNS:
                out += _returns_messages(fn)
            if fn.name == "__init__":
                out += _init_messages(fn)
            first = _first_arg(fn)
            if kind == "method" and not meta and first:
                for n in own_nodes(fn):
                    if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == first:
                        if callable_ is None:
                            callable_ = _has_call(cls, classes) is not False
                        if not callable_:
                            out.append(LintMessage(n.lineno, "E1102", f"{first} is not callable"))
    return out


# rule family for oracle/dispatch.py
def _method_rule(state) -> list[LintMessage]:
    return method_messages(state.tree, state.all_classes) if state.all_classes else []


ORDER = 1
RULES = (_method_rule,)
