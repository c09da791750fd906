"""The hybrid oracle's fast path on real code (issue 18): the delta gate (which deletions can
change what pylint infers), the counted-messages pylint configuration, and their fidelity
against real pylint under the paper's criteria."""

import os
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lintseq.oracle.delta import deleted, statement_spans, touched
from lintseq.oracle.hybrid import HybridLinter
from lintseq.oracle.pylint_oracle import AUTHOR_FLAGS, COUNTED_FLAGS, PylintLinter, environment_dependent
from lintseq.backward_sampling import lintseq_sample, rng_for

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
from realworld_build import mine  # noqa: E402


@given(st.lists(st.sampled_from(["a = 1", "b = a", "", "    pass", "def f():", "a = 1"]), max_size=12),
       st.data())
def test_deleted_recovers_a_deletion(base, data):
    keep = data.draw(st.lists(st.booleans(), min_size=len(base), max_size=len(base)))
    state = [line for line, k in zip(base, keep) if k]
    gone = deleted(base, state)
    assert gone is not None
    assert [line for i, line in enumerate(base) if i not in set(gone)] == state
    assert len(gone) == len(base) - len(state)


@given(st.lists(st.sampled_from(["x = 1", "y = 2", "z = 3"]), min_size=1, max_size=8))
def test_deleted_refuses_what_is_no_deletion(base):
    assert deleted(base, [*base, "w = 4"]) is None
    assert deleted(base, ["new line"]) is None


def _after(base: str, *drop: int) -> tuple[list[str], list[str]]:
    lines = base.split("\n")
    return lines, [line for i, line in enumerate(lines) if i + 1 not in drop]


CALLS = '''import yaml


def load(path, loader):
    """Read a file.

    With a loader.
    """
    print(path)
    data = yaml.load(
        open(path),
        Loader=loader,
    )
    return data


def main():
    return load("x", None)'''


@pytest.mark.parametrize("drop,expected", [
    ((9,), False),           # a mere use of names (print(path)): nothing else can change
    ((6,), False),           # a docstring line
    ((12,), True),           # a keyword line of a call: pylint judges the call
    ((14,), True),           # the return of a function that main() calls
    ((17, 18), False),       # main and its body: nothing remaining refers to main
])
def test_touched(drop, expected):
    base, state = _after(CALLS, *drop)
    assert touched(base, state) is expected


def test_touched_class_wide_and_attributes():
    src = '''from json import JSONDecoder


class D(JSONDecoder):
    def __init__(self):
        super().__init__()
        self.depth = 0

    def up(self):
        return self.depth + 1

    def unused(self):
        self.other = 1'''
    base, state = _after(src, 6)
    assert touched(base, state) is True            # super().__init__(): W0231 is pylint's to say
    base, state = _after(src, 7)
    assert touched(base, state) is True            # self.depth is still read
    base, state = _after(src, 13)
    assert touched(base, state) is False           # self.other is read nowhere
    assert touched(base, base[:3] + ["x = 1"]) is None  # not a deletion of base


KINDS = '''from __future__ import annotations
from dataclasses import dataclass, field


@dataclass
class Request:
    headers: dict = field(default_factory=dict)

    @property
    def size(self) -> int:
        return 1

    @property
    def url(self) -> str:
        """The URL.

        Read only.
        """
        return ""'''


@pytest.mark.parametrize("drop,why", [
    ((5,), "a decorator (@dataclass makes field() legal)"),
    ((10, 11), "a def whose decorator remains (it now decorates the next one: E1101 on 'url')"),
    ((1,), "from __future__: annotations evaluated, TYPE_CHECKING names used before assignment"),
    ((15,), "an opening triple quote whose string stays: the remaining quotes pair anew"),
    ((18,), "a closing triple quote likewise"),
])
def test_touched_by_what_changes_a_definitions_kind_or_the_files_reading(drop, why):
    """Each was an unclean state the delta gate let through on the real-world set (E3701,
    E1101, E0601, E1101): the deleted lines bind no name, yet pylint's reading changes."""
    base, state = _after(KINDS, *drop)
    assert touched(base, state) is True, why


