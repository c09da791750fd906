"""What the in-sandbox runner checks a program's behaviour with, beyond asserts: MBPP+'s
input/output comparison (EvalPlus's rules), CodeContests' stdin/stdout judge and DS-1000's own
harness. Loaded by ``runner.py`` from its own folder; imports nothing from lintseq.
"""

import copy
import os
import re
import sys
import time


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value


# how MBPP+ tasks get back the argument types JSON lost (data/mbppplus.py names them per task)
_RESTORE = {
    "each_arg_tuple": lambda args: [tuple(a) for a in args],
    "each_arg_list_of_tuples": lambda args: [[tuple(x) for x in a] for a in args],
    "first_arg_list_of_tuples": lambda args: [[tuple(x) for x in args[0]], *args[1:]],
    "second_arg_tuple": lambda args: [args[0], tuple(args[1]), *args[2:]],
    "first_arg_sets": lambda args: [[set(x) if isinstance(x, list) and x else {} for x in args[0]], *args[1:]],
    "float_and_complex": lambda args: [float(args[0]), complex(args[1]), *args[2:]],
    "first_arg_tuple": lambda args: [tuple(args[0]), *args[1:]],
    "each_arg_tuple_of_tuples": lambda args: [tuple(tuple(x) for x in a) for a in args],
    "first_arg_tuple_inner_tuples": lambda args: [tuple(tuple(x) if isinstance(x, list) else x for x in args[0]), *args[1:]],
    "first_arg_dict_values_tuple": lambda args: [{k: tuple(v) for k, v in args[0].items()}, *args[1:]],
    "first_arg_complex": lambda args: [complex(args[0]), *args[1:]],
    "all_lists_tuple": lambda args: list(_tuples(args)),
}


class Matched(tuple):
    """What a stored expected ``re.Match`` becomes (a Match cannot be pickled): (span, group 0)."""


def _stored(out, oracle):
    if oracle == "not_none":
        return out is not None
    if isinstance(out, re.Match):
        return Matched((out.span(), out.group(0)))
    return out


def restored_inputs(test):
    """An io task's inputs with the types JSON lost put back (``restore`` names the conversion)."""
    restore = _RESTORE[test["restore"]] if test.get("restore") else list
    return [restore(args) for args in test["inputs"]]


def _outputs(source, entry_point, inputs, oracle):
    ns = {"__name__": "__reference__"}
    exec(compile(source, "reference.py", "exec"), ns)
    return [_stored(ns[entry_point](*copy.deepcopy(a)), oracle) for a in inputs]


def expected_outputs(test):
    """The reference's (and any alternative reference's) outputs on the task's inputs, and the
    seconds they took: computed once per task, before any untrusted code, and cached by the host."""
    start, inputs = time.perf_counter(), restored_inputs(test)
    outputs = _outputs(test["reference"], test["entry_point"], inputs, test.get("oracle"))
    seconds = time.perf_counter() - start
    alternative = _outputs(test["alternative"], test["entry_point"], inputs, None) if test.get("alternative") else None
    return {"outputs": outputs, "alternative": alternative, "seconds": seconds}


def _is_floats(x):
    return isinstance(x, float) or (isinstance(x, (list, tuple)) and bool(x) and all(isinstance(v, float) for v in x))


def _allclose(out, exp, atol, rtol=1e-07):
    """numpy.allclose on numbers and (nested) sequences of numbers, without numpy."""
    if isinstance(exp, (list, tuple)):
        return isinstance(out, (list, tuple)) and len(out) == len(exp) and all(
            _allclose(o, e, atol, rtol) for o, e in zip(out, exp))
    try:
        return abs(out - exp) <= atol + rtol * abs(exp)
    except TypeError:
        return False


def _equal(out, exp, atol, oracle):
    """Does ``out`` match the stored ``exp``? EvalPlus's rules: the task's oracle, else equality,
    else for floats the same type and length and allclose within ``atol``."""
    if oracle == "set":
        try:
            return set(out) == set(exp)
        except TypeError:
            return False
    if oracle == "not_none":  # exp is whether the reference matched
        return out == exp if isinstance(out, bool) else exp == (out is not None)
    if oracle == "runs":
        return True
    if isinstance(exp, Matched):  # a match is the same match: same span, same text
        return isinstance(out, re.Match) and (out.span(), out.group(0)) == tuple(exp)
    try:
        exact = bool(out == exp)
    except Exception:
        exact = False
    if oracle == "or_zero":
        exact = exact or out == 0
    if exact or not atol:
        return exact
    return type(out) is type(exp) and _allclose(out, exp, atol)


