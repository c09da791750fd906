"""The in-sandbox side: pid 1 of one fresh sandbox, and the one process it forks per program.

Forked by ``forkserver.py`` as the pid 1 of fresh namespaces, already on an unprivileged host uid
of the sandbox's own with no capabilities and the seccomp filter on (so no process in the
sandbox is root anywhere), ``sandbox_main`` makes itself non-dumpable (the program, same uid,
can neither read nor write its memory, descriptors or environment through /proc; ptrace is
denied by seccomp; as pid 1 it receives no signal it has no handler for) and only then blocks
reading the job: the pool starts sandboxes ahead of need, so their set-up overlaps other
samples' runs, and this file was imported once, by the fork server.

One job per sandbox: fork a child (the program's process, rlimited), read what it reports on
a pipe (capped), kill it at the time limit or at the process cap, write one reply to the host
and exit, which ends every process left in the namespace. What the child reports:

- ``O <json>`` lines: data the trusted side judges (MBPP+ outputs, CodeContests stdout), as
  ``checks.encode`` writes it; the expected outputs never enter the sandbox.
- ``R <nonce> <status> <detail>``: the final line. Only where the test must run in the
  program's process (HumanEval, BigCodeBench, DS-1000) does ``status`` decide the verdict; an
  audit hook (below) keeps the nonce out of the program's reach from Python.

Where the host compiled the native pid 1 (``pid1.c``, ``native.py``), pid 1 is that small C
init instead, which supervises the program exactly as ``_supervise`` does (and reaps orphans);
the program's process here is then started by ``program_main`` and sends the job's limits as
``native_control`` writes them.

This file imports nothing from lintseq so that it runs on a bare interpreter.
"""

import binascii
import builtins
import ctypes
import importlib.util
import json
import marshal
import os
import resource
import select
import signal
import sys
import threading
import time
import traceback
import types


_LIBC = ctypes.CDLL(None, use_errno=True)


def _prctl(option, value):
    if _LIBC.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}) failed")