def test_a_whole_docstring_or_its_inside_lines_change_nothing():
    assert touched(*_after(KINDS, 17)) is False            # a line inside the docstring
    assert touched(*_after(KINDS, 15, 16, 17, 18)) is False  # the whole docstring


def test_statement_spans_cover_multiline_statements_only():
    spans = statement_spans(CALLS.split("\n"))
    assert 8 not in spans                          # print(path): one line
    assert spans[10] == ({"data", "load", "open"}, False, False)  # the call's binding and callables
    assert spans[5][0] == set() and spans[5][2]    # the docstring names nothing: text only


def _real_programs(module, limit=4, max_lines=50):
    import importlib.util

    path = importlib.util.find_spec(module).origin
    rows = [r for r in mine(module, path, module_lines=0) if r["response"].count("\n") < max_lines]
    return [r["response"] for r in rows[:limit]]


@pytest.fixture(scope="module")
def author_pylint():
    return PylintLinter(AUTHOR_FLAGS)


def test_counted_flags_report_what_author_flags_do(author_pylint):
    """The hybrid's pylint (other warnings off, so their checkers do not run) reports exactly
    the counted messages of the authors' configuration, state by state, on real classes."""
    counted = PylintLinter(COUNTED_FLAGS)
    fast = HybridLinter(delta=False)
    n = 0
    for prog in _real_programs("click.types") + _real_programs("jinja2.utils"):
        seq = lintseq_sample(prog, fast, rng_for(0, 0, 0))
        lines = prog.split("\n")
        for kept in seq.states:
            state = "\n".join(lines[i] for i in kept)
            key = lambda ms: sorted((m.line, m.code, m.text) for m in ms)  # noqa: E731
            assert key(counted.messages(state)) == key(author_pylint.messages(state))
            n += 1
    assert n > 20


@settings(deadline=None, max_examples=6)
@given(st.integers(0, 10_000))
def test_hybrid_with_delta_keeps_real_states_pylint_clean(author_pylint, seed):
    """Property: whatever the sampled path, every intermediate state the hybrid oracle (with the
    delta gate) accepts on a real class is clean under the paper's pylint criteria."""
    hybrid = HybridLinter(delta=True)
    for prog in _real_programs("click.types", limit=3):
        seq = lintseq_sample(prog, hybrid, rng_for(seed, 0, 0))
        lines = prog.split("\n")
        for kept in seq.states[1:-1]:
            msgs = [m for m in author_pylint.messages("\n".join(lines[i] for i in kept))
                    if not environment_dependent(m.code, m.text)]
            assert msgs == []


def test_delta_gate_spares_pylint_calls():
    with_delta, without = HybridLinter(), HybridLinter(delta=False)
    for prog in _real_programs("click.types", limit=4, max_lines=80):
        for linter in (with_delta, without):
            for k in range(2):
                lintseq_sample(prog, linter, rng_for(1, 0, k))
    assert with_delta.delta_skips + with_delta.inert_skips > 0
    assert with_delta.pylint_calls < without.pylint_calls


IMPORT_CASES = [
    "import os\nimport no_such_module_xyz",
    "from . import sibling\nx = 1",
    "from . import a, b",
    "from ..pkg import thing",
    "try:\n    import no_such_module_xyz\nexcept ImportError:\n    no_such_module_xyz = None",
    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import no_such_module_xyz",
    "import yaml\nfrom click import types\nimport os.path",
    "from no_such_pkg_xyz.sub import thing",
    "import json.no_such_submodule_xyz",
    "def f():\n    import no_such_module_xyz\n    return no_such_module_xyz",
]


