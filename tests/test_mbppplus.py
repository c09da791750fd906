"""MBPP+ scored as evalplus 0.3.1 scores it: the set oracle's float fallback, the reference's
own time limit (a slow reference never poisons its samples), and the per-input time limit."""

import json

import pytest

from helpers import write_jsonl
from lintseq.evaluate import checks


def _judge(got, exp, oracle, atol=0.0):
    return checks.judge_io(got, {"outputs": exp, "alternative": None}, {"atol": atol, "oracle": oracle})


def test_set_compared_outputs_keep_the_float_tolerance():
    """evalplus: set equality first, then (atol 1e-6 forced for floats) an ordered allclose."""
    exp = [[1.0, 2.5], [0.1, 0.2]]
    assert _judge([[1.0 + 1e-9, 2.5], [0.1, 0.2 - 1e-9]], exp, "set") is None  # off by 1e-9: passes there, so here
    assert _judge([[2.5, 1.0], [0.2, 0.1]], exp, "set") is None  # order-free when exactly equal
    assert _judge([[2.5, 1.0 + 1e-9], [0.1, 0.2]], exp, "set") is not None  # tolerance is ordered, as there
    assert _judge([[1.0 + 1e-3, 2.5], [0.1, 0.2]], exp, "set") is not None  # beyond the tolerance
    assert _judge([(1.0 + 1e-9, 2.5), [0.1, 0.2]], exp, "set") is not None  # a tuple for a list: type differs
    assert _judge([[[1], 2.5]], [[1.0, 2.5]], "set") is not None  # unhashable: fails, never crashes
    assert _judge([[1, 2]], [[1, 3]], "set") is not None  # ints get no tolerance