def _load(name, module_name):
    """A file beside this one, as a module (this file imports nothing from lintseq)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".py")
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


checks = _load("checks", "lintseq_checks")
"".encode("unicode_escape")  # its codec loaded once, here, not in every program's process
_write, _exc_info, _format_exc, _encode = os.write, sys.exc_info, traceback.format_exception, checks.dumps
_unmarshal, _unbase64 = marshal.loads, binascii.a2b_base64  # bound here: the program may patch the modules
_PROTECTED = frozenset({os.path.abspath(__file__), os.path.abspath(checks.__file__)})
_SECRET_HOLDERS = frozenset({"execute", "_child", "_supervise", "main", "sandbox_main", "_serve", "_reference",
                             "_fork_program", "_read_job", "_untrusted", "arm", "program_main"})
_load("guard", "lintseq_guard").install(
    _PROTECTED, _SECRET_HOLDERS, ("unittest.", "lintseq_", "__main__", "runner", "forkserver"))


def _line(tag, text):
    return f"{tag} {text}\n".encode()


def _final(fd, nonce, status, detail=""):
    """The last line; no json (an encoder the program patched cannot touch it)."""
    _write(fd, _line("R", f"{nonce} {status} " + str(detail)[-1500:].encode("unicode_escape").decode("ascii")))


def _dict_version_reader():
    """CPython's version tag of a dict (``ma_version_tag``, bumped by every change to it), read
    without touching its keys or values; None where this interpreter's dicts do not behave so
    (checked here on dicts of its own)."""
    try:
        def version(d):
            return ctypes.c_uint64.from_address(id(d) + 24).value  # after the object head and ma_used

        probe, other = {"a": 1}, {}
        seen = [version(probe)]
        for change in (lambda: probe.__setitem__("a", 2), lambda: probe.__setitem__("b", 3),
                       lambda: probe.pop("b"), probe.clear, lambda: probe.update(a=1)):
            change()
            seen.append(version(probe))
        other["x"] = 1  # a change to another dict leaves this one's version alone
        if sys.implementation.name == "cpython" and all(a < b for a, b in zip(seen, seen[1:])) \
                and version(probe) == seen[-1]:
            return version
    except (ValueError, TypeError, OverflowError):
        pass
    return None


_VERSION = _dict_version_reader()
_SNAPSHOT = []
"""(dict, its version, a copy) for each dict ``_restorer`` guards, taken once by the fork server."""


def _guarded():
    return globals(), builtins.__dict__, checks.__dict__


def snapshot():
    """Called once by the fork server, last before it serves: copies of the dicts ``_restorer``
    guards, made there once. A forked process whose dicts are unchanged since (their version
    says so) uses these instead of copying them: a copy touches every object a dict holds, and
    in a forked process each page of them written is a copy-on-write fault (~80 a program)."""
    if _VERSION is not None:
        _SNAPSHOT[:] = [(d, _VERSION(d), dict(d)) for d in _guarded()]


def _restorer():
    """Puts back the builtins and these modules' globals as they are now (the program may patch
    them). Without version tags (not CPython) every dict is copied now and put back each time."""
    version = _VERSION or (lambda d: None)
    saved = []
    for live in _guarded():
        snap = next((entry for entry in _SNAPSHOT if entry[0] is live), None)
        if snap is not None and version(live) == snap[1]:  # unchanged since the server's copy
            saved.append([live, snap[2], snap[1]])
        else:
            saved.append([live, dict(live), version(live)])

    def restore():
        for entry in saved:
            live, copy_, seen = entry
            if seen is not None and version(live) == seen:  # nothing changed it: nothing to put back
                continue
            live.clear()
            live.update(copy_)
            entry[2] = version(live)
        sys.modules["lintseq_checks"] = checks

    return restore


def _unittest(ns, test):
    exec(compile(test["test"], "test.py", "exec"), ns)
    suite, loader, result = unittest.TestSuite(), unittest.TestLoader(), unittest.TestResult()
    for obj in list(ns.values()):
        if isinstance(obj, type) and issubclass(obj, unittest.TestCase) and obj is not unittest.TestCase:
            suite.addTests(loader.loadTestsFromTestCase(obj))
    suite.run(result)
    if result.testsRun == 0 or not result.wasSuccessful():
        bad = (result.failures + result.errors)[:1]
        raise AssertionError(f"{len(result.failures)} failures, {len(result.errors)} errors of "
                             f"{result.testsRun}: {bad[0][1][-400:] if bad else ''}")


def _test_code(test):
    """A check/asserts test's code object as the host compiled it once per task (``code``:
    marshal, base64, for this interpreter only), decoded before any of the program runs; None:
    compile it here from its source."""
    blob = test.get("code")
    if not blob or test.get("code_for") != sys.implementation.cache_tag:
        return None
    try:
        code = _unmarshal(_unbase64(blob))
    except (ValueError, EOFError, TypeError):
        return None
    return code if type(code) is types.CodeType else None


def _run_tests(ns, test, emit, code=None):
    kind = test["kind"]
    if kind == "stdio":
        checks.run_stdio(ns["__source__"], test, lambda out: emit(json.dumps(out)))
    elif kind == "ds1000":
        checks.check_ds1000(ns["__source__"], test)
    elif kind == "check":
        exec(code or compile(test["test"], "test.py", "exec"), ns)
        ns["check"](ns[test["entry_point"]])
    elif kind == "asserts":
        exec(code or compile(test["setup"] + "\n" + "\n".join(test["asserts"]), "test.py", "exec"), ns)
    elif kind == "io":
        fn = ns[test["entry_point"]]
        for args in checks.restored_inputs(test):
            emit("", "T")  # input i starts: the supervisor's per-input clock (``steps``) runs
            out = fn(*args)
            emit("", "D")  # ... until the call returns, as evalplus times the call alone (not the encoding)
            emit(_encode(out))
    elif kind == "unittest":
        _unittest(ns, test)
    else:
        raise ValueError(f"unknown test kind {kind!r}")


def _reference(job, fd):
    """MBPP+'s reference (trusted) on the task's inputs: its outputs as data, each call's seconds
    (``P`` lines: evalplus scales each input's time limit from them), then the total."""
    test, start = job["test"], time.perf_counter()
    inputs = checks.restored_inputs(test)
    for tag, source, oracle in (("O", test["reference"], test.get("oracle")), ("A", test.get("alternative"), None)):
        if source:
            ns = {"__name__": "__reference__"}
            exec(compile(source, "reference.py", "exec"), ns)
            for out, seconds in checks.timed_outputs(ns[test["entry_point"]], inputs, oracle):
                _write_all(fd, _line(tag, _encode(out)) + (_line("P", f"{seconds:.6f}") if tag == "O" else b""))
    _final(fd, job["nonce"], "passed", f"{time.perf_counter() - start:.6f}")


def _write_all(fd, data):
    while data:
        data = data[_write(fd, data):]


def _untrusted(box):
    """The program and its tests, on a thread of their own: walking up from any of its frames
    reaches this function's frame (refused: it holds the key) and threading's, never ``execute``'s
    frame where the nonce is; other threads' frames are audited away (``sys._current_frames``).
    Its arguments come in ``box``, emptied at once, so that the thread object (reachable from the
    program) holds none of them: not the result list, not the key that arms the audit hook."""
    program, test, emit, result, key = box.pop()
    code = _test_code(test)
    restore, run_tests, exc_info, fmt, audit = _restorer(), _run_tests, _exc_info, _format_exc, sys.audit

    def arm(on):
        audit("lintseq.arm", key, on)

    module = types.ModuleType("__program__")  # a real module, so its functions behave as in a file
    sys.modules["__program__"] = module
    ns = module.__dict__
    arm(True)
    try:
        if test["kind"] in ("stdio", "ds1000"):  # their harness runs the program itself
            ns["__source__"] = program
            if test["kind"] == "stdio":  # a whole program that does not compile is an error, as elsewhere
                compile(program, "program.py", "exec")  # (a DS-1000 solution may be an indented function body)
        else:
            exec(compile(program, "program.py", "exec"), ns)
    except BaseException:  # SystemExit included: exiting is not passing
        arm(False)
        restore()
        result.append(("error", "".join(fmt(*exc_info())[-3:])))
        return
    arm(False)
    restore()
    arm(True)
    try:
        run_tests(ns, test, emit, code)
    except BaseException:
        arm(False)
        restore()
        result.append(("failed", "".join(fmt(*exc_info())[-3:])))
        return
    arm(False)
    restore()
    result.append(("passed", ""))


def execute(job, fd):
    """Run one job in this process and report on ``fd``."""
    nonce, test = job["nonce"], job["test"]
    if job.get("mode") == "expected":
        try:
            _reference(job, fd)
        except BaseException:
            _final(fd, nonce, "error", "reference solution failed: " + "".join(_format_exc(*_exc_info())[-2:]))
        return
    write_all, line, final, result, key = _write_all, _line, _final, [], os.urandom(16)
    sys.audit("lintseq.key", key)  # the first key this process gives the hook is the only one it takes
    box = [(job.pop("program"), test, lambda text, tag="O": write_all(fd, line(tag, text)), result, key)]
    threading.stack_size(64 << 20)  # deep recursion as on a main thread
    worker = threading.Thread(target=_untrusted, args=(box,))
    worker.start()
    worker.join()
    if len(result) == 1:  # nothing when the program ended its own thread (it cannot reach this frame to forge one)
        final(fd, nonce, *result[0])


def _child(job, w):
    """The program's process: /dev/null for stdio, only the report pipe open, the rlimits set."""
    _prctl(15, b"lintseq-program")  # PR_SET_NAME: what ps and perf show
    threading._after_fork.__code__ = _THREAD_RESET  # the program's forks reset threading as usual
    null = os.open("/dev/null", os.O_RDWR)
    for target in (0, 1, 2):
        os.dup2(null, target)
    os.closerange(3, w)
    os.closerange(w + 1, 4096)
    for name, value in job.pop("rlimits", {}).items():
        resource.setrlimit(getattr(resource, name), (value, value))
    if job["test"]["kind"] == "stdio":  # this process judges nothing, but keep it out of the program's reach
        _prctl(4, 0)
    if job["test"]["kind"] == "unittest":  # BigCodeBench's harness, imported before any of the program runs
        global unittest  # (not preloaded: every sandbox's fork would copy it for the few tests that use it)
        import unittest
    workdir = job.get("workdir", "/tmp/work")
    try:  # its parent exists (the sandbox's /tmp, or the host's own run folder): no os.makedirs walk
        os.mkdir(workdir)
    except FileExistsError:
        pass
    os.chdir(workdir)
    sys.set_int_max_str_digits(0)
    execute(job, w)


def _count_processes():
    """Processes in this (private) PID namespace: /proc shows only those."""
    return sum(1 for name in os.listdir("/proc") if name.isdigit())


def _read_job(fd):
    """The job, as the host wrote it (``marshal``: plain data from trusted code, read before any
    of the program runs; one C call, where json's decoder ran Python code in every sandbox)."""
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return _unmarshal(b"".join(chunks)) if chunks else None


def _fork_program(job_fd):
    """Fork the program's process ahead of its job (a fork off the job's critical path). It reads
    the job itself, tells this process the job's limits on a pipe it then closes (trusted code,
    before any of the program runs), and runs it: (pid, report read end, control read end)."""
    r, w = os.pipe()
    cr, cw = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.close(cr)
        program_main(job_fd, w, cw, _json_control)
    os.close(w)
    os.close(cw)
    return pid, r, cr


def _json_control(job):
    return json.dumps({k: job.get(k) for k in ("timeout", "cap", "nonce", "steps")}).encode()


def native_control(job):
    """The job's limits for the native pid 1 (``pid1.c``): ``TIMEOUT CAP nNONCEHEX NSTEPS STEP...``."""
    steps = [repr(float(s)) for s in job.get("steps") or ()]
    return " ".join([repr(float(job["timeout"])), str(int(job["cap"])), "n" + str(job["nonce"]).encode().hex(),
                     str(len(steps)), *steps]).encode() + b"\n"


def program_main(job_fd, w, cw, control):
    """The program's process: read the job, tell the supervisor its limits on ``cw`` (then closed;
    trusted code, before any of the program runs), run it reporting on ``w``; never returns."""
    try:
        job = _read_job(job_fd)
        if job is None:  # closed unused: the pool is shutting down
            return
        _write_all(cw, control(job))
        os.close(cw)
        _child(job, w)
    except BaseException:  # the harness itself failed (never the program: execute catches that)
        _write(w, _line("X", "".join(_format_exc(*_exc_info())[-2:]).encode("unicode_escape").decode()))
    finally:
        os._exit(0)


def _supervise(pid, r, job, max_procs):
    """Read the program's report (capped) until its final line, its exit, the time limit or the
    process cap; the reply's header and the report."""
    cap, timed_out, killed, chunks, size, reading, exited = int(job["cap"]), False, "", [], 0, True, False
    final, tail = f"R {job['nonce']} ".encode(), b""
    pidfd = os.pidfd_open(pid)
    deadline = time.monotonic() + float(job["timeout"])
    # MBPP+ per input (evalplus): ``steps[i]`` seconds from input i's ``T`` line to its ``D`` line
    steps, started, done, step_deadline, last2, late = job.get("steps") or (), 0, 0, None, b"\n", None
    while True:
        now = time.monotonic()
        left = deadline - now
        if step_deadline is not None and step_deadline <= now:
            timed_out, late = True, started - 1
            break
        if left <= 0:
            timed_out = True
            break
        if step_deadline is not None:
            left = min(left, step_deadline - now)
        ready = select.select([pidfd, r] if reading else [pidfd], [], [], min(left, 0.01))[0]
        if r in ready:
            chunk = os.read(r, 1 << 20)
            reading = bool(chunk)
            chunks.append(chunk)
            size += len(chunk)
            if size > cap:
                killed = f"killed: the program wrote more than {cap} bytes to the report channel"
                break
            seen, tail = tail + chunk, (tail + chunk)[-200:]
            if steps:  # count whole-line starts only (JSON and escaped lines hold no raw newline)
                window, last2 = last2 + chunk, (last2 + chunk)[-2:]
                begun, done = started + window.count(b"\nT "), done + window.count(b"\nD ")
                if begun > started:  # a new input started in this chunk: its clock starts now
                    step_deadline = time.monotonic() + float(steps[min(begun, len(steps)) - 1])
                started = begun
                if done >= started:
                    step_deadline = None
            start = seen.rfind(final)
            if start >= 0 and (start == 0 or seen[start - 1:start] == b"\n") and seen.endswith(b"\n") \
                    and seen.find(b"\n", start) == len(seen) - 1:
                break  # the runner's final line is the last it writes: the verdict is in, no need to wait
        if pidfd in ready:
            exited = True
            break
        if max_procs and _count_processes() >= max_procs:
            killed = f"killed: the program reached the sandbox's process cap ({max_procs} processes)"
            break
    status = 0
    if exited or timed_out or killed:
        if not exited:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        os.set_blocking(r, False)
        try:
            while not killed and size <= cap and (chunk := os.read(r, 1 << 20)):
                chunks.append(chunk)
                size += len(chunk)
        except BlockingIOError:
            pass
    if size > cap:
        killed, chunks = killed or f"killed: the program wrote more than {cap} bytes to the report channel", []
    report = b"".join(chunks)
    header = {"status": status, "timed_out": timed_out, "killed": killed, "size": len(report)}
    if late is not None:
        header.update(input=late, input_limit=float(steps[min(late, len(steps) - 1)]))
    return header, report


_THREAD_RESET = threading._after_fork.__code__


def _no_reset():
    pass


def skip_thread_reset():
    """Called once by the fork server: ``threading``'s after-fork hook becomes a no-op in it and
    in everything forked from it. The hook only matters where a second thread existed at the fork,
    and none does there: the server never starts one, nor does a sandbox's pid 1. Run in every
    fork it touched ~150 pages of the shared image, each a copy-on-write fault: a third of the
    cost of a fork. The program's process puts it back (``_child``): the program's own code runs
    on a thread of its own, so its forks need it (multiprocessing's children hang without it)."""
    if threading.active_count() == 1 and threading._after_fork.__code__.co_freevars == ():
        threading._after_fork.__code__ = _no_reset.__code__


def sandbox_env():
    """The whole environment of a sandbox's processes (the fork server sets it once, as its own)."""
    return {"PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp/home",
            "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg"}


def sandbox_main(max_procs):
    """A sandbox's pid 1 (``forkserver.py`` made it: own namespaces, uid, no capabilities,
    seccomp): non-dumpable, then the one job from fd 0, the reply to fd 1, and exit."""
    _prctl(4, 0)  # PR_SET_DUMPABLE 0: /proc/1/{mem,fd,environ} closed to the program
    # the environment is the fork server's, set once there (``sandbox_env``): nothing else is in it
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # pid 1 then ignores it (no handler), like every other signal
    _serve(0, 1, max_procs)


def _serve(job_fd, reply_fd, max_procs):
    pid, r, cr = _fork_program(job_fd)
    os.close(job_fd)
    control = os.read(cr, 1 << 16)  # one write, then closed; nothing when the sandbox was not used
    if not control:
        return
    header, report = _supervise(pid, r, json.loads(control), max_procs)
    _write_all(reply_fd, json.dumps(header).encode() + b"\n" + report)


def main():
    """``runner.py host 0``: --unsafe-no-sandbox only, a plain process on the host."""
    _prctl(38, 1)  # PR_SET_NO_NEW_PRIVS
    _prctl(4, 0)
    _serve(0, 1, int(sys.argv[2]))


if __name__ == "__main__":
    main()
