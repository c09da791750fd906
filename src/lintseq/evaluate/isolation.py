"""Can model-written programs be isolated here, and how: the bubblewrap command line, the probe
that proves it works, and the cgroups that cap processes and memory.

The sandbox is bubblewrap (Debian/Ubuntu package ``bubblewrap``): new user, PID, network, IPC
and UTS namespaces, the host filesystem read-only, private size-limited tmpfs over /tmp,
/dev/shm and the home directory. Whatever the interpreter needs (its prefix, base prefix,
site-packages, this package) is bound read-only back over those private directories, so a venv
or a clone under /tmp or the home directory works inside too.

Processes: the kernel does not apply RLIMIT_NPROC to a host root, whatever uid it maps to inside
a user namespace, so each sandbox also goes into a pids cgroup (and a memory cgroup) of its own
where the host lets us create one (cgroup v2 with the controllers delegated, or v1 hierarchies),
and the in-sandbox zygote kills the whole namespace once a program reaches the process cap.

    >>> probe().kind in ("bwrap", "none")
    True
"""

from __future__ import annotations

import functools
import itertools
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass

RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runner.py")
NOBODY = 65534
_FIX = ("install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap) "
        "and allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 / "
        "kernel.apparmor_restrict_unprivileged_userns=0), or pass --unsafe-no-sandbox to run "
        "model-written code on this machine without isolation")


@dataclass(frozen=True)
class Isolation:
    """What the probe found: ``ok`` only when a real sandbox started and ran Python."""

    ok: bool
    kind: str
    """``bwrap`` or ``none``."""
    detail: str
    """One line: how programs are isolated, or why they cannot be."""
    fix: str = ""
    process_cap: str = ""
    """How process counts are capped: ``cgroup`` (pids cgroup), ``rlimit`` (non-root RLIMIT_NPROC)
    or ``watchdog`` (only the zygote's count of its namespace); all three end with the watchdog."""

    def line(self) -> str:
        if self.ok:
            return f"isolation: {self.detail}"
        return f"isolation: NONE: {self.detail} (fix: {self.fix})"


def bwrap_executable() -> str | None:
    """``$LINTSEQ_BWRAP`` or ``bwrap`` on PATH."""
    explicit = os.environ.get("LINTSEQ_BWRAP")
    return explicit if explicit else shutil.which("bwrap")


def hidden_dirs() -> list[str]:
    """Directories replaced by a private tmpfs inside the sandbox (and wiped after each program)."""
    home = os.path.realpath(os.path.expanduser("~"))
    return ["/tmp", "/dev/shm"] + ([home] if home not in ("/", "/tmp") and os.path.isdir(home) else [])


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def interpreter_paths() -> list[str]:
    """Paths inside the hidden directories that the interpreter and the runner need, outermost
    only: prefixes, the executable's folders, sys.path entries, this package's folder."""
    wanted = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(sys.executable),
              os.path.dirname(os.path.realpath(sys.executable)), os.path.dirname(RUNNER)}
    wanted.update(p for p in sys.path if p and os.path.exists(p))
    paths = set()
    for p in wanted:
        for q in {os.path.abspath(p), os.path.realpath(p)}:
            if os.path.exists(q) and any(_under(q, h) for h in hidden_dirs()) and q not in hidden_dirs():
                paths.add(q)
    outer = [p for p in sorted(paths) if not any(p != q and _under(p, q) for q in paths)]
    return outer


