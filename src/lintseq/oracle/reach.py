r"""Where a changed name can change a counted pylint message: the delta gate's second look.

A deletion changes what some names mean: the names its lines bound (``value`` names: the
remaining references see other bindings, or fewer inferred values) and the functions whose
bodies lost a ``return``/``yield``/``raise`` (``result`` names: the function is the same object,
its calls return something else). :mod:`lintseq.oracle.delta` finds them; this module follows
each remaining reference up the state's tree and asks whether a counted message of pylint can
depend on what it now means. pylint's inference-only messages sit where a value is *used*:

* its attribute is read (E1101), it is called (E1102, E1120-E1125), subscripted (E1136/E1137,
  E1126 for an index), iterated or unpacked (E1133, E0633, ``*x``/``**x``), tested for
  membership (E1135), an operand (E1130/E1131, E1307 for ``%``), a context manager (E1129),
  raised or caught (E0702/E0710/E0712), a base class, a decorator, a default, an annotation;
* an attribute reference of a changed ``value`` name is itself such a use (E1101 on it);
* a call of a changed ``result`` function assigned to a name (E1111/E1128).

A reference whose value only flows on (an argument, an element of a display, a conditional
expression, an assignment, a ``return``) makes what it flows into a changed value too: the
call's result, the assigned name (followed everywhere in the state), the enclosing function's
result. A reference whose value ends as a truth value, a comparison, an f-string field or a
discarded expression changes no message. Anything not listed counts as a use, and so does a
string naming a changed name outside a docstring (``__all__``, string annotations), and a
``global``/``nonlocal`` of one. And a ``flow`` name read in a function where the deletion
changed its flow is always a use: a name the deleted lines bound there, or one bound in a
statement that lost a ``return``/``raise``/``break``/``continue``: whether it is bound before the
read (E0601/E0606) is pylint's flow analysis, which the fast oracle does not model in full.

    >>> import ast
    >>> reaches(ast.parse("def f():\n    return 1\nprint(f())"), set(), {"f"})
    False
    >>> reaches(ast.parse("def f():\n    return 1\nx = f()\nx.real"), set(), {"f"})
    True
    >>> reaches(ast.parse("y = 2\nprint(y)"), {"y"}, set())
    False
"""

from __future__ import annotations

import ast
import re

_WORD = re.compile(r"[A-Za-z_]\w*")
_FLOWS = (ast.BoolOp, ast.IfExp, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.ListComp, ast.SetComp,
          ast.DictComp, ast.GeneratorExp, ast.Call, ast.keyword, ast.NamedExpr)
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_ENDS = (ast.Expr, ast.Assert, ast.JoinedStr)  # the value is discarded, tested or formatted


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _function_of(node: ast.AST, parents: dict) -> ast.AST | None:
    """The innermost function or lambda around ``node`` (None at module or class level)."""
    node = parents.get(node)
    while node is not None and not isinstance(node, (*_FUNCS, ast.Lambda)):
        node = parents.get(node)
    return node


def _scope_name(node: ast.AST, parents: dict) -> str | None:
    """The name of the function around ``node`` (None at module or class level)."""
    fn = _function_of(node, parents)
    return fn.name if isinstance(fn, _FUNCS) else None


