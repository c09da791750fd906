"""How programs are checked beyond asserts: MBPP+'s input/output comparison (EvalPlus's rules),
CodeContests' stdin/stdout judge and DS-1000's own harness, and the plain-data codec between them.

Where the answer is data (MBPP+ outputs, CodeContests stdout) the program's side only *produces*
it: the sandbox sends it back as plain JSON (``encode``), and the trusted side decodes it into
builtins (``decode``: no unpickling, no program objects) and compares it (``judge_io``,
``judge_stdio``) with expected outputs that never enter the sandbox. Loaded by ``runner.py``
inside the sandbox and imported by the host; imports nothing from lintseq.
"""

import copy
import json
import numbers
import os
import re
import sys

MAX_DEPTH = 64
"""Deepest nesting a returned value may have (deeper: an error, never a crash)."""


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value


# how MBPP+ tasks get back the argument types JSON lost (tasks/mbppplus.py names them per task)
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
    """What a returned ``re.Match`` becomes: (span, group 0)."""


class Opaque(tuple):
    """A value of any other type: (type name, repr), equal only to the same pair."""


def _stored(out, oracle):
    return out is not None if oracle == "not_none" else out


def encode(value, depth=0):
    """``value`` as plain JSON data, tagged where JSON would lose the type. Runs on the program's
    side: whatever it returns is only data (an ``__eq__`` of its own never reaches the judge)."""
    if depth > MAX_DEPTH:
        raise ValueError("the value is nested too deeply to send back")
    if value is None or isinstance(value, bool):
        return bool(value) if value is not None else None
    if isinstance(value, int):
        return int(value) if int(value).bit_length() < 12000 else {"i": format(int(value), "x")}
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    d = depth + 1
    if isinstance(value, list):
        return [encode(v, d) for v in value]
    if isinstance(value, tuple):
        return {"t": [encode(v, d) for v in value]}
    if isinstance(value, (set, frozenset)):
        return {"s" if isinstance(value, set) else "f": [encode(v, d) for v in value]}
    if isinstance(value, dict):
        return {"d": [[encode(k, d), encode(v, d)] for k, v in value.items()]}
    if isinstance(value, complex):
        return {"c": [float(value.real), float(value.imag)]}
    if isinstance(value, (bytes, bytearray)):
        return {"b": bytes(value).hex()}
    if isinstance(value, re.Match):
        return {"m": [list(value.span()), value.group(0)]}
    # numbers of other types compare with ==, as evalplus compares them (np.int64(40) == 40):
    # numpy's scalars as the Python value they hold, other integers as int, other reals as float
    if type(value).__module__ == "numpy" and getattr(value, "shape", None) == () and hasattr(value, "item"):
        return encode(value.item(), depth)
    if isinstance(value, numbers.Integral):
        return encode(int(value), depth)
    if isinstance(value, numbers.Real):
        try:
            return float(value)
        except (OverflowError, ValueError):
            pass
    return {"r": [type(value).__qualname__[:200], repr(value)[:1000]]}


BIG = 50_000
"""Values with more parts than this go back as a digest, not as data (``dumps``)."""


class Digest(str):
    """What a value too big to send back becomes: the sha256 of its parts' reprs (``_digest``)."""


def _too_big(value):
    """More than BIG scalars (long strings counting by length)? A bounded walk: equal values,
    whatever their history, give the same answer, so a reference and a candidate agree."""
    stack, n = [value], 0
    while stack and n <= BIG:
        v = stack.pop()
        n += 1
        if isinstance(v, (list, tuple, set, frozenset)):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, (str, bytes)):
            n += len(v) // 64
    return n > BIG


def _digest(value):
    """sha256 over the kind of container and each element's repr (sorted for sets): C-speed and
    without building the whole text (one MBPP+ output is 1.6 million 77-tuples)."""
    import hashlib

    h = hashlib.sha256()
    kind = next((k for k, t in (("tuple", tuple), ("list", list), ("set", (set, frozenset)), ("dict", dict))
                 if isinstance(value, t)), "")
    h.update(kind.encode() + b":")
    parts = (repr(v) for v in (value.items() if kind == "dict" else value)) if kind else iter([repr(value)])
    for part in sorted(parts) if kind == "set" else parts:
        h.update(part.encode("utf-8", "surrogatepass") + b"\x00")
    return h.hexdigest()


def dumps(value):
    """One output as a line's JSON text: its plain data, or ``{"h": digest}`` past BIG parts
    (compared exactly: past that size no float tolerance, and nested sets must come in the
    same order)."""
    if _too_big(value):
        return json.dumps({"h": _digest(value)})
    return json.dumps(encode(value))


_SEQ = {"t": tuple, "s": set, "f": frozenset}


def decode(obj, depth=0):
    """Plain data back into builtins (the trusted side); ValueError for anything else."""
    if depth > MAX_DEPTH + 2:
        raise ValueError("nested too deeply")
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    d = depth + 1
    if isinstance(obj, list):
        return [decode(v, d) for v in obj]
    if not (isinstance(obj, dict) and len(obj) == 1):
        raise ValueError("not plain data")
    (tag, v), = obj.items()
    try:
        if tag in _SEQ and isinstance(v, list):
            return _SEQ[tag](decode(x, d) for x in v)
        if tag == "d" and isinstance(v, list):
            return {decode(k, d): decode(x, d) for k, x in v}
        if tag == "c":
            return complex(float(v[0]), float(v[1]))
        if tag == "i" and isinstance(v, str) and len(v) < 4000:
            return int(v, 16)
        if tag == "b" and isinstance(v, str):
            return bytes.fromhex(v)
        if tag == "m":
            return Matched(((int(v[0][0]), int(v[0][1])), str(v[1])))
        if tag == "r":
            return Opaque((str(v[0]), str(v[1])))
        if tag == "h" and isinstance(v, str) and len(v) == 64:
            return Digest(v)
    except (TypeError, ValueError, IndexError, KeyError, OverflowError) as exc:
        raise ValueError(f"malformed {tag!r} value: {exc}") from None
    raise ValueError(f"unknown tag {tag!r}")


