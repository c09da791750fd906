"""A pids (and, where possible, memory) cgroup of its own for each sandbox.

The fork server's keeper joins it (by writing ``0`` to the ``cgroup.procs`` descriptors the host
opened, ``procs_fds``) before it makes the sandbox, so every process the sandbox ever starts is
counted and capped. ``close()`` kills whatever is still in it and removes it: nothing a sample
started outlives it.
"""

from __future__ import annotations

import functools
import itertools
import os
import signal
import time


class Cgroup:
    """One sandbox's cgroups (one per hierarchy: v2 with pids delegated, else v1 pids and memory)."""

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
        values = {"pids.max": max_pids, "memory.max": memory_bytes, "memory.limit_in_bytes": memory_bytes}
        return [(parent, {f: values[f] for f in files}) for parent, files in _layout()]

    @classmethod
    @functools.lru_cache(maxsize=1)
    def available(cls) -> bool:
        """True when a pids cgroup can be made here (checked once by making one). Also removes
        the empty cgroups of evaluators that died before removing theirs (killed, say)."""
        for parent, _ in cls._parents(64, 1 << 30):
            for name in os.listdir(parent):
                pid = name.split("-")[1] if name.startswith("lintseq-") and name.count("-") == 2 else ""
                if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                    try:
                        os.rmdir(os.path.join(parent, name))  # only an empty one goes
                    except OSError:
                        pass
        group = cls(64, 1 << 30)
        ok = any(os.path.exists(os.path.join(d, "pids.max")) for d in group.dirs)
        group.close()
        return ok

    def procs_fds(self) -> list[int]:
        """Each cgroup's ``cgroup.procs``, open for writing (the keeper writes ``0`` to join)."""
        return [os.open(os.path.join(d, "cgroup.procs"), os.O_WRONLY | os.O_CLOEXEC) for d in self.dirs]

    def kill(self) -> None:
        """SIGKILL every process still in the cgroups (host pids: this side sees them all)."""
        for path in self.dirs:
            try:
                pids = open(os.path.join(path, "cgroup.procs")).read().split()
            except OSError:
                continue
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, PermissionError, ValueError):
                    pass

    def try_remove(self) -> bool:
        """Remove the cgroups that are empty now; True when none is left."""
        left = []
        for path in self.dirs:
            try:
                os.rmdir(path)
            except FileNotFoundError:
                pass
            except OSError:
                left.append(path)
        self.dirs = left
        return not left

    def close(self) -> None:
        for path in self.dirs:
            _rmdir(path, self.kill)
        self.dirs = []


@functools.lru_cache(maxsize=1)
def _layout() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Where this process's sandbox cgroups go and which limit files each gets, found once per
    process (it was read again for every sandbox): ((parent folder, (limit file, ...)), ...)."""
    try:
        lines = open("/proc/self/cgroup").read().splitlines()
    except OSError:
        return ()
    own = {c: p for _, cs, p in (ln.split(":", 2) for ln in lines if ln.count(":") >= 2) for c in cs.split(",")}
    for mount in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
        parent = mount + own.get("", "/").rstrip("/")
        try:
            enabled = open(os.path.join(parent, "cgroup.subtree_control")).read().split()
        except OSError:
            continue
        if "pids" in enabled and os.access(parent, os.W_OK):
            return ((parent, ("pids.max", "memory.max") if "memory" in enabled else ("pids.max",)),)
    found = []
    for controller, fname in (("pids", "pids.max"), ("memory", "memory.limit_in_bytes")):
        parent = f"/sys/fs/cgroup/{controller}" + own.get(controller, "/").rstrip("/")
        if controller in own and os.access(parent, os.W_OK):
            found.append((parent, (fname,)))
    return tuple(found)


def _rmdir(path: str, kill=None) -> None:
    """Remove a cgroup once it is empty: its last processes may take a moment to be reaped, and
    any that linger past 0.2 s are killed."""
    for i in range(3000):
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            if kill is not None and i % 200 == 199:
                kill()
            time.sleep(0.001)
