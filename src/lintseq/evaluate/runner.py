"""The in-sandbox harness: run one program, then its tests, and report on a private channel.

Started as ``python -I runner.py`` inside the sandbox with the job (JSON) on stdin and a pipe
on fd 3. It reads the job and a per-run nonce before any untrusted code runs, closes stdin,
executes the program, restores the builtins the program may have patched, runs the tests with
references taken before the program ran, and only then writes ``{"nonce", "status", ...}`` to
its channel. Printing anything, exiting early (``sys.exit``/``os._exit``), or killing itself
leaves no valid report, which the parent counts as not passed. stdout/stderr go to /dev/null.

This file imports nothing from lintseq so that it runs on a bare interpreter.
"""

import base64
import builtins
import copy
import json
import os
import pickle
import re
import sys
import time
import traceback
import types
import unittest

_write, _dumps, _exc_info = os.write, json.dumps, sys.exc_info
_format_exc = traceback.format_exception
_MAX_DETAIL = 2000
_MAX_PAYLOAD = 32 << 20


def _report(fd, nonce, status, detail="", payload=None):
    msg = {"nonce": nonce, "status": status, "detail": str(detail)[:_MAX_DETAIL]}
    if payload is not None:
        msg["payload"] = payload
    data = _dumps(msg).encode()
    while data:  # a payload can exceed the pipe's buffer: the parent reads as we write
        data = data[_write(fd, data):]


def _restorer():
    """A closure that puts back the builtins and this module's globals as they are now: the
    program may patch either (``builtins.len = ...``, ``__main__._report = ...``)."""
    g, saved_g, b, saved_b = globals(), dict(globals()), builtins.__dict__, dict(builtins.__dict__)

    def restore():
        g.clear()
        g.update(saved_g)
        b.clear()
        b.update(saved_b)

    return restore


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


def _inputs(test):
    restore = _RESTORE[test["restore"]] if test.get("restore") else list
    return [restore(args) for args in test["inputs"]]


def _outputs(source, entry_point, inputs, oracle):
    ns = {"__name__": "__reference__"}
    exec(compile(source, "reference.py", "exec"), ns)
    return [_stored(ns[entry_point](*copy.deepcopy(a)), oracle) for a in inputs]


def expected_outputs(test):
    """The reference's (and any alternative reference's) outputs on the task's inputs, and the
    seconds they took: computed once per task, before any untrusted code, and cached by the host."""
    start, inputs = time.perf_counter(), _inputs(test)
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


def _check_io(fn, test, stored):
    atol, oracle = test["atol"], test.get("oracle")
    alternative = stored["alternative"] or [None] * len(stored["outputs"])
    for i, (args, exp, alt) in enumerate(zip(_inputs(test), stored["outputs"], alternative)):
        out = fn(*args)
        if atol == 0 and _is_floats(exp):
            atol = 1e-6  # as EvalPlus: floats always get a tolerance, kept for the inputs after
        if not (_equal(out, exp, atol, oracle) or (alt is not None and _equal(out, alt, atol, None))):
            raise AssertionError(f"input {i}: got {out!r:.200}, expected {exp!r:.200}")


def _run_tests(ns, test, expected):
    kind = test["kind"]
    if kind == "check":
        exec(compile(test["test"], "test.py", "exec"), ns)
        ns["check"](ns[test["entry_point"]])
    elif kind == "asserts":
        exec(compile(test["setup"] + "\n" + "\n".join(test["asserts"]), "test.py", "exec"), ns)
    elif kind == "io":
        _check_io(ns[test["entry_point"]], test, expected)
    elif kind == "unittest":
        exec(compile(test["test"], "test.py", "exec"), ns)
        suite = unittest.TestSuite()
        loader = unittest.TestLoader()
        for obj in list(ns.values()):
            if isinstance(obj, type) and issubclass(obj, unittest.TestCase) and obj is not unittest.TestCase:
                suite.addTests(loader.loadTestsFromTestCase(obj))
        result = unittest.TestResult()
        suite.run(result)
        if result.testsRun == 0 or not result.wasSuccessful():
            bad = (result.failures + result.errors)[:1]
            raise AssertionError(f"{len(result.failures)} failures, {len(result.errors)} errors of "
                                 f"{result.testsRun}: {bad[0][1][-400:] if bad else ''}")
    else:
        raise ValueError(f"unknown test kind {kind!r}")


def execute(job, fd):
    """Run one job (program + test payload) in this process and report on ``fd``."""
    nonce, test = job["nonce"], job["test"]
    expected = None
    if test["kind"] == "io":  # expected outputs: the host's cached copy, else the reference now
        try:
            if job.get("expected"):
                expected = pickle.loads(base64.b64decode(job["expected"]))
            else:
                expected = expected_outputs(test)
            if job.get("mode") == "expected":  # only computing them, for the host's cache
                try:
                    blob = pickle.dumps(expected)
                except Exception:  # an output that cannot be pickled: each run computes its own
                    blob = b""
                # outputs too large to ship to every run (Mbpp/255's combinations) are computed per run too
                payload = base64.b64encode(blob).decode() if len(blob) <= _MAX_PAYLOAD else ""
                _report(fd, nonce, "passed", str(expected["seconds"]), payload)
                return
        except BaseException:
            _report(fd, nonce, "error", "reference solution failed: " + "".join(_format_exc(*_exc_info())[-2:]))
            return
    # local references only from here on: the program cannot rebind a running frame's locals
    restore, report, run_tests, exc_info, fmt = _restorer(), _report, _run_tests, _exc_info, _format_exc
    module = types.ModuleType("__program__")  # a real module, so its functions can be pickled
    sys.modules["__program__"] = module
    ns = module.__dict__
    try:
        exec(compile(job["program"], "program.py", "exec"), ns)
    except BaseException:  # SystemExit included: exiting is not passing
        restore()
        report(fd, nonce, "error", "".join(fmt(*exc_info())[-3:]))
        return
    restore()
    try:
        run_tests(ns, test, expected)
    except BaseException:
        restore()
        report(fd, nonce, "failed", "".join(fmt(*exc_info())[-3:]))
        return
    restore()
    report(fd, nonce, "passed")