def bwrap_command(tmp_size_mb: int, workdir: str = "/tmp/work") -> list[str]:
    """The bubblewrap prefix every sandbox starts with (the probe uses the same one)."""
    size = str(tmp_size_mb << 20)
    args = [bwrap_executable() or "bwrap", "--unshare-all", "--die-with-parent", "--new-session",
            "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    for folder in hidden_dirs():
        args += ["--size", size, "--tmpfs", folder]
    for path in interpreter_paths():  # after the tmpfs mounts, so they show through them
        args += ["--ro-bind", path, path]
    path_env = f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin"
    args += ["--dir", workdir, "--chdir", workdir, "--uid", str(NOBODY), "--gid", str(NOBODY),
             "--cap-drop", "ALL", "--clearenv", "--setenv", "PATH", path_env, "--setenv", "HOME", workdir,
             "--setenv", "PYTHONDONTWRITEBYTECODE", "1", "--setenv", "MPLBACKEND", "Agg"]
    return args


@functools.lru_cache(maxsize=1)
def probe() -> Isolation:
    """Start one sandbox exactly as the evaluator will and run Python in it."""
    exe = bwrap_executable()
    if not exe or not os.path.exists(exe):
        where = f"LINTSEQ_BWRAP={exe} does not exist" if exe else "bubblewrap (bwrap) is not installed"
        return Isolation(False, "none", where, _FIX)
    check = "import os, sys; assert os.getuid() == %d; open(%r).close()" % (NOBODY, RUNNER)
    try:
        proc = subprocess.run(bwrap_command(8) + [sys.executable, "-I", "-c", check],
                              capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return Isolation(False, "none", f"bubblewrap could not start: {exc}", _FIX)
    if proc.returncode != 0:
        err = " ".join(proc.stderr.decode("utf-8", "replace").split())[-300:] or f"exit status {proc.returncode}"
        return Isolation(False, "none", f"bubblewrap is installed but the sandbox failed to start: {err}", _FIX)
    cap = "cgroup" if Cgroup.available() else ("rlimit" if os.geteuid() != 0 else "watchdog")
    detail = (f"bubblewrap sandbox ({exe}): no network, private PID namespace, read-only host, "
              f"private /tmp and home; processes capped by {cap}")
    return Isolation(True, "bwrap", detail, process_cap=cap)


class Cgroup:
    """A pids (and, where possible, memory) cgroup of its own for one sandbox.

    ``wrap(cmd)`` returns a command that joins the cgroup before it execs ``cmd``, so every
    process the sandbox ever starts is counted. ``close()`` removes it once it is empty.
    """

    _serial = itertools.count()

    def __init__(self, max_pids: int, memory_bytes: int):
        self.dirs: list[str] = []
        name = f"lintseq-{os.getpid()}-{next(self._serial)}"
        for parent, files in self._parents(max_pids, memory_bytes):
            path = os.path.join(parent, name)
            try:
                os.mkdir(path)
                for fname, value in files.items():
                    with open(os.path.join(path, fname), "w") as fh:
                        fh.write(str(value))
            except OSError:
                _rmdir(path)
                continue
            self.dirs.append(path)

    @staticmethod
    def _parents(max_pids: int, memory_bytes: int) -> list[tuple[str, dict]]:
        """Writable parent cgroups: v2 with pids delegated, else the v1 pids/memory hierarchies."""
        try:
            lines = open("/proc/self/cgroup").read().splitlines()
        except OSError:
            return []
        own = {c: p for _, cs, p in (ln.split(":", 2) for ln in lines if ln.count(":") >= 2) for c in cs.split(",")}
        for mount in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
            parent = mount + own.get("", "/").rstrip("/")
            try:
                enabled = open(os.path.join(parent, "cgroup.subtree_control")).read().split()
            except OSError:
                continue
            if "pids" in enabled and os.access(parent, os.W_OK):
                files = {"pids.max": max_pids}
                if "memory" in enabled:
                    files["memory.max"] = memory_bytes
                return [(parent, files)]
        found = []
        for controller, files in (("pids", {"pids.max": max_pids}), ("memory", {"memory.limit_in_bytes": memory_bytes})):
            parent = f"/sys/fs/cgroup/{controller}" + own.get(controller, "/").rstrip("/")
            if controller in own and os.access(parent, os.W_OK):
                found.append((parent, files))
        return found

    @classmethod
    @functools.lru_cache(maxsize=1)
    def available(cls) -> bool:
        """True when a pids cgroup can be made here (checked once by making one)."""
        group = cls(64, 1 << 30)
        ok = any(os.path.exists(os.path.join(d, "pids.max")) for d in group.dirs)
        group.close()
        return ok

    def wrap(self, cmd: list[str]) -> list[str]:
        if not self.dirs:
            return cmd
        joins = " && ".join(f"echo $$ > {shlex.quote(os.path.join(d, 'cgroup.procs'))}" for d in self.dirs)
        return ["/bin/sh", "-c", f'{joins} && exec "$@"', "lintseq-sandbox", *cmd]

    def close(self) -> None:
        for path in self.dirs:
            _rmdir(path)
        self.dirs = []


def _rmdir(path: str) -> None:
    """Remove an emptied cgroup; its last processes may take a moment to be reaped."""
    import time

    for _ in range(200):
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.01)
