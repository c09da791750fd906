"""DS-1000 (Lai et al., 2023): 1,000 StackOverflow data-science problems over seven libraries,
each judged by its own ``code_context`` (the official harness: ``test_execution(code)`` runs the
solution on the problem's test inputs, and ``test_string(code)`` checks its tokens where present).

Rows are the current release's (``data/ds1000.jsonl.gz`` in xlang-ai/DS-1000, hub
``xlangai/DS-1000`` split ``test``): ``prompt``, ``reference_code``, ``code_context`` and
``metadata`` {problem_id, library_problem_id, library, test_case_cnt, perturbation_type,
perturbation_origin_id}. Locally: ``ds1000/ds1000.jsonl.gz`` (or ``.jsonl``) under ``--data-dir``.

A solution is the code that goes where the prompt says ``BEGIN SOLUTION``. Completions are
cleaned as the official ``postprocess`` does and otherwise left alone; a whole program (what an
instruction-tuned or LintSeq model writes) also loses the leading lines that repeat the prompt's
setup code in order, which the harness already runs with its own test inputs.

    >>> setup = "import numpy as np\\na = np.array([[1, 2], [3, 0]])"
    >>> solution_of("import numpy as np\\na = np.array([[1,2],[3,0]])\\n\\nresult = a.argmin()\\n", setup)
    'result = a.argmin()\\n'
    >>> solution_of("result = a.argmin()\\n</code>\\nEND SOLUTION", setup, whole=False)
    'result = a.argmin()\\n'
"""

from __future__ import annotations

import os
import re

from .base import Benchmark, Task, first_local, from_hub, imported_modules

LIBRARY_MODULES = {"Numpy": "numpy", "Pandas": "pandas", "Scipy": "scipy", "Matplotlib": "matplotlib",
                   "Sklearn": "sklearn", "Tensorflow": "tensorflow", "Pytorch": "torch"}
TIME_LIMIT = 120.0
"""Seconds of wall-clock time per problem, as the official test_ds1000.py gives ``check_correctness``
(``timeout=120``): the whole assembled program (its imports, every test case, ``test_string``)."""
SEABORN_DATASETS = ("tips", "penguins", "planets", "exercise")
"""The seaborn datasets the release's Matplotlib problems load (``seaborn.load_dataset``)."""
_MARKERS = ("BEGIN SOLUTION", "### BEGIN SOLUTION", "# SOLUTION START", "<code>")


def _parts(prompt: str) -> tuple[str, str, str, str]:
    """(question, note, setup code, output line) of a prompt. Prompts read ``Problem:\n<question>
    \nA:\n[<note>\n]<code>\n<setup>\n</code>\n<output line>\nBEGIN SOLUTION\n<code>`` (function-style
    ones leave the code block open; a note such as "use random_state=42" may precede it); code-only
    prompts (Matplotlib) are all setup."""
    head, sep, rest = prompt.rpartition("\nA:\n")
    note, code_sep, block = rest.partition("<code>")
    if not (sep and code_sep):
        return "", "", _code_lines(prompt), ""
    setup, closed, tail = block.partition("</code>")
    return head.removeprefix("Problem:\n").strip(), note.strip(), _code_lines(setup), _code_lines(tail) if closed else ""


def _code_lines(text: str) -> str:
    return "\n".join(ln for ln in text.split("\n") if ln.strip() not in _MARKERS).strip("\n")


def setup_code(prompt: str) -> str:
    """The code the prompt gives before the solution: its last ``<code>`` block, or the whole
    prompt for code-only prompts (Matplotlib)."""
    return _parts(prompt)[2]


def question(prompt: str) -> str:
    """The problem's text, with any note between ``A:`` and the code ("" for code-only prompts)."""
    text, note, _, _ = _parts(prompt)
    return f"{text}\n{note}" if note else text


def output_line(prompt: str) -> str:
    """What the prompt asks the solution to define, e.g. ``result = ... # put solution in this variable``."""
    return _parts(prompt)[3]


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


def _is_import(line: str) -> bool:
    return line.startswith(("import ", "from ")) and " import " in f" {line} "


def solution_of(program: str, setup: str, whole: bool = True) -> str:
    """The solution in a model's answer: cleaned as the official ``postprocess`` does and, for a
    ``whole`` program (not a completion) that repeats the setup code to its last line, less those
    leading lines (in order; blank and comment lines skipped; imports the setup lacks kept, since
    they are harmless). An answer that repeats only part of the setup keeps every line: a
    problem may ask to copy the code above (its setup ends by clearing the figure)."""
    code = postprocess(program)
    if not whole:
        return code
    wanted = [_squash(ln) for ln in setup.split("\n") if ln.strip() and not ln.strip().startswith("#")]
    lines, kept, at, start = code.split("\n"), [], 0, 0
    while start < len(lines):
        line = _squash(lines[start])
        if line and line in wanted[at:]:
            at = wanted.index(line, at) + 1
        elif line and _is_import(lines[start]):
            kept.append(lines[start])
        elif line and not lines[start].strip().startswith("#"):
            break
        start += 1
    if at < len(wanted):  # the setup not repeated to its end: what matched is the answer's own code
        first = next((i for i, ln in enumerate(lines) if ln.strip()), len(lines))  # ("copy the previous
        return "\n".join(lines[first:])  # plot" tasks: their setup ends in plt.clf()); leading blanks go
    return "\n".join(kept + lines[start:])


