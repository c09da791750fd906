"""The floor benchmark's parts (benchmarks/realworld_floor.py): replaying the hybrid's recorded
verdicts gives the real run's records, and the build clock times astroid's module builds, not
the states, and leaves astroid as it found it."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))

from lintseq.data.sources import Row  # noqa: E402
from lintseq.generate import records  # noqa: E402
from lintseq.oracle.hybrid import HybridLinter  # noqa: E402

BOX = '''import textwrap


class Box:
    """Text in a box."""

    def __init__(self, text):
        self.text = textwrap.dedent(text)
        self.width = len(self.text)

    def show(self):
        return self.text.upper()
'''


def _records(linter, spec):
    saved = records._LINTERS.get("hybrid")
    records._LINTERS["hybrid"] = linter
    try:
        return [records.process_row(Row(0, "A box.", BOX), spec).records]
    finally:
        records._LINTERS.pop("hybrid")
        if saved is not None:
            records._LINTERS["hybrid"] = saved


def test_replayed_verdicts_give_the_real_records_and_builds_are_timed_apart_from_states():
    from astroid import MANAGER
    from astroid.builder import AstroidBuilder
    from realworld_floor import BuildClock, Recorder, Replay

    spec = records.JobSpec(samples=3, linter="hybrid", seed=1)
    hybrid = HybridLinter()
    hybrid._pylint_linter()
    file_build = AstroidBuilder.file_build
    MANAGER.astroid_cache.pop("textwrap", None)  # built again inside the clock
    recorder = Recorder(hybrid)
    with BuildClock(hybrid._pylint._modname) as clock:
        real = _records(recorder, spec)
    assert hybrid.pylint_calls > 0 and clock.builds >= 1 and clock.seconds > 0
    assert "textwrap" in MANAGER.astroid_cache
    assert AstroidBuilder.file_build is file_build  # untouched outside the clock
    # the states themselves are never counted: with every module built, a clock sees nothing
    with BuildClock(hybrid._pylint._modname) as again:
        _records(Recorder(HybridLinter()), spec)
    assert again.builds == 0
    assert _records(Replay(recorder.table), spec) == real
