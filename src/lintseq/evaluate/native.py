"""The sandbox's native pid 1 (``pid1.c``) and the fork server's spawn helper (``spawn.c``),
compiled at first use from the C files shipped beside this one into a per-user cache.

With them, a sandbox's pid 1 is a small C init instead of a copy of the preloaded interpreter
(see ``spawn.c``: no copy of the server's memory for it, no copy-on-write faults, no teardown),
which is where a third of the cost per program went. Without a C compiler (or with
``LINTSEQ_NATIVE=0``) the fork server keeps the Python pid 1 (``forkserver._pid1``), which gives
the same isolation, more slowly.
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES = {"pid1": "pid1.c", "spawn.so": "spawn.c"}


def cache_root() -> str:
    root = os.environ.get("LINTSEQ_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                                                          "lintseq")
    return os.path.join(root, "native")


def wanted() -> bool:
    return os.environ.get("LINTSEQ_NATIVE", "1") not in ("0", "")


def _musl() -> str | None:
    """musl's compiler wrapper (Debian's musl-tools), if installed: pid 1 built with it starts in a
    third of the time a static glibc pid 1 takes (glibc's start-up reads the CPU's cache layout
    with cpuid, which traps in a virtual machine: ~0.35 ms of every sandbox here)."""
    return shutil.which("musl-gcc")


def _compile(cc: str, source: str, out: str, shared: bool) -> bool:
    base = [cc, "-O2", "-Wall", "-o", out, source]
    tries = [base + ["-shared", "-fPIC"]] if shared else [base + ["-static", "-s"], base + ["-s"]]
    if not shared and _musl():  # pid 1: static against musl first, then the system C library
        tries.insert(0, [_musl(), "-O2", "-Wall", "-static", "-s", "-o", out, source])
    for cmd in tries:  # pid1 static where the C library allows: an exec without the dynamic loader
        try:
            if subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120).returncode == 0:
                return True
        except (OSError, subprocess.SubprocessError):
            continue
    return False


@functools.lru_cache(maxsize=1)
def build() -> dict[str, str] | None:
    """{"pid1": path, "spawn.so": path}, compiled once per source and compiler (cached), or None
    when no C compiler works here."""
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc or platform.machine() not in ("x86_64", "aarch64"):
        return None
    digest = hashlib.sha256(cc.encode() + platform.machine().encode() + (_musl() or "").encode())
    for name in sorted(SOURCES.values()):
        with open(os.path.join(HERE, name), "rb") as fh:
            digest.update(fh.read())
    folder = os.path.join(cache_root(), digest.hexdigest()[:16])
    paths = {out: os.path.join(folder, out) for out in SOURCES}
    try:
        os.makedirs(cache_root(), mode=0o700, exist_ok=True)
    except OSError:
        return None
    if not _private(cache_root()):  # pid 1 starts as root in the sandbox: only this user may have written it
        return None
    if all(os.path.exists(p) for p in paths.values()):
        return paths if all(_private(p) for p in (folder, *paths.values())) else None
    try:
        work = tempfile.mkdtemp(dir=cache_root())
    except OSError:
        return None
    try:
        for out, source in SOURCES.items():
            if not _compile(cc, os.path.join(HERE, source), os.path.join(work, out), out.endswith(".so")):
                return None
            os.chmod(os.path.join(work, out), 0o755)
        try:
            os.rename(work, folder)  # whole, or not at all (another evaluator may have won the race)
        except OSError:
            if not all(os.path.exists(p) for p in paths.values()):
                return None
        return paths
    finally:
        shutil.rmtree(work, ignore_errors=True)


_disabled = []


def disable() -> None:
    """The probe found the native pid 1 failing here: this process uses the Python pid 1 from now on."""
    _disabled.append(True)


def _private(path: str) -> bool:
    """Owned by this user and writable by no one else (a cache somebody else could write would
    let them choose the sandbox's pid 1)."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return st.st_uid == os.geteuid() and not st.st_mode & 0o022


def paths() -> dict[str, str] | None:
    """What the fork server should use: the compiled helpers, or None (the Python pid 1)."""
    return build() if wanted() and not _disabled else None
