"""AST helpers every rule family of the fast oracle shares: node kinds, statement walks that
skip expressions (cheap on every state), and what astroid calls a method's kind.

    >>> import ast
    >>> [type(n).__name__ for n in stmts(ast.parse("if x:\\n    y = 1").body)]
    ['If', 'Assign']
"""

from __future__ import annotations

import ast
import contextlib
import re

FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
OBJECT_ATTRS = frozenset(dir(object)) | {"__dict__", "__module__", "__weakref__"}
BLOCK_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")


_AST = ast.AST
_walks: dict[int, list] | None = None  # walk() lists by id(root) while one state is checked


def _add_children(out: list, node: ast.AST) -> list:
    """Append ``node``'s child nodes to ``out``, in ``ast.iter_child_nodes`` order."""
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, _AST):
            out.append(value)
        elif value.__class__ is list:
            out.extend([v for v in value if isinstance(v, _AST)])
    return out


def children(node: ast.AST) -> list[ast.AST]:
    """``ast.iter_child_nodes(node)`` as a list (a third of its cost: no generators)."""
    return _add_children([], node)


def walk(node: ast.AST) -> list[ast.AST]:
    """``ast.walk(node)`` as a list, in its order (breadth first). While a state is checked
    (:func:`one_state`) each subtree is walked once, however many rules ask: the rule families
    walk the same classes and functions again and again (a quarter of the fast oracle's time).
    Callers must not change the list.

        >>> [type(n).__name__ for n in walk(ast.parse("x = 1"))]
        ['Module', 'Assign', 'Name', 'Constant', 'Store']
    """
    cache = _walks
    if cache is not None:
        found = cache.get(id(node))
        if found is not None:
            return found
    todo = [node]
    for n in todo:  # appending while iterating: breadth first, as ast.walk's deque
        _add_children(todo, n)
    if cache is not None:
        cache[id(node)] = todo
    return todo


@contextlib.contextmanager
def one_state():
    """Memoize :func:`walk` while one (unchanging) tree is checked; ids are only trusted while
    that tree is alive, so the memo ends with the block."""
    global _walks
    outer, _walks = _walks, {}
    try:
        yield
    finally:
        _walks = outer


def stmts(nodes):
    """Statements (and except handlers / match cases) nested in ``nodes``, depth first;
    expressions are never visited, which keeps these checks cheap."""
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        yield node
        for name in BLOCK_FIELDS:
            block = getattr(node, name, None)
            if block:
                stack.extend(reversed(block))


def bodies(tree: ast.AST):
    """Every statement list that forms one scope level (module, class and function bodies)."""
    yield tree.body
    for node in stmts(tree.body):
        if isinstance(node, DEFS):
            yield node.body


def decorator_names(fn: ast.AST) -> set[str]:
    names = set()
    for d in getattr(fn, "decorator_list", []):
        d = d.func if isinstance(d, ast.Call) else d
        names.add(d.attr if isinstance(d, ast.Attribute) else getattr(d, "id", ""))
    return names


def module_functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    """Module-level names bound exactly once, and to a function definition."""
    bound: dict[str, list[ast.AST]] = {}
    for node in tree.body:
        if isinstance(node, DEFS):
            bound.setdefault(node.name, []).append(node)
        else:
            for sub in walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    bound.setdefault(sub.id, []).append(sub)
                elif isinstance(sub, ast.alias):
                    bound.setdefault((sub.asname or sub.name).split(".")[0], []).append(sub)
    return {k: v[0] for k, v in bound.items() if len(v) == 1 and isinstance(v[0], ast.FunctionDef)}


def named_before(source: str, names, chars: str) -> bool:
    """Whether some name of ``names`` stands in the text right before one of ``chars`` (spaces and
    line continuations between them allowed), other than on its own ``def``/``class`` line: a
    cheap test that spares a rule the walk of the tree on states that cannot trigger it.

        >>> named_before("class C:\\n    pass\\nc = C \\\\\\n    ()", ["C"], "(")
        True
        >>> named_before("def f(x):\\n    return x", ["f"], "(")
        False
    """
    pattern = re.compile(r"(\b(?:def|class)\s+)?\b(?:" + "|".join(map(re.escape, names)) + r")[\s\\]*["
                         + re.escape(chars) + "]")
    return any(m.group(1) is None for m in pattern.finditer(source))


IMPLICIT_CLASSMETHODS = ("__new__", "__init_subclass__", "__class_getitem__")


def last_name(node: ast.AST) -> str:
    node = node.func if isinstance(node, ast.Call) else node
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def method_kind(fn: ast.AST, cls: ast.ClassDef) -> str:
    """astroid's ``FunctionDef.type`` for a method: staticmethod, classmethod or method."""
    if fn.name in IMPLICIT_CLASSMETHODS:
        return "classmethod"
    for stmt in cls.body:  # "f = staticmethod(f)" in the class body (astroid's extra decorators)
        if (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call) and stmt.value.args
                and isinstance(stmt.value.args[0], ast.Name) and stmt.value.args[0].id == fn.name
                and any(isinstance(t, ast.Name) and t.id == fn.name for t in stmt.targets)
                and last_name(stmt.value) in ("staticmethod", "classmethod")):
            return last_name(stmt.value)
    for dec in fn.decorator_list:
        name = last_name(dec) if not isinstance(dec, ast.Call) else ""
        if name in ("staticmethod", "classmethod"):
            return name
        if name in ("abstractclassmethod", "abstractstaticmethod"):
            return name[len("abstract"):]
    return "method"


def class_methods(cls: ast.ClassDef):
    """Functions whose frame is ``cls`` (in its body, or under if/try/with/for there)."""
    stack = list(cls.body)
    while stack:
        node = stack.pop(0)
        if isinstance(node, FUNCS):
            yield node
        elif not isinstance(node, ast.ClassDef):
            for name in BLOCK_FIELDS:
                stack.extend(getattr(node, name, None) or [])


def own_nodes(fn: ast.AST):
    """Nodes of ``fn`` outside nested functions, lambdas and classes."""
    stack = list(fn.body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (*FUNCS, ast.Lambda, ast.ClassDef)):
            stack.extend(children(node))


def module_classes(tree: ast.Module, all_classes: list[ast.ClassDef] | None = None):
    """(top-level classes by name, every class in ``tree``): ``all_classes`` when the caller
    already collected them, else a walk of the tree."""
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    if all_classes is None:
        all_classes = [n for n in walk(tree) if isinstance(n, ast.ClassDef)]
    return classes, all_classes
