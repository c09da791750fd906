"""The fast oracle's tree walks: the same nodes, in the same order, as the ast module's."""

import ast
import glob
import os

import pytest

from lintseq.oracle import astutil


def _real_trees():
    """Real code: the standard library's json package and ast module, and lintseq itself."""
    paths = [ast.__file__, *glob.glob(os.path.join(os.path.dirname(__import__("json").__file__), "*.py")),
             *glob.glob(os.path.join(os.path.dirname(astutil.__file__), "*.py"))]
    return [ast.parse(open(p, encoding="utf-8").read()) for p in paths]


@pytest.mark.parametrize("tree", _real_trees(), ids=lambda t: str(len(t.body)))
def test_walk_and_children_are_the_ast_modules(tree):
    assert [id(n) for n in astutil.walk(tree)] == [id(n) for n in ast.walk(tree)]
    for node in ast.walk(tree):
        assert [id(c) for c in astutil.children(node)] == [id(c) for c in ast.iter_child_nodes(node)]


def test_walks_are_memoized_only_while_one_state_is_checked():
    tree = ast.parse("class A:\n    def f(self):\n        return self.x")
    assert astutil.walk(tree) is not astutil.walk(tree)  # outside a state: a fresh list each time
    with astutil.one_state():
        first = astutil.walk(tree.body[0])
        assert astutil.walk(tree.body[0]) is first
    assert astutil._walks is None
    assert astutil.walk(tree.body[0]) is not first