@pytest.mark.parametrize("src", IMPORT_CASES)
def test_import_checks_agree_with_pylint(src, author_pylint):
    """E0401/E0402 (and E0611 for ``from . import x``) as pylint reports them, without building
    any module."""
    import ast

    from lintseq.oracle.imports import import_messages

    ours = import_messages(ast.parse(src))
    theirs = [m for m in author_pylint.messages(src) if m.code in ("E0401", "E0402", "E0611")]
    assert {m.line for m in ours} == {m.line for m in theirs}  # the lines the sampler deletes
    strict = ("E0401", "E0402")  # pylint adds E0611 beside E0401 for a missing submodule
    assert sorted((m.line, m.code) for m in ours if m.code in strict) == \
        sorted((m.line, m.code) for m in theirs if m.code in strict)


def test_verify_reaches_the_samplers_verdicts_through_the_delta_gate():
    """The delta gate's verdict is a function of (base, state): the sampler judges a candidate
    against the state it came from, `verify` judges each state against its successor, and the
    two agree on every state, though the gate spared pylint on some of them."""
    from lintseq.data.sources import Row
    from lintseq.generate import records
    from lintseq.generate.verify import verify_records

    sampler = HybridLinter()
    records._LINTERS["hybrid"] = sampler
    try:
        spec = records.JobSpec(samples=2, linter="hybrid")
        programs = _real_programs("click.types", limit=6, max_lines=80) + _real_programs("jinja2.utils", limit=6)
        recs = [rec for i, prog in enumerate(programs)
                for rec in records.process_row(Row(i, "doc", prog), spec).records]
    finally:
        records._LINTERS.pop("hybrid", None)
    assert sampler.delta_skips > 0 and sampler.inert_skips > 0
    report = verify_records(recs)
    assert report["states"] > 20 and report["ok"], report["violations"]


def test_the_gate_ignores_a_base_the_state_is_no_deletion_of():
    hybrid = HybridLinter()
    base = "import yaml\nclass A:\n    def f(self):\n        return yaml.dump(1)"
    other = "import yaml\nclass A:\n    def f(self):\n        return yaml.dump(2)"
    hybrid.messages(other, base=base)
    assert (hybrid.pylint_calls, hybrid.delta_skips) == (1, 0)
    hybrid.messages(other, base=None)
    assert hybrid.pylint_calls == 2
    base = "import yaml\nclass A:\n    def f(self):\n        print(1)\n        return yaml.dump(1)"
    state = base.replace("\n        print(1)", "")
    on, off = HybridLinter(), HybridLinter(delta=False)
    assert on.messages(state, base=base) == off.messages(state, base=base) == []
    assert (on.pylint_calls, on.inert_skips, off.pylint_calls, off.inert_skips) == (0, 1, 1, 0)


def test_the_hybrids_pylint_skips_what_modules_set_on_others_and_the_exact_one_rebuilds(tmp_path, monkeypatch):
    """The hybrid's pylint builds imported modules without the attribute assignments they make
    on names they import (what made one tqdm program build all of pandas); the exact oracle,
    used after it in the same process, must not inherit those modules."""
    from lintseq.oracle.pylint_oracle import PylintLinter

    (tmp_path / "lintseq_target_mod.py").write_text("class Box:\n    pass\n")
    (tmp_path / "lintseq_patcher_mod.py").write_text(
        "from lintseq_target_mod import Box\n\n\ndef install():\n    Box.extra = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    state = ("import lintseq_patcher_mod\nfrom lintseq_target_mod import Box\n"
             "lintseq_patcher_mod.install()\nprint(Box().extra)\n")
    partial = PylintLinter(COUNTED_FLAGS, own_attributes_only=True)
    assert [m.code for m in partial.messages(state)] == ["E1101"]  # Box.extra was not recorded
    exact = PylintLinter(AUTHOR_FLAGS)
    assert exact.messages(state) == []                               # rebuilt in full: recorded
    assert partial.messages(state) == []                             # and kept for the hybrid


