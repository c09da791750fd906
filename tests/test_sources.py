"""Input handling loses no real program (issue 10, item 5): text that parses as Python is the
program as given, even when a docstring shows a markdown fence; only text that does not parse
has its fences extracted, and every record says which was done."""

import ast
import importlib.util
import json
import os
import textwrap

from lintseq.generate.records import JobSpec, process_row
from lintseq.data.sources import Row, program_of

DOCSTRING_FENCE = '''def parse(text):
    """Parse a config.

    ```python
        parse("a = 1")
    ```
    """
    return dict(line.split(" = ") for line in text.splitlines())'''


def test_docstring_with_python_fence_is_the_program():
    program, how = program_of(DOCSTRING_FENCE)
    assert (program, how) == (DOCSTRING_FENCE, "as_is")


def test_prose_around_a_fence_is_extracted():
    text = "Here it is:\n```python\n" + DOCSTRING_FENCE + "\n```\nEnjoy."
    assert program_of(text) == (DOCSTRING_FENCE, "fence")


def test_unparsable_text_without_usable_fence_stays_as_given():
    assert program_of("def f(:\n    pass") == ("def f(:\n    pass", "as_is")
    assert program_of("```js\nlet x = 1\n```") == ("```js\nlet x = 1\n```", "as_is")


def test_records_say_how_the_program_was_found():
    kept = process_row(Row(0, "Parse.", DOCSTRING_FENCE), JobSpec(samples=1))
    fenced = process_row(Row(1, "Parse.", "Sure:\n```py\n" + DOCSTRING_FENCE + "\n```"), JobSpec(samples=1))
    assert kept.reject is None and kept.records[0]["extracted"] == "as_is"
    assert fenced.reject is None and fenced.records[0]["extracted"] == "fence"
    assert kept.records[0]["program"] == fenced.records[0]["program"] == DOCSTRING_FENCE


def _installed_functions_with_fenced_docstrings():
    """Top-level functions of installed packages whose docstring holds a ``` fence."""
    found = []
    for pkg in ("astroid", "pylint", "markdown_it", "hypothesis", "typer"):
        spec = importlib.util.find_spec(pkg)
        if spec is None:
            continue
        for root in spec.submodule_search_locations:
            for dirpath, _, files in os.walk(root):
                for f in sorted(files):
                    if not f.endswith(".py"):
                        continue
                    text = open(os.path.join(dirpath, f), encoding="utf-8").read()
                    if "```" not in text:
                        continue
                    lines = text.split("\n")
                    for node in ast.parse(text).body:
                        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and "```" in (ast.get_docstring(node) or "") \
                                and node.end_lineno - node.lineno < 200:  # keep the test fast
                            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                            found.append(textwrap.dedent("\n".join(lines[start - 1: node.end_lineno])))
    return found


def test_real_functions_with_fenced_docstrings_are_not_rejected():
    programs = _installed_functions_with_fenced_docstrings()
    assert len(programs) >= 3
    for i, code in enumerate(programs):
        res = process_row(Row(i, "x", code), JobSpec(samples=1))
        assert res.reject is None, (res.reject, code[:200])
        assert res.records[0]["program"] == code.rstrip("\n") and res.records[0]["extracted"] == "as_is"
        json.dumps(res.records[0])


def test_a_byte_order_mark_does_not_reject_the_first_row(tmp_path):
    """Editors on Windows start a UTF-8 file with a byte-order mark; the first row is data."""
    from lintseq.data.sources import iter_rows

    path = tmp_path / "bom.jsonl"
    rows = [{"instruction": "Add.", "response": "def add(a, b):\n    return a + b"}] * 2
    path.write_bytes(b"\xef\xbb\xbf" + "".join(json.dumps(r) + "\n" for r in rows).encode())
    got = list(iter_rows(str(path)))
    assert [r.reject for r in got] == [None, None] and got[0].instruction == "Add."