def loads(text):
    return decode(json.loads(text))


def restored_inputs(test):
    """An io task's inputs with the types JSON lost put back (``restore`` names the conversion)."""
    restore = _RESTORE[test["restore"]] if test.get("restore") else list
    return [restore(args) for args in test["inputs"]]


def timed_outputs(fn, inputs, oracle=None):
    """The reference on each input: (output, seconds of the call alone, copying the input not counted)."""
    import time

    for args in inputs:
        args = copy.deepcopy(args)
        start = time.perf_counter()
        out = fn(*args)
        yield _stored(out, oracle), time.perf_counter() - start


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
    if isinstance(exp, Digest) or isinstance(out, Digest):  # too big to send: the same digest or not equal
        return type(out) is type(exp) and str(out) == str(exp)
    if oracle == "set":
        try:
            if set(out) == set(exp):
                return True
        except TypeError:  # unhashable parts: EvalPlus's set() raises, and the input fails
            return False
        # not equal as sets: EvalPlus still tries its float tolerance, in order (below), as for any task
        return bool(atol) and type(out) is type(exp) and _allclose(out, exp, atol)
    if oracle == "not_none":  # exp is whether the reference matched
        return out == exp if isinstance(out, bool) else exp == (out is not None)
    if oracle == "runs":
        return True
    if isinstance(exp, (Matched, Opaque)) or isinstance(out, (Matched, Opaque)):  # a match: same span, same text
        return type(out) is type(exp) and tuple(out) == tuple(exp)
    try:
        exact = bool(out == exp)
    except Exception:
        exact = False
    if oracle == "or_zero":
        exact = exact or out == 0
    if exact or not atol:
        return exact
    return type(out) is type(exp) and _allclose(out, exp, atol)


def judge_io(got, stored, test):
    """The trusted side's MBPP+ verdict: ``got`` (the program's decoded outputs, in input order)
    against the reference's; None when all match, else why not."""
    atol, oracle = test["atol"], test.get("oracle")
    alternative = stored["alternative"] or [None] * len(stored["outputs"])
    for i, (exp, alt) in enumerate(zip(stored["outputs"], alternative)):
        if i >= len(got):
            return f"input {i}: no output"
        out = got[i]
        if atol == 0 and _is_floats(exp):
            atol = 1e-6  # as EvalPlus: floats always get a tolerance, kept for the inputs after
        if not (_equal(out, exp, atol, oracle) or (alt is not None and _equal(out, alt, atol, None))):
            return f"input {i}: got {out!r:.200}, expected {exp!r:.200}"
    return None


def _tokens_match(out, exp):
    """CodeContests' checker: whitespace-separated tokens, case-insensitive, numbers within 1e-5."""
    a, b = out.lower().split(), exp.lower().split()
    if a == b:
        return True
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x != y:
            if _NUMBER.fullmatch(x) and _NUMBER.fullmatch(y) and abs(float(x) - float(y)) < 1e-5:
                continue
            return False
    return True


# what the official checker's number parser reads as a number (float() also takes "1_0" and
# " 1"; there they are text, compared as such)
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?|[+-]?(inf|infinity|nan)")


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


def run_stdio(source, test, emit):
    """CodeContests, the program's side: run it on every test's input in turn and ``emit`` each
    stdout (or why it failed); the trusted side compares (``judge_stdio``)."""
    with open("program.py", "w", encoding="utf-8") as fh:
        fh.write(source)
    for i, stdin_text in enumerate(test["inputs"]):
        out, why = _run_stdin(stdin_text, test["time_limit"], test["wall_limit"], test.get("memory_limit", 0))
        if why:
            raise AssertionError(f"test {i}: {why}")
        emit(out)


def judge_stdio(got, expected):
    """None when every stdout in ``got`` matches its expected output, else why not."""
    for i, exp in enumerate(expected):
        if i >= len(got):
            return f"test {i}: no output"
        if not isinstance(got[i], str) or not _tokens_match(got[i], exp):
            return f"test {i}: wrong answer: got {str(got[i])[:200]!r}, expected {exp[:200]!r}"
    return None


def check_ds1000(solution, test):
    """DS-1000's own harness: its code_context runs the solution through test_execution (and
    test_string where the problem has one), as the official test_ds1000.py assembles it;
    ``SEABORN_DATA`` set when the evaluation was given ``--seaborn-data``."""
    os.environ.update(MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1")
    if test.get("seaborn_data"):  # --seaborn-data, bound read-only: seaborn.load_dataset reads its CSVs there
        os.environ["SEABORN_DATA"] = test["seaborn_data"]
    context = test["code_context"]
    program = (context + "\n" + f"code = {solution!r}\n" + "test_execution(code)\n"
               + ("test_string(code)\n" if "test_string(" in context else "\n"))
    exec(compile(program, "test.py", "exec"), {})
