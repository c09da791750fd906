"""Where a changed name can change a counted pylint message (oracle/reach.py), each context
against real pylint: a deletion the gate calls harmless leaves pylint silent, one it sends on
makes pylint speak (issue 18)."""

import ast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lintseq.oracle.delta import touched
from lintseq.oracle.pylint_oracle import AUTHOR_FLAGS, PylintLinter
from lintseq.oracle.reach import reaches


@pytest.fixture(scope="module")
def pylint():
    return PylintLinter(AUTHOR_FLAGS)


def _reaches(src: str, value=(), result=(), flow=None) -> bool:
    return reaches(ast.parse(src), set(value), set(result), flow)


@pytest.mark.parametrize("src,expected", [
    ("x = 1\nx.real", True),                 # attribute read: E1101
    ("x = 1\nx()", True),                    # called: E1102
    ("x = 1\nx[0]", True),                   # subscripted: E1136
    ("x = 1\nfor a in x:\n    pass", True),  # iterated: E1133
    ("x = 1\n1 in x", True),                 # membership container: E1135
    ("x = 1\n-x", True),                     # operand: E1130
    ("x = 1\nprint(*x)", True),              # unpacked into a call
    ("x = 1\na, b = x", True),               # unpacked: E0633
    ("x = 1\nprint(x)", False),              # an argument whose call's result is discarded
    ("x = 1\nif x:\n    pass", False),       # a truth value
    ("x = 1\nx == 2", False),                # a comparison
    ("x = 1\nf'{x}'", False),                # formatted
    ("x = 1\ny = [x]\ny[0].real", True),     # flows into a display, then assigned, then read
    ("x = 1\ny = str(x)\nprint(y)", False),  # flows on, ends in a discarded call
    ("x = 1\n__all__ = ['x']", True),        # named in a string pylint reads
    ("x = 1\n'''x is documented here.'''", False),
])
def test_value_contexts(src, expected):
    assert _reaches(src, value={"x"}) is expected


@pytest.mark.parametrize("src,expected", [
    ("def f():\n    return 1\nf()", False),              # the result is discarded
    ("def f():\n    return 1\nf().real", True),          # the result's attribute is read
    ("def f():\n    return 1\ny = f()", True),           # E1111/E1128: assigned from the call
    ("def f():\n    return 1\ndef g():\n    return f()\ng().real", True),  # through g's result
    ("def f():\n    return 1\ndef g():\n    return f()\nprint(g())", False),
    ("def f():\n    return 1\nf.__name__", False),      # the function object, not its result
])
def test_result_contexts(src, expected):
    assert _reaches(src, result={"f"}) is expected


def test_flow_names_are_uses_in_their_own_function_only():
    src = "def f():\n    x = 1\n    return x\ndef g(x):\n    return x"
    assert _reaches(src, flow={"x": {"f"}}) is True
    assert _reaches(src, flow={"x": {"g"}}) is True
    assert _reaches(src, flow={"x": {"h"}}) is False
    assert _reaches("def f():\n    x = 1\n    x += 1", flow={"x": {"f"}}) is True


def _drop(src: str, *line_numbers: int) -> tuple[list[str], list[str]]:
    lines = src.split("\n")
    return lines, [line for i, line in enumerate(lines) if i + 1 not in line_numbers]


def _counted(pylint, src: str) -> list[str]:
    return sorted(m.code for m in pylint.messages(src))


# Each case: a clean base, a deletion the gate must send to pylint, and the message pylint
# then reports: the rules the gate learned from misses on real code (scale set, issue 18).
SENT = [
    ("""import sys


def pick(items, root=None):
    for n in items:
        if n < 0:
            msg = f"negative {n}"
            raise ValueError(msg)
    if root is None:
        for n in items:
            if n > 9:
                raise ValueError(msg)
    return root
""", (8,), "E0606"),  # a deleted raise lets msg's binding reach the later read (flow)
    ("""class Box:
    def __init__(self):
        self.items = [1]

    def __getitem__(self, key):
        return self.items[key]

    def first(self):
        return self[0]
""", (5, 6), "E1136"),  # __getitem__ is read by self[0], never by name
    ("""class Point:
    __slots__ = (
        "x",
        "y",
    )

    def __init__(self):
        self.x = 0
        self.y = 0
""", (4,), "E0237"),  # a __slots__ entry: assigning to y is no longer legal
    ("""import collections


class Release(
    collections.namedtuple(
        "ReleaseBase",
        "major minor")
        ):
    def parts(self):
        return self.major, self.minor
""", (6,), "E1120"),  # a line of a class header: the namedtuple base lost its first argument
]


@pytest.mark.parametrize("src,drop,code", SENT)
def test_deletions_that_change_pylints_verdict_go_to_pylint(src, drop, code, pylint):
    base, state = _drop(src, *drop)
    assert _counted(pylint, src) == []
    assert code in _counted(pylint, "\n".join(state))
    assert touched(base, state) is True


SPARED = [
    ("""import json


class Codec:
    def __init__(self):
        self.indent = 2

    def dump(self, obj):
        text = json.dumps(obj, indent=self.indent)
        print(text)
        return text

    def show(self, obj):
        print(self.dump(obj))
""", (11,)),  # dump's return: its only call's result is printed
    ("""import functools


@functools.lru_cache(maxsize=None)
def cached(n):
    return n


class Holder:
    def __init__(self, n):
        self.n = n
        print(cached)
""", (4,)),  # a decorator of a function nothing calls (a registered callback, say)
    ("""from collections import OrderedDict


class Registry:
    def __init__(self):
        self.items = OrderedDict()

    def __repr__(self):
        return "Registry()"

    def add(self, key):
        self.items[key] = 1
""", (8, 9)),  # a __repr__ the language reads only for repr(), which no message checks
]


@pytest.mark.parametrize("src,drop", SPARED)
def test_deletions_the_gate_spares_leave_pylint_silent(src, drop, pylint):
    base, state = _drop(src, *drop)
    assert _counted(pylint, src) == []
    assert touched(base, state) is False
    assert _counted(pylint, "\n".join(state)) == []


def _words_of_real_programs():
    import importlib.util
    import re

    path = importlib.util.find_spec("click.types").origin
    with open(path, encoding="utf-8") as fh:
        source = fh.read()
    tree = ast.parse(source)
    return tree, sorted(set(re.findall(r"[A-Za-z_]\w*", source)))


_TREE, _WORDS = _words_of_real_programs()


@settings(deadline=None, max_examples=40)
@given(st.data())
def test_more_changed_names_never_make_a_use_disappear(data):
    """Monotone, as a conservative gate must be: if some changed names reach a use, any
    superset of them does too (on click's types module, with names drawn from its own text)."""
    pick = st.lists(st.sampled_from(_WORDS), max_size=6, unique=True)
    value, result, more = data.draw(pick), data.draw(pick), data.draw(pick)
    flow_fn = data.draw(st.sampled_from([None, "convert", "__init__"]))
    flow = {w: {flow_fn} for w in data.draw(pick)}
    small = reaches(_TREE, set(value), set(result), flow)
    large = reaches(_TREE, set(value) | set(more), set(result) | set(more), {**flow, **{w: {flow_fn} for w in more}})
    assert not small or large
