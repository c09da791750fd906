"""The in-sandbox harness: run one program, then its tests, and report on a private channel.

Started as ``python -I runner.py`` inside the sandbox with the job (JSON) on stdin and a pipe
on fd 3. It reads the job and a per-run nonce before any untrusted code runs, closes stdin,
executes the program, restores the builtins the program may have patched, runs the tests with
references taken before the program ran, and only then writes ``{"nonce", "status", ...}`` to
its channel. Printing anything, exiting early (``sys.exit``/``os._exit``), or killing itself
leaves no valid report, which the parent counts as not passed. stdout/stderr go to /dev/null.

This file imports nothing from lintseq so that it runs on a bare interpreter.
"""

import builtins
import copy
import json
import math
import os
import sys
import traceback
import types
import unittest

_write, _dumps, _exc_info, _isclose, _deepcopy = os.write, json.dumps, sys.exc_info, math.isclose, copy.deepcopy
_format_exc = traceback.format_exception
_MAX_DETAIL = 2000


def _report(fd, nonce, status, detail=""):
    msg = _dumps({"nonce": nonce, "status": status, "detail": str(detail)[:_MAX_DETAIL]}).encode()
    _write(fd, msg)


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


def _is_close(out, exp, atol):
    """EvalPlus-style comparison: exact, or within atol (and rel 1e-6) for floats, recursively."""
    if isinstance(exp, float) or isinstance(out, float):
        try:
            return _isclose(out, exp, rel_tol=1e-6, abs_tol=max(atol, 1e-6)) or out == exp
        except TypeError:
            return False
    if isinstance(exp, (list, tuple)) and isinstance(out, (list, tuple)) and type(out) is type(exp):
        return len(out) == len(exp) and all(_is_close(o, e, atol) for o, e in zip(out, exp))
    return out == exp


def _run_tests(ns, test, expected):
    kind = test["kind"]
    if kind == "check":
        exec(compile(test["test"], "test.py", "exec"), ns)
        ns["check"](ns[test["entry_point"]])
    elif kind == "asserts":
        exec(compile(test["setup"] + "\n" + "\n".join(test["asserts"]), "test.py", "exec"), ns)
    elif kind == "io":
        fn = ns[test["entry_point"]]
        for i, (args, exp) in enumerate(zip(test["inputs"], expected)):
            out = fn(*_deepcopy(args))
            if not _is_close(out, exp, test["atol"]):
                raise AssertionError(f"input {i}: got {out!r:.200}, expected {exp!r:.200}")
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


def main():
    job = json.loads(sys.stdin.read())
    sys.stdin.close()
    nonce, fd, test = job.pop("nonce"), int(job.get("fd", 3)), job["test"]
    os.chdir(job.get("cwd", "."))
    expected = None
    if test["kind"] == "io":  # expected outputs from the reference, before untrusted code runs
        try:
            ref_ns = {"__name__": "__reference__"}
            exec(compile(test["reference"], "reference.py", "exec"), ref_ns)
            expected = [ref_ns[test["entry_point"]](*copy.deepcopy(a)) for a in test["inputs"]]
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


if __name__ == "__main__":
    main()
