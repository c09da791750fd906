"""Calls of standard-library functions in the fast oracle (issue 18: the hybrid's last unclean
states on real code were E1120 on ``re`` functions, which its gate never sends to pylint).
Every case is checked against pylint itself, so a case that stops being what pylint says fails."""

import ast

import pytest

from lintseq.oracle.hybrid import HybridLinter
from lintseq.oracle.stdlib_calls import library_functions, stdlib_call_messages

ARGS = ("E1120", "E1121", "E1123", "E1124", "E1125")

CASES = [
    # what the real-world set's sampler left in: an argument line of a multi-line call deleted
    'import re\n\n\ndef clean(text):\n    return re.sub(\n        r"\\s+",\n        " ",\n    )\n',
    'import re\nre.match("a")\nre.match("a", "b", 0, 1)\nre.match("a", "b", flag=0)\n',
    # clean calls stay clean
    'import re\nre.match("a", "b", flags=0)\nre.compile("a", 0)\n',
    'import json\njson.dumps()\njson.loads("1", strict=False)\n',  # keyword-only rest: **kw in loads
    'import textwrap as tw\ntw.indent("a")\ntw.dedent("a", "b")\n',
    'from textwrap import dedent, indent as ind\ndedent()\nind("a", "b", None, 1)\n',
    'import shutil\nshutil.copyfile("a")\nshutil.copyfile("a", "b", follow_symlinks=True)\n',
    'import fnmatch\n\ndef f(names):\n    return fnmatch.filter(names)\n',
    'import re\nre.sub("a", "b", "c", 0, count=1)\n',
    # left alone: the name is bound again, or the call passes *args/**kwargs
    'import re\n\ndef f(re):\n    return re.sub("a")\n',
    'import re\nre = None\nre.sub("a")\n',
    'import re\nargs = ("a",)\nre.sub(*args)\n',
    'from re import sub\n\ndef sub(a):\n    return a\nsub()\n',
    # modules whose functions astroid's brain rewrites, and C modules: never checked here
    'import random\nrandom.sample([1])\n',
    'import math\nmath.sqrt()\n',
    'import functools\nfunctools.reduce(1)\n',
]


def _args(messages, lines=None):
    return sorted((m.line, m.code) for m in messages if m.code in ARGS and (lines is None or m.line in lines))


@pytest.mark.parametrize("source", CASES)
def test_stdlib_calls_like_pylint(fast, pylint, source):
    tree = ast.parse(source)
    ours = _args(stdlib_call_messages(tree, source))
    theirs = _args(pylint.messages(source))
    if "re = None" in source or "def f(re)" in source or "*args" in source or "def sub" in source:
        assert ours == []  # not decided without inference (pylint may say something on its own)
    elif any(m in source for m in ("random", "math", "functools")):
        assert ours == []
    else:
        assert ours == theirs, (ours, theirs)
        assert bool(ours) != ("flags=0" in source)  # every case but the clean one has a message
    assert set(ours) <= set(_args(fast.messages(source)))  # the fast oracle reports them


def test_the_hybrid_catches_the_deleted_argument_line_without_pylint():
    base = 'import re\n\n\ndef clean(text):\n    return re.sub(\n        r"\\s+",\n        " ",\n        text,\n    )\n'
    state = base.replace("        text,\n", "")
    hybrid = HybridLinter()
    assert hybrid.error_lines(state, base=base) == [5]
    assert hybrid.pylint_calls == 0  # no class, no third-party import: the gate never asks pylint


def test_only_plain_pure_python_stdlib_functions_are_read():
    assert "sub" in library_functions("re") and "dedent" in library_functions("textwrap")
    assert library_functions("math") == {}  # a C module: no source
    assert library_functions("random") == {}  # astroid's brain infers it
    assert library_functions("os.path") == {}  # reached through an attribute chain: not here
    assert library_functions("yaml") == {}  # not the standard library
    assert library_functions("no_such_module_here") == {}