def _candidates(prog: str, seed: int):
    """(base, candidate) pairs as the sampler asks them on ``prog``: each deletion of a line
    with its children from the states of one sampled path."""
    from lintseq.backward_sampling import children, indentation

    lines = prog.split("\n")
    indents, _ = indentation(lines)
    seq = lintseq_sample(prog, HybridLinter(), rng_for(seed, 0, 0))
    for kept in seq.states[1:]:
        base = [lines[i] for i in kept]
        for pos, i in enumerate(kept):
            if lines[i].strip():
                gone = {i, *children(i, indents)}
                yield base, [lines[k] for k in kept if k not in gone]


def test_inert_deletions_of_a_clean_state_leave_every_check_silent(author_pylint):
    """The hybrid's shortcut: a candidate that is its clean base minus statements nothing left
    mentions gets no check at all. On every such candidate of real classes, the fast oracle,
    the import checks and pylint (the paper's flags) agree that it is clean; and the shortcut
    does fire on many of them, and does not on some that pylint or the fast oracle flags."""
    import ast

    from lintseq.oracle.delta import inert
    from lintseq.oracle.fast import FastLinter
    from lintseq.oracle.imports import import_messages

    fast, fired, refused = FastLinter(), 0, 0
    programs = [p for m in ("click.types", "jinja2.utils", "json.decoder", "textwrap")
                for p in _real_programs(m, limit=8, max_lines=60)]
    for prog in programs:
        for base, state in _candidates(prog, seed=3):
            text = "\n".join(state)
            base_text = "\n".join(base)
            if fast.messages(base_text) or import_messages(fast.last_tree) or [
                    m for m in author_pylint.messages(base_text) if not environment_dependent(m.code, m.text)]:
                continue  # only a clean base counts (as the hybrid judges it)
            try:
                ast.parse(text)
            except SyntaxError:
                continue
            found = fast.messages(text) or import_messages(fast.last_tree) or [
                m for m in author_pylint.messages(text) if not environment_dependent(m.code, m.text)]
            if inert(base, state, statement_spans(base)):
                fired += 1
                assert found == [], (text, found)
            elif found:
                refused += 1
    assert fired > 20 and refused > 0


def test_the_hybrids_pylint_builds_no_module_for_an_unused_import(tmp_path, monkeypatch):
    """pylint's unused-import check builds the module of every unused ``from x import y``; it
    reports only warnings the counted flags turn off, so the hybrid's pylint skips it and
    builds nothing, while the exact oracle still reports (and builds) as pylint does."""
    from astroid import MANAGER

    (tmp_path / "lintseq_unused_mod.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    state = "from lintseq_unused_mod import VALUE\n\n\nclass A:\n    pass\n"
    MANAGER.astroid_cache.pop("lintseq_unused_mod", None)
    hybrids = HybridLinter()._pylint_linter()  # counted flags, import checks left to imports.py
    assert hybrids.messages(state) == []
    assert "lintseq_unused_mod" not in MANAGER.astroid_cache
    exact = PylintLinter(AUTHOR_FLAGS)
    assert [c for c, *_ in exact.raw_messages(state)] == ["W"]  # W0611 unused-import: uncounted
    assert exact.messages(state) == []
    assert "lintseq_unused_mod" in MANAGER.astroid_cache
    MANAGER.astroid_cache.pop("lintseq_unused_mod", None)


@pytest.mark.parametrize("char,code", [("\u202e", "E2502"), ("\x1b", "E2513"), ("\u200b", "E2515"), ("\b", "E2510")])
def test_the_unicode_checker_runs_where_its_characters_are(char, code, author_pylint):
    """pylint's unicode checker reads each state again; it runs only on states holding what it
    reports on, and reports there as before (and nothing is lost on the others)."""
    state = f'class A:\n    NAME = "a{char}b"\n'
    assert code in [m.code for m in author_pylint.messages(state)]
    full = PylintLinter(AUTHOR_FLAGS)
    full._plain_checker = full._checker  # every state through every checker
    for prog in [state, *_real_programs("click.types", limit=3)]:
        assert author_pylint.raw_messages(prog) == full.raw_messages(prog)
