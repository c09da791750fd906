import difflib

from hypothesis import given, settings
from hypothesis import strategies as st

from lintseq.diffs import apply_edits, is_insertion_only, parse_edit, render_edit, render_sequence

# Lines that look like diff syntax, blanks, tabs and trailing whitespace included.
tricky_line = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=12),
    st.sampled_from(["", "+", "-", "++x", "--y", "@@", "@@ -1,0 +2 @@", "\t", "x = 1   ", "\tif x:", " ", "+@@"]),
)


@st.composite
def program_and_states(draw):
    lines = draw(st.lists(tricky_line, min_size=1, max_size=30))
    order = draw(st.permutations(range(len(lines))))
    cuts = sorted(draw(st.sets(st.integers(1, len(lines)), max_size=6)) | {len(lines)})
    states = [set()] + [set(order[:c]) for c in cuts]
    return lines, states


@settings(max_examples=300, deadline=None)
@given(program_and_states())
def test_render_apply_roundtrip(case):
    lines, states = case
    edits = render_sequence(lines, states)
    assert all(is_insertion_only(e) for e in edits)
    distinct = [states[0]] + [b for a, b in zip(states, states[1:]) if a != b]
    assert len(edits) == len(distinct) - 1
    # every intermediate state is rebuilt exactly, not only the last one
    for k in range(1, len(edits) + 1):
        applied = apply_edits(edits[:k])
        assert applied.malformed == 0
        assert applied.lines == [lines[i] for i in sorted(distinct[k])]
    assert "\n".join(apply_edits(edits).lines) == "\n".join(lines)


@settings(max_examples=200, deadline=None)
@given(program_and_states())
def test_parse_render_roundtrip(case):
    lines, states = case
    for prev, nxt in zip(states, states[1:]):
        edit = render_edit(lines, prev, nxt)
        if not edit:
            continue
        hunks = parse_edit(edit).hunks
        assert "\n".join(h.render() for h in hunks) == edit
        assert sum(len(h.lines) for h in hunks) == len(nxt - prev)


def test_matches_difflib_header_format():
    old = ["a", "c"]
    new = ["a", "b", "c", "d", "e"]
    ours = render_edit(new, [0, 2], range(5))
    theirs = "\n".join(list(difflib.unified_diff(old, new, n=0, lineterm=""))[2:])
    assert ours == theirs == "@@ -1,0 +2 @@\n+b\n@@ -2,0 +4,2 @@\n+d\n+e"


def test_authors_example():
    # DESIGN/paper digest example: '' -> def f, then import math at top, then a body line
    lines = ["import math", "def f(x):", "    y = math.sqrt(x)", "    return x"]
    edits = render_sequence(lines, [set(), {1, 3}, {0, 1, 3}, {0, 1, 2, 3}])
    assert edits == ["@@ -0,0 +1,2 @@\n+def f(x):\n+    return x", "@@ -0,0 +1 @@\n+import math",
                     "@@ -2,0 +3 @@\n+    y = math.sqrt(x)"]


def test_malformed_hunks_are_skipped_and_counted():
    edits = [
        "@@ -0,0 +1,2 @@\n+a\n+b",
        "garbage before\n@@ -2,0 +3 @@\n+c",   # leading garbage: 1 malformed, the hunk applies
        "@@ -0,0 +1,2 @@\n+only one line",      # wrong body length
        "@@ -0,0 +1 @@\n-removal",              # not an insertion
        "@@ nonsense @@\n+x",                   # bad header
        "@@ -9,0 +99 @@\n+appended",            # past the end: appended
    ]
    res = apply_edits(edits)
    assert res.lines == ["a", "b", "c", "appended"]
    assert res.malformed == 4
    assert not is_insertion_only(edits[2]) and is_insertion_only(edits[0])


def test_plus_prefix_removed_exactly_once():
    assert apply_edits(["@@ -0,0 +1,2 @@\n++x\n+-y"]).lines == ["+x", "-y"]