def _set_limits(limits):
    import resource

    for name, value in limits.items():
        res = getattr(resource, name)
        resource.setrlimit(res, (value, value))


def _wipe(path, keep=()):
    """Empty a directory the program could write to (it may have chmod-ed things), leaving
    alone ``keep`` paths (read-only binds such as an interpreter under the home directory)."""
    import shutil
    import stat

    def force(func, p, _exc):
        try:
            os.chmod(os.path.dirname(p) or p, stat.S_IRWXU)
            os.chmod(p, stat.S_IRWXU)
            func(p)
        except OSError:
            pass

    try:
        entries = os.listdir(path)
    except OSError:
        return
    for name in entries:
        full = os.path.join(path, name)
        if any(k == full or k.startswith(full + "/") for k in keep):
            if full not in keep:
                _wipe(full, keep)
            continue
        if os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full, onerror=force)
        else:
            try:
                os.unlink(full)
            except OSError:
                pass


def _run_forked(job, wipe, workdir, keep=(), max_procs=0):
    """Fork a child for one program; afterwards kill every other process in this PID
    namespace (the program's daemons included) and wipe every writable directory."""
    import select
    import signal

    os.makedirs(workdir, exist_ok=True)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the program's process
        try:
            os.setsid()
            os.close(r)
            null = os.open("/dev/null", os.O_RDWR)
            for target in (0, 1, 2):
                os.dup2(null, target)
            os.closerange(3, w)
            os.closerange(w + 1, 4096)
            _set_limits(job.pop("rlimits", {}))
            os.chdir(workdir)
            execute(job, w)
        finally:
            os._exit(0)
    os.close(w)
    timed_out, killed, chunks = False, "", []
    pidfd = os.pidfd_open(pid)
    deadline = time.monotonic() + job.get("timeout", 10.0)
    while True:  # wait for the program, reading its channel and counting this namespace's processes
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        ready = select.select([pidfd, r], [], [], min(left, 0.01))[0]
        if r in ready:
            chunk = os.read(r, 1 << 20)
            if chunk:
                chunks.append(chunk)
        if pidfd in ready:
            break
        if max_procs and _count_processes() >= max_procs:
            killed = f"killed: the program reached the sandbox's process cap ({max_procs} processes)"
            break
    os.close(pidfd)
    if not _OWN_PID_NAMESPACE:  # kill(-1) outside a private PID namespace would hit the host
        raise RuntimeError("refusing kill(-1): not inside a private PID namespace")
    if timed_out or killed:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    for _ in range(8):  # kill(-1): everything left in this namespace but us and its init
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            break
        time.sleep(0.002)
    os.set_blocking(r, False)
    try:
        while chunk := os.read(r, 1 << 20):
            chunks.append(chunk)
    except BlockingIOError:
        pass
    os.close(r)
    report = b"".join(chunks).decode("utf-8", "replace")
    for path in wipe:
        _wipe(path, keep)
    return {"report": report, "timed_out": timed_out, "status": status, "killed": killed}


def _count_processes():
    """Processes in this (private) PID namespace: /proc shows only those."""
    return sum(1 for name in os.listdir("/proc") if name.isdigit())


_OWN_PID_NAMESPACE = False


def serve():
    """Zygote mode (inside one bubblewrap sandbox per evaluator worker): one job per stdin
    line, one reply per stdout line; every program runs in a fresh fork of this process.

    argv: ``--serve HOST_PID_NAMESPACE MAX_PROCS DIR... [--keep PATH...]`` (the evaluator's PID
    namespace, which this process must not share, the process cap past which a program is
    killed, the directories to wipe after each program, and read-only paths inside them to
    leave alone)."""
    global _OWN_PID_NAMESPACE
    args = sys.argv[4:]
    host_ns, max_procs = sys.argv[2], int(sys.argv[3])
    wipe, keep = (args[: args.index("--keep")], args[args.index("--keep") + 1:]) if "--keep" in args else (args, [])
    if os.readlink("/proc/self/ns/pid") == host_ns or os.getpid() > 16:
        sys.exit("runner --serve must run as an early process of a private PID namespace")
    _OWN_PID_NAMESPACE = True
    workdir = os.path.join(wipe[0], "work") if wipe else "/tmp/work"
    out = os.fdopen(os.dup(1), "w")
    for line in sys.stdin:
        job = json.loads(line)
        reply = _run_forked(job, wipe, workdir, keep, max_procs)
        out.write(json.dumps(reply) + "\n")
        out.flush()


def main():
    job = json.loads(sys.stdin.read())
    sys.stdin.close()
    os.chdir(job.get("cwd", "."))
    execute(job, int(job.get("fd", 3)))


if __name__ == "__main__":
    serve() if sys.argv[1:2] == ["--serve"] else main()