_SEABORN_LOAD = re.compile(r"""\bload_dataset\(\s*(?:name\s*=\s*)?['"]([\w.-]+)['"]""")
_FETCH = re.compile(r"\b(fetch_\w+)\b")


def downloads(code_context: str) -> dict:
    """What a problem's harness would fetch from the network, found statically in its code
    (the problem's setup runs inside it): ``seaborn`` (the datasets ``seaborn.load_dataset``
    loads, which a local copy can stand in for) and ``fetch`` (``sklearn.datasets.fetch_*``
    calls, which nothing here stands in for). Empty lists when it fetches nothing.

        >>> downloads("import seaborn as sns\\ntips = sns.load_dataset('tips')")
        {'seaborn': ['tips'], 'fetch': []}
        >>> downloads("from sklearn.datasets import fetch_california_housing\\nd = fetch_california_housing()")
        {'seaborn': [], 'fetch': ['fetch_california_housing']}
        >>> downloads("from datasets import load_dataset\\nx = 1")  # no seaborn: not seaborn's loader
        {'seaborn': [], 'fetch': []}
    """
    seaborn = sorted(set(_SEABORN_LOAD.findall(code_context))) if "seaborn" in code_context else []
    fetch = sorted(set(_FETCH.findall(code_context))) if "sklearn" in code_context else []
    return {"seaborn": seaborn, "fetch": fetch}


def network_reason(test: dict, seaborn_data: str | None) -> str:
    """Why a DS-1000 problem cannot run offline ("needs network: ..."), or "" when it can: an
    ``sklearn.datasets.fetch_*`` call always; a seaborn dataset unless ``seaborn_data`` (the
    folder given as ``--seaborn-data``) holds its CSV.

        >>> network_reason({"seaborn": ["tips"], "fetch": []}, None)
        "needs network: seaborn.load_dataset('tips') downloads it (give --seaborn-data DIR with tips.csv)"
        >>> network_reason({"seaborn": [], "fetch": []}, None)
        ''
    """
    if test.get("fetch"):
        return f"needs network: sklearn.datasets.{test['fetch'][0]}() downloads its data (no local copy is used)"
    names = test.get("seaborn") or []
    missing = [n for n in names if not (seaborn_data and os.path.isfile(os.path.join(seaborn_data, n + ".csv")))]
    if not missing:
        return ""
    where = f"{seaborn_data} has no {missing[0]}.csv" if seaborn_data else f"give --seaborn-data DIR with {missing[0]}.csv"
    return f"needs network: seaborn.load_dataset({missing[0]!r}) downloads it ({where})"


def task_fields(row: dict) -> dict:
    """Task fields of one release row (``tasks.Task`` keywords)."""
    meta = row["metadata"]
    library = meta["library"]
    return {"task_id": f"DS-1000/{meta['problem_id']}", "instruction": instruction(row["prompt"]), "code_prompt": "",
            "test": {"kind": "ds1000", "code_context": row["code_context"], "setup": setup_code(row["prompt"]),
                     **downloads(row["code_context"])},
            "reference": row["reference_code"], "group": library, "time_limit": TIME_LIMIT,
            "own_prompt": row["prompt"]}


def load(folder: str | None, **options) -> dict:
    """DS-1000's problems from ``ds1000/ds1000.jsonl(.gz)`` (or the hub's ``xlangai/DS-1000``); each
    requires its library and every module its ``code_context`` imports."""
    rows = (first_local(folder, "ds1000", ("ds1000.jsonl.gz", "ds1000.jsonl")) if folder
            else [dict(r) for r in from_hub("ds1000", "xlangai/DS-1000", split="test")])
    tasks = {}
    for r in rows:
        fields = task_fields(r)
        library = fields["group"]
        # the harness's own imports, and those inside its exec_context string (seaborn, PIL, ...)
        needs = ({LIBRARY_MODULES.get(library, library.lower())} | imported_modules(r["code_context"])
                 | {a or b for a, b in re.findall(r"^\s*(?:import\s+([A-Za-z_]\w*)|from\s+([A-Za-z_]\w*)[\w.]*\s+import\b)",
                                                  r["code_context"], re.M)})
        tasks[fields["task_id"]] = Task(**fields, requires=sorted(needs))
    return tasks


BENCHMARKS = (Benchmark("ds1000", load, order=5, folder="ds1000", decontaminate="if_local"),)
