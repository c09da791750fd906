"""The oracles on real-world code (issue 10): classes and functions of installed packages that
`corpus build` does not mine, sampled here and every intermediate state checked with pylint
under the paper's criteria. The full measurement is benchmarks/fidelity.py on the set that
benchmarks/realworld_build.py writes; these are its fast, always-run versions."""

import os
import sys

import pytest

from lintseq.oracle import get_linter
from lintseq.oracle.pylint_oracle import environment_dependent
from lintseq.backward_sampling import lintseq_sample, rng_for

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
from realworld_build import mine  # noqa: E402


@pytest.fixture(scope="module")
def pylint():
    return get_linter("pylint")


def _programs(module: str, kinds=("class", "function"), limit=6, max_lines=60):
    import importlib.util

    path = importlib.util.find_spec(module).origin
    rows = [r for r in mine(module, path, module_lines=0) if r["kind"] in kinds
            and r["response"].count("\n") < max_lines]
    return [r["response"] for r in rows[:limit]]


def _unclean_states(program, linter, pylint, samples=2):
    bad = []
    for k in range(samples):
        seq = lintseq_sample(program, linter, rng_for(0, 0, k))
        lines = program.split("\n")
        for kept in seq.states[1:-1]:
            state = "\n".join(lines[i] for i in kept)
            msgs = [m for m in pylint.messages(state) if not environment_dependent(m.code, m.text)]
            if msgs:
                bad.append((state, msgs))
    return bad


def test_real_classes_exist_for_the_test():
    progs = _programs("click.types", kinds=("class",))
    assert len(progs) >= 4 and all("class " in p for p in progs)


@pytest.mark.parametrize("module,asks_pylint", [("click.types", True), ("tqdm.utils", True), ("jinja2.utils", True)])
def test_hybrid_states_are_pylint_clean_on_real_classes(module, asks_pylint, pylint):
    hybrid = get_linter("hybrid")
    progs = _programs(module)
    assert progs
    for prog in progs:
        assert _unclean_states(prog, hybrid, pylint) == []
    assert (hybrid.pylint_calls > 0) == asks_pylint  # classes and third-party imports: pylint was asked


def test_fast_states_are_pylint_clean_on_self_contained_classes(pylint):
    """Structural rules only: a self-contained class whose deletions break self, dunder returns,
    signatures and call arities; the fast oracle alone keeps every state clean."""
    prog = '''class Stack:
    """A stack."""

    def __init__(
        self,
        items=None,
        *,
        limit,
    ):
        self.items = list(items or [])
        self.limit = limit

    def __len__(self):
        return len(self.items)

    def __repr__(self):
        return "Stack(%r)" % (self.items,)

    def push(
        self,
        item,
    ):
        if len(self) >= self.limit:
            raise OverflowError(item)
        self.items.append(item)
        return self

    @classmethod
    def of(cls, *items):
        return cls(items, limit=len(items))


def build(n):
    s = Stack(limit=n)
    for i in range(n):
        s.push(i)
    return Stack.of(1, 2).push(3), s'''
    assert _unclean_states(prog, get_linter("fast"), pylint, samples=8) == []


def test_hybrid_is_the_fast_oracle_on_humaneval(humaneval):
    """No class, no third-party import: pylint is never asked and the sequences are the fast ones."""
    hybrid, fast = get_linter("hybrid"), get_linter("fast")
    for i, prog in enumerate(humaneval[:40]):
        prog = prog.rstrip("\n")
        assert lintseq_sample(prog, hybrid, rng_for(0, i, 0)).edits == lintseq_sample(prog, fast, rng_for(0, i, 0)).edits
    assert hybrid.pylint_calls == 0 and hybrid._pylint is None
