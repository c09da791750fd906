"""astroid's transforms looked up by name (oracle/transforms.py): the same trees as astroid's own
dispatch, node by node, on code that every indexed family fires on and on real modules."""

import functools
import importlib.util

import pytest
from astroid import MANAGER
from astroid.builder import AstroidBuilder

from lintseq.oracle.transforms import index_transforms

FIRES = '''import numpy as np
import numpy
from collections import namedtuple

Point = namedtuple("Point", "x y")
a = np.ones(3)
b = numpy.zeros((2, 2)).astype(np.float64)
c = dict.fromkeys("ab", 0)
d = bool(a) or callable(b) or getattr(c, "keys")
e = type("E", (), {})
f = str(1).upper() + repr(2) + super.__name__
g = isinstance(a, int) and issubclass(int, object)
h = [len(x) for x in (list(), tuple(), set(), frozenset(), slice(1))]
'''


def _signature(module) -> list[tuple]:
    """Each node: kind, place, text, and whether a transform gave it an inference tip."""
    out = []
    for node in _walk(module):
        tip = getattr(node, "_explicit_inference", None)
        out.append((type(node).__name__, node.lineno, node.col_offset, node.as_string()[:80], _named(tip)))
    return out


def _named(fn) -> str | None:
    """What an inference tip wraps, down to the brain function and its arguments: when several
    transforms apply to one node, the last one's tip must win, as in astroid's own loop."""
    if fn is None:
        return None
    if isinstance(fn, functools.partial):
        return f"{_named(fn.func)}{fn.args!r}{sorted(fn.keywords.items())!r}"
    inner = [_named(c.cell_contents) for c in (getattr(fn, "__closure__", None) or ()) if callable(c.cell_contents)]
    return f"{getattr(fn, '__qualname__', type(fn).__name__)}<{','.join(inner)}>"


def _walk(node):
    yield node
    for child in node.get_children():
        yield from _walk(child)


def _build(source: str, modname: str, indexed: bool):
    visitor = MANAGER._transform
    saved = visitor.__dict__.get("_transform")
    try:
        if indexed:
            index_transforms(MANAGER)
        else:
            visitor.__dict__.pop("_transform", None)  # astroid's own method, from the class
        return AstroidBuilder(MANAGER).string_build(source, modname=modname)
    finally:
        if saved is not None:
            visitor._transform = saved


def _source(module: str) -> str:
    with open(importlib.util.find_spec(module).origin, encoding="utf-8") as fh:
        return fh.read()


@pytest.mark.parametrize("name,source", [
    ("lintseq_fires", FIRES),
    ("re", _source("re")),                  # the builtins brain's special case for re's type(...)
    ("json.decoder", _source("json.decoder")),
    ("click.types", _source("click.types")),
])
def test_indexed_dispatch_builds_the_same_trees(name, source):
    plain = _signature(_build(source, name, indexed=False))
    indexed = _signature(_build(source, name, indexed=True))
    assert plain == indexed
    assert any(tip for *_, tip in plain)  # transforms did fire: the comparison means something


def test_registering_a_transform_later_is_seen():
    from astroid import nodes

    index_transforms(MANAGER)
    seen = []

    def mark(node):
        seen.append(node.name)

    def named(node):
        return node.name == "lintseq_marker"

    AstroidBuilder(MANAGER).string_build("x = 1\nprint(x)")  # plans for Name made before
    MANAGER.register_transform(nodes.Name, mark, named)
    try:
        AstroidBuilder(MANAGER).string_build("lintseq_marker = 1\nprint(lintseq_marker)")
    finally:
        MANAGER.unregister_transform(nodes.Name, mark, named)
    AstroidBuilder(MANAGER).string_build("print(lintseq_marker)")
    assert seen == ["lintseq_marker"]  # the Load once while registered, never after
