from collections import Counter

from lintseq.diffs import apply_edits
from lintseq.oracle import get_linter
from lintseq.backward_sampling import candidate_lines, children, indentation, lintseq_sample, randseq_sample, rng_for

FAST = get_linter("fast")


def states_text(program, seq):
    lines = program.split("\n")
    return ["\n".join(lines[i] for i in st) for st in seq.states]


def test_candidates_skip_blank_comment_and_caps_global_continuations():
    lines = ["# c", "", "CONSTS = [", "    1,", "    2,", "]", "x = 1", "    # indented comment", "y = (", "  2)"]
    assert candidate_lines(lines) == [2, 6, 8, 9]


def test_indentation_inherits_for_short_lines_and_children():
    lines = ["def f():", "    x = [", "        1,", "    ]", "", "    return x", "y = 1"]
    indents, tab = indentation(lines)
    assert indents == [0, 4, 8, 8, 8, 4, 0] and tab == 4  # lone "]" and blanks inherit
    assert children(0, indents) == [1, 2, 3, 4, 5]
    assert children(1, indents) == [2, 3, 4]


def test_depth_weighted_sampling():
    # weights: def 1, if 1, "return 1" 2 (depth 2), "return 2" 1. Picking "if" or "return 1"
    # both delete {1, 2}: P = 3/5 against 1/5 for {3} (uniform sampling would give 2/4 vs 1/4)
    prog = "def f():\n    if True:\n        return 1\n    return 2"
    first = Counter()
    for k in range(1500):
        seq = lintseq_sample(prog, FAST, rng_for(1, 0, k), max_edits=1)
        first[tuple(seq.backward_edits[0])] += 1
    assert first[(1, 2)] > 2.4 * first[(3,)] > 0


def test_roundtrip_and_clean_states_on_humaneval(humaneval):
    for i, prog in enumerate(humaneval[:40]):
        prog = prog.rstrip("\n")
        seq = lintseq_sample(prog, FAST, rng_for(0, i, 0))
        assert apply_edits(seq.edits).text == prog
        for text in states_text(prog, seq)[1:-1]:
            assert FAST.error_lines(text) == []


def test_errors_in_the_original_count():
    prog = "import os\nprint(undefined_name)\nprint(os.sep)"
    seq = lintseq_sample(prog, FAST, rng_for(0, 0, 0))
    assert apply_edits(seq.edits).text == prog
    # the erroneous line is deleted in the first backward edit, so it arrives in the last forward edit
    assert 1 in seq.backward_edits[0]
    assert "print(undefined_name)" in seq.edits[-1]


def test_dependents_deleted_together():
    prog = "def helper(x):\n    return x * 2\n\nprint(helper(3))"
    for k in range(20):
        seq = lintseq_sample(prog, FAST, rng_for(0, 1, k))
        for text in states_text(prog, seq)[1:-1]:
            assert not ("print(helper" in text and "def helper" not in text)


def test_deterministic_per_seed_source_sample():
    prog = "import math\n\ndef f(x):\n    y = math.sqrt(x)\n    z = y + 1\n    return z"
    a = lintseq_sample(prog, FAST, rng_for(3, 7, 2)).edits
    assert a == lintseq_sample(prog, FAST, rng_for(3, 7, 2)).edits
    assert len({tuple(lintseq_sample(prog, FAST, rng_for(s, 7, 2)).edits) for s in range(10)}) > 1


def test_edit_cap_puts_the_rest_in_the_first_edit():
    prog = "\n".join(f"x{i} = {i}" for i in range(20))
    seq = lintseq_sample(prog, FAST, rng_for(0, 0, 0), max_edits=5)
    assert seq.capped and len(seq.edits) == 6
    assert apply_edits(seq.edits).text == prog


def test_comment_only_has_no_sequence():
    assert lintseq_sample("# a\n\n# b", FAST, rng_for(0, 0, 0)) is None


def test_randseq_roundtrip_no_linter():
    prog = "a = 1\n# note\n\nb = a + 1\nprint(b)"
    for k in range(10):
        seq = randseq_sample(prog, rng_for(0, 0, k))
        assert apply_edits(seq.edits).text == prog
        assert seq.lint_calls == 0


def test_blank_only_leftover_joins_the_first_real_edit():
    prog = "\nimport os\n\n\ndef f():\n    return os.sep"
    for k in range(10):
        seq = lintseq_sample(prog, FAST, rng_for(0, 0, k))
        assert apply_edits(seq.edits).text == prog
        first = apply_edits(seq.edits[:1]).lines
        assert any(line.strip() for line in first)  # never an edit of blank lines alone


def test_a_program_with_carriage_returns_is_refused_with_the_fix():
    """Python ends a line at a lone CR and the sampler splits at LF: the linter's line numbers
    would point at other lines (the fast oracle raised IndexError). generate normalizes first."""
    import random

    import pytest

    from lintseq.backward_sampling import lintseq_sample
    from lintseq.data.sources import normalize_program
    from lintseq.oracle import get_linter

    program = "def f(x):\r    y = x\r    return y\r"
    with pytest.raises(ValueError, match="normalize_program"):
        lintseq_sample(program, get_linter("fast"), random.Random(0))
    seq = lintseq_sample(normalize_program(program), get_linter("fast"), random.Random(0))
    assert seq is not None and seq.edits
