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
import importlib.util
import json
import os
import pickle
import sys
import time
import traceback
import types
import unittest


def _load_checks():
    """checks.py from this folder (``-I`` keeps this folder off sys.path, and so must programs),
    registered so that pickles of its classes load."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "checks.py")
    spec = importlib.util.spec_from_file_location("lintseq_checks", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


checks = _load_checks()

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
    program may patch any of them (``builtins.len = ...``, ``__main__._report = ...``, the checks)."""
    saved = [(d, dict(d)) for d in (globals(), builtins.__dict__, checks.__dict__)]
    modules = dict(sys.modules)

    def restore():
        for live, copy_ in saved:
            live.clear()
            live.update(copy_)
        sys.modules["lintseq_checks"] = modules["lintseq_checks"]

    return restore


# test kinds whose harness runs the program itself (not imported into the runner first)
_HARNESS_RUNS_PROGRAM = ("stdio", "ds1000")


def _run_tests(ns, test, expected, inputs=None):
    kind = test["kind"]
    if kind == "stdio":
        return checks.check_stdio(ns["__source__"], test)
    if kind == "ds1000":
        return checks.check_ds1000(ns["__source__"], test)
    if kind == "check":
        exec(compile(test["test"], "test.py", "exec"), ns)
        ns["check"](ns[test["entry_point"]])
    elif kind == "asserts":
        exec(compile(test["setup"] + "\n" + "\n".join(test["asserts"]), "test.py", "exec"), ns)
    elif kind == "io":
        checks.check_io(ns[test["entry_point"]], test, expected, inputs)
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
            if "stored" in job:  # unpickled once by this sandbox's zygote
                expected = job["stored"]
            elif job.get("expected"):
                expected = pickle.loads(base64.b64decode(job["expected"]))
            else:
                expected = checks.expected_outputs(test)
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
        if test["kind"] in _HARNESS_RUNS_PROGRAM:
            ns["__source__"] = job["program"]
            if test["kind"] == "stdio":  # a whole program: one that does not compile is an error, as elsewhere
                compile(job["program"], "program.py", "exec")
        else:
            exec(compile(job["program"], "program.py", "exec"), ns)
    except BaseException:  # SystemExit included: exiting is not passing
        restore()
        report(fd, nonce, "error", "".join(fmt(*exc_info())[-3:]))
        return
    restore()
    try:
        run_tests(ns, test, expected, job.get("inputs"))
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
            _set_dumpable(1)  # its own /proc entries readable again (they expose only itself)
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
    timed_out, killed, chunks, size, reading = False, "", [], 0, True
    # a verdict is small; only the reference's outputs (expected mode) may be large
    cap = _MAX_PAYLOAD * 4 // 3 + (1 << 16) if job.get("mode") == "expected" else 1 << 16
    pidfd = os.pidfd_open(pid)
    deadline = time.monotonic() + job.get("timeout", 10.0)
    while True:  # wait for the program, reading its channel and counting this namespace's processes
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        ready = select.select([pidfd, r] if reading else [pidfd], [], [], min(left, 0.01))[0]
        if r in ready:
            chunk = os.read(r, 1 << 20)
            reading = bool(chunk)  # at end of file, stop watching the channel
            chunks.append(chunk)
            size += len(chunk)
            if size > cap:
                killed = f"killed: the program wrote more than {cap} bytes to the report channel"
                break
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
    # kill(-1): everything left in this namespace but us and its init, again until nothing is
    # left (a fork storm forks while it is being killed), so the next program starts alone
    settle = time.monotonic() + 2.0
    while time.monotonic() < settle:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            break
        time.sleep(0.002)
    os.set_blocking(r, False)
    try:
        while not killed and size <= cap and (chunk := os.read(r, 1 << 20)):
            chunks.append(chunk)
            size += len(chunk)
    except BlockingIOError:
        pass
    os.close(r)
    if size > cap:
        killed, chunks = killed or f"killed: the program wrote more than {cap} bytes to the report channel", []
    report = b"".join(chunks).decode("utf-8", "replace")
    for path in wipe:
        _wipe(path, keep)
    return {"report": report, "timed_out": timed_out, "status": status, "killed": killed}


def _set_dumpable(flag):
    import ctypes

    if ctypes.CDLL(None, use_errno=True).prctl(4, flag, 0, 0, 0) != 0:  # PR_SET_DUMPABLE
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE) failed")


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
    # not dumpable: the programs (same user) can then neither open this process's /proc/PID/mem
    # to rewrite the payloads it keeps, nor its /proc/PID/fd/1 to forge replies to the host
    _set_dumpable(0)
    workdir = os.path.join(wipe[0], "work") if wipe else "/tmp/work"
    out = os.fdopen(os.dup(1), "w")
    tasks = {}  # task key -> its payload, parsed once here: the host sends it with the task's first job only
    for line in sys.stdin:
        job = json.loads(line)
        key = job.get("task_key")
        if key is not None and "test" in job:
            tasks[key] = _prepared(job["test"], job.pop("expected", ""))
        if key is not None and key not in tasks:
            reply = {"resend": True}
        else:
            job.update(tasks[key] if key is not None else {})
            reply = _run_forked(job, wipe, workdir, keep, max_procs)
        out.write(json.dumps(reply) + "\n")
        out.flush()


def _prepared(test, expected):
    """A task's payload as every fork of the zygote inherits it: an io task's expected outputs
    unpickled (trusted: the host's cache of what the reference returned) and its inputs restored.
    Each program runs in its own fork, so what it does to these never reaches the next one."""
    prepared = {"test": test}
    if test["kind"] == "io":
        prepared["inputs"] = checks.restored_inputs(test)
        if expected:
            prepared["stored"] = pickle.loads(base64.b64decode(expected))
    return prepared


def main():
    job = json.loads(sys.stdin.read())
    sys.stdin.close()
    os.chdir(job.get("cwd", "."))
    execute(job, int(job.get("fd", 3)))


if __name__ == "__main__":
    serve() if sys.argv[1:2] == ["--serve"] else main()