def _flows_into(node: ast.AST, parents: dict, new: set[str], returned: set[str]) -> bool:
    """Follow a changed value up from ``node``: True where a message can depend on it, False
    where it ends harmlessly; names it is assigned to go into ``new``, functions it is
    returned from into ``returned``."""
    while True:
        parent = parents.get(node)
        if parent is None or isinstance(parent, ast.Starred):
            return True
        if isinstance(parent, ast.Call):
            if parent.func is node or getattr(parent.func, "id", None) == "super":
                return True  # called (E1102, E1120-E1125), or super(x, ...) (E1003)
        elif isinstance(parent, ast.keyword):
            if parent.arg is None:
                return True  # **x: E1134
        elif isinstance(parent, ast.IfExp) and parent.test is node:
            return False
        elif isinstance(parent, ast.NamedExpr):
            new.add(parent.target.id)
        elif isinstance(parent, ast.comprehension):
            return parent.iter is node  # iterated (E1133); an `if` of it is a truth value
        elif isinstance(parent, ast.Compare):  # a bool, unless the container of `in` (E1135)
            return any(isinstance(op, (ast.In, ast.NotIn)) and right is node
                       for op, right in zip(parent.ops, parent.comparators))
        elif isinstance(parent, ast.UnaryOp):
            return not isinstance(parent.op, ast.Not)
        elif isinstance(parent, ast.FormattedValue):
            return parent.format_spec is node
        elif isinstance(parent, _ENDS) or isinstance(parent, (ast.If, ast.While)) and parent.test is node:
            return False
        elif isinstance(parent, ast.Assign) and parent.value is node:
            for target in parent.targets:
                if isinstance(target, ast.Name):
                    new.add(target.id)
                elif isinstance(target, ast.Attribute):
                    new.add(target.attr)
                else:
                    return True  # unpacked (E0633) or stored into a container
            return False
        elif isinstance(parent, (ast.Return, ast.Yield)):
            fn = _function_of(parent, parents)
            if not isinstance(fn, _FUNCS):
                return True
            returned.add(fn.name)
            return False
        elif not isinstance(parent, _FLOWS):
            return True  # an attribute read, subscript, operand, with, raise, base, default, ...
        node = parent


def _named_in_string(node: ast.Constant, parents: dict, names: set[str]) -> bool:
    """A string naming a changed name where pylint may read it (not a docstring)."""
    if isinstance(parents.get(node), ast.Expr):
        return False
    return any(w in names for w in _WORD.findall(node.value))


def reaches(tree: ast.Module, value: set[str], result: set[str], flow: dict[str, set] | None = None) -> bool:
    """Whether a counted pylint message in ``tree`` (the state) can depend on the changed
    ``value`` names or ``result`` functions (see the module docstring). ``flow`` maps a name to
    the functions (by name; None for module or class level) where the deletion changed its
    flow: a read there is always a use."""
    value, result, flow = set(value), set(result), flow or {}
    parents = _parents(tree)
    seen: set[tuple[int, str]] = set()
    grew = True
    while grew:  # assignments and returns add names: look again until none is new
        grew = False
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                word = node.id
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                word = node.attr
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if _named_in_string(node, parents, value | result):
                    return True
                continue
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                if not set(node.names).isdisjoint(value | result):
                    return True
                continue
            elif isinstance(node, ast.AugAssign):  # x += ...: reads x (E1131, E0601)
                target = node.target
                name = getattr(target, "id", getattr(target, "attr", None))
                if name in value or name in flow and _scope_name(node, parents) in flow[name]:
                    return True
                continue
            else:
                continue
            if word in flow and isinstance(node, ast.Name) and (id(node), "") not in seen:
                seen.add((id(node), ""))
                if _scope_name(node, parents) in flow[word]:
                    return True  # read where its flow changed (E0601/E0606)
            if (id(node), word) in seen or (word not in value and word not in result):
                continue
            seen.add((id(node), word))
            new: set[str] = set()
            returned: set[str] = set()
            if word in value:
                if isinstance(node, ast.Attribute):
                    return True  # E1101 on the attribute itself
                if _flows_into(node, parents, new, returned):
                    return True
            else:  # a function whose body changed: only what its calls return differs
                call = parents.get(node)
                if isinstance(call, ast.Call) and call.func is node:
                    if isinstance(parents.get(call), (ast.Assign, ast.AnnAssign, ast.NamedExpr)):
                        return True  # E1111/E1128: assigned from a call that may return nothing
                    if _flows_into(call, parents, new, returned):
                        return True
                elif isinstance(call, ast.Attribute):
                    pass  # an attribute of the function object, which the body does not change
                elif _flows_into(node, parents, new, returned):  # the function itself, passed on
                    return True
            new -= value
            returned -= result
            if new or returned:
                value |= new
                result |= returned
                grew = True
    return False