def check_io(fn, test, stored, inputs=None):
    """Call ``fn`` on each input (``inputs``: already restored, this process's own copy) and
    compare with the stored outputs; raises AssertionError at the first mismatch."""
    atol, oracle = test["atol"], test.get("oracle")
    alternative = stored["alternative"] or [None] * len(stored["outputs"])
    for i, (args, exp, alt) in enumerate(zip(inputs or restored_inputs(test), stored["outputs"], alternative)):
        out = fn(*args)
        if atol == 0 and _is_floats(exp):
            atol = 1e-6  # as EvalPlus: floats always get a tolerance, kept for the inputs after
        if not (_equal(out, exp, atol, oracle) or (alt is not None and _equal(out, alt, atol, None))):
            raise AssertionError(f"input {i}: got {out!r:.200}, expected {exp!r:.200}")


def _tokens_match(out, exp):
    """CodeContests' checker: whitespace-separated tokens, case-insensitive, numbers within 1e-5."""
    a, b = out.lower().split(), exp.lower().split()
    if a == b:
        return True
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x != y:
            try:
                if abs(float(x) - float(y)) < 1e-5:
                    continue
            except ValueError:
                pass
            return False
    return True


def _run_stdin(stdin_text, cpu_limit, wall_limit, memory_limit=0):
    """Run ``program.py`` (this folder) in a fresh interpreter, as the official tester runs
    ``python3 code.pyc``, with ``stdin_text`` on stdin; returns (stdout text, None) or (None,
    why it failed). Time is CPU time (machine load does not fail a program), with a wall-clock
    limit for programs that wait instead of computing."""
    import resource
    import subprocess

    def limit_cpu():
        seconds = int(cpu_limit) + 1  # the kernel's limit is whole seconds; the exact one is checked below
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds))
        if memory_limit:  # the problem's memory plus 32 MiB, as the official tester sets its address space
            memory = memory_limit + (32 << 20)
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open("stdout.txt", "wb") as out:  # a file: a flood of output is bounded by the size limit
        try:
            proc = subprocess.run([sys.executable, "program.py"], input=stdin_text.encode(), stdout=out,
                                  stderr=subprocess.DEVNULL, timeout=wall_limit, preexec_fn=limit_cpu)
        except subprocess.TimeoutExpired:
            return None, f"time limit exceeded (still running after {wall_limit:g} s of wall-clock time)"
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if cpu > cpu_limit:
        return None, f"time limit exceeded ({cpu:.2f} s of CPU, limit {cpu_limit:g} s)"
    if proc.returncode:
        return None, f"runtime error (exit status {proc.returncode})"
    with open("stdout.txt", encoding="utf-8", errors="replace") as fh:
        return fh.read(), None


def check_stdio(source, test):
    """CodeContests: every test in turn, stopping at the first failure."""
    with open("program.py", "w", encoding="utf-8") as fh:
        fh.write(source)
    for i, (stdin_text, expected) in enumerate(test["tests"]):
        out, why = _run_stdin(stdin_text, test["time_limit"], test["wall_limit"], test.get("memory_limit", 0))
        if why:
            raise AssertionError(f"test {i}: {why}")
        if not _tokens_match(out, expected):
            raise AssertionError(f"test {i}: wrong answer: got {out[:200]!r}, expected {expected[:200]!r}")


def check_ds1000(solution, test):
    """DS-1000's own harness: its code_context runs the solution through test_execution (and
    test_string where the problem has one), as the official test_ds1000.py assembles it."""
    os.environ.update(MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1")
    context = test["code_context"]
    program = (context + "\n" + f"code = {solution!r}\n" + "test_execution(code)\n"
               + ("test_string(code)\n" if "test_string(" in context else "\n"))
    exec(compile(program, "test.py", "exec"), {})
