"""DS-1000 (Lai et al., 2023): 1,000 StackOverflow data-science problems over seven libraries,
each judged by its own ``code_context`` (the official harness: ``test_execution(code)`` runs the
solution on the problem's test inputs, and ``test_string(code)`` checks its tokens where present).

Rows are the current release's (``data/ds1000.jsonl.gz`` in xlang-ai/DS-1000, hub
``xlangai/DS-1000`` split ``test``): ``prompt``, ``reference_code``, ``code_context`` and
``metadata`` {problem_id, library_problem_id, library, test_case_cnt, perturbation_type,
perturbation_origin_id}. Locally: ``ds1000/ds1000.jsonl.gz`` (or ``.jsonl``) under ``--data-dir``.

A solution is the code that goes where the prompt says ``BEGIN SOLUTION``. Completions are
cleaned as the official ``postprocess`` does; a whole program (what an instruction-tuned or
LintSeq model writes) loses the leading lines it repeats from the prompt's setup code, which
the harness already runs with its own test inputs.

    >>> setup = "import numpy as np\\na = np.array([[1, 2], [3, 0]])"
    >>> solution_of("import numpy as np\\na = np.array([[1,2],[3,0]])\\n\\nresult = a.argmin()\\n", setup)
    'result = a.argmin()\\n'
    >>> solution_of("result = a.argmin()\\n</code>\\nEND SOLUTION", setup)
    'result = a.argmin()\\n'
"""

from __future__ import annotations

LIBRARY_MODULES = {"Numpy": "numpy", "Pandas": "pandas", "Scipy": "scipy", "Matplotlib": "matplotlib",
                   "Sklearn": "sklearn", "Tensorflow": "tensorflow", "Pytorch": "torch"}
TIME_LIMIT = 120.0
"""Seconds per problem, as the official test_ds1000.py allows (imports of TensorFlow are slow)."""
_MARKERS = ("BEGIN SOLUTION", "### BEGIN SOLUTION", "# SOLUTION START", "<code>")


def setup_code(prompt: str) -> str:
    """The code the prompt gives before the solution: its last ``<code>`` block (function-style
    prompts leave it open), or the whole prompt for code-only prompts (Matplotlib)."""
    head, sep, block = prompt.rstrip().rpartition("A:\n<code>\n")
    code = block.split("</code>")[0] if sep else prompt
    return "\n".join(ln for ln in code.split("\n") if ln.strip() not in _MARKERS).strip("\n")


def question(prompt: str) -> str:
    """The problem's text: what precedes ``A:`` after ``Problem:`` ("" for code-only prompts)."""
    head, sep, _ = prompt.rpartition("A:\n<code>\n")
    return head.removeprefix("Problem:\n").strip() if sep else ""


def output_line(prompt: str) -> str:
    """What the prompt asks the solution to define, e.g. ``result = ... # put solution in this variable``."""
    _, sep, block = prompt.rpartition("A:\n<code>\n")
    tail = block.split("</code>", 1)[1] if sep and "</code>" in block else ""
    return "\n".join(ln for ln in tail.split("\n") if ln.strip() and ln.strip() not in _MARKERS)


def instruction(prompt: str) -> str:
    """The instruction form, in the wording of the paper's other benchmarks."""
    text, setup, wanted = question(prompt), setup_code(prompt), output_line(prompt)
    parts = ["Write a Python program to solve the following problem:" + (f"\n{text}" if text else "")]
    parts.append(f"Start from this code:\n```python\n{setup}\n```")
    if wanted:
        parts.append(wanted)
    return "\n".join(parts)


def postprocess(code: str) -> str:
    """The official clean-up of a completion: cut at ``</code>``, a closing fence or
    ``END SOLUTION``; drop ``<code>`` and an opening fence."""
    code = code.split("</code>")[0].replace("```python", "").split("```")[0]
    return code.split("\nEND SOLUTION")[0].replace("<code>", "")


def _squash(line: str) -> str:
    return "".join(line.split())


def solution_of(program: str, setup: str) -> str:
    """The solution in a completion or whole program: postprocessed, less the leading lines
    (blank ones included) that repeat the setup code."""
    code = postprocess(program)
    known = {_squash(ln) for ln in setup.split("\n")}
    lines = code.split("\n")
    start = 0
    while start < len(lines) and (not lines[start].strip() or _squash(lines[start]) in known):
        start += 1
    return "\n".join(lines[start:])


def task_fields(row: dict) -> dict:
    """Task fields of one release row (``data.benchmarks.Task`` keywords)."""
    meta = row["metadata"]
    library = meta["library"]
    return {"task_id": f"DS-1000/{meta['problem_id']}", "instruction": instruction(row["prompt"]), "code_prompt": "",
            "test": {"kind": "ds1000", "code_context": row["code_context"], "setup": setup_code(row["prompt"])},
            "reference": row["reference_code"], "group": library, "time_limit": TIME_LIMIT,
            "own_prompt": row["prompt"]}
