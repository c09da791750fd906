"""The host's side of the fork server (``forkserver.py``): starting it, asking it for one fresh
sandbox, and running one job in one (the probe does).

One server per evaluator process, started on first use (and again if it died); it runs no model
code, so every pool and the probe share it. Each sandbox it makes gets its own cgroups (made here:
``cgroup.py``), its own uid, and three pipes: the job in, the reply out, and a kill pipe whose
closing (by this side, or by this process's death) makes the server SIGKILL the sandbox's pid 1.
"""

from __future__ import annotations

import json
import marshal
import os
import select
import socket
import subprocess
import tempfile
import threading
import time

from . import seccomp
from .cgroup import Cgroup
from . import native as native_
from .isolation import init_uid, next_uid, privileged, server_command


class Server:
    """The fork server: ``spawn`` asks it for one fresh sandbox; thread-safe."""

    def __init__(self, mounts: tuple = (), native: dict | None = None):
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.err = tempfile.TemporaryFile()  # what bubblewrap says when it fails (a file: it can never block it)
        self.native = bool(native)
        """Its sandboxes' pid 1 is ``pid1.c`` (else a copy of the interpreter: ``forkserver._pid1``)."""
        try:
            self.proc = subprocess.Popen(server_command(seccomp.program().hex(), mounts, native), stdin=theirs,
                                         stdout=subprocess.DEVNULL,
                                         stderr=self.err, env={}, start_new_session=True)
        finally:
            theirs.close()

    def said(self) -> str:
        self.err.seek(0)
        return " ".join(self.err.read(1 << 16).decode("utf-8", "replace").split())[-300:]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def spawn(self, uid: int, max_procs: int, tmp_size_mb: int, cgroup_fds: list[int]) -> tuple[int, int, int]:
        """Ask for one sandbox: (job write end, reply read end, kill write end). The sandbox
        runs the job written (then closed) to the first and replies on the second; closing the
        third kills it, whatever it is doing."""
        job_r, job_w = os.pipe()
        reply_r, reply_w = os.pipe()
        kill_r, kill_w = os.pipe()
        req = b"%d %d %d %d" % (uid if privileged() else 0, init_uid(), max_procs, tmp_size_mb)
        try:
            socket.send_fds(self.sock, [req], [job_r, reply_w, kill_r, *cgroup_fds])
        except OSError:
            for fd in (job_w, reply_r, kill_w):
                os.close(fd)
            raise
        finally:
            for fd in (job_r, reply_w, kill_r):
                os.close(fd)
        return job_w, reply_r, kill_w

    def close(self) -> None:
        self.sock.close()  # the server sees end of input and exits; its namespaces end with it
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


_servers: dict[tuple, Server] = {}
_server_lock = threading.Lock()


def server(mounts: tuple = ()) -> Server:
    """This evaluator's fork server for the given read-only ``mounts`` ((host folder, inside path)
    pairs; none by default), started on first use and again if it died."""
    native = native_.paths()  # LINTSEQ_NATIVE=0, or no C compiler: the Python pid 1
    key = (mounts, bool(native))
    with _server_lock:
        found = _servers.get(key)
        if found is None or not found.alive():
            if found is not None:
                found.close()
            found = _servers[key] = Server(mounts, native)
        return found


def start(server_: Server, max_procs: int, memory_bytes: int, tmp_size_mb: int = 64) -> tuple[tuple[int, int, int], Cgroup, int]:
    """Start one fresh sandbox (its pid 1 then waits for its one job): (pipes, cgroup, uid)."""
    uid, cgroup = next_uid(), Cgroup(max_procs + 8, memory_bytes)  # the cap covers the keeper and the runner too
    fds = []
    try:
        fds = cgroup.procs_fds()
        return server_.spawn(uid, max_procs, tmp_size_mb, fds), cgroup, uid
    except BaseException:
        cgroup.close()
        raise
    finally:
        for fd in fds:
            os.close(fd)


def run_once(server_: Server, job: dict, max_procs: int, memory_bytes: int, tmp_size_mb: int,
             timeout: float) -> tuple[bytes, int]:
    """One job in a fresh sandbox, start to end: (the raw reply, empty when there was none; its uid)."""
    (job_w, reply_r, kill_w), cgroup, uid = start(server_, max_procs, memory_bytes, tmp_size_mb)
    out, deadline = [], time.monotonic() + timeout
    try:
        os.write(job_w, marshal.dumps(job))
        os.close(job_w)
        job_w = -1
        while (left := deadline - time.monotonic()) > 0 and select.select([reply_r], [], [], left)[0]:
            chunk = os.read(reply_r, 1 << 16)
            if not chunk:
                break
            out.append(chunk)
    finally:
        for fd in (job_w, reply_r, kill_w):
            if fd >= 0:
                os.close(fd)
        cgroup.close()
    return b"".join(out), uid


class Sandbox:
    """One started sandbox, used for one job."""

    def __init__(self, max_procs: int, memory_bytes: int, tmp_size_mb: int, mounts: tuple = ()):
        (self.job_w, self.reply_r, self.kill_w), self.cgroup, self.uid = start(server(mounts), max_procs, memory_bytes,
                                                                               tmp_size_mb)

    def send(self, job: dict) -> None:
        """Give it its job (its program starts); OSError when the sandbox is gone."""
        self.deadline = time.monotonic() + float(job["timeout"]) + 15.0
        data = marshal.dumps(job)  # plain data, read by trusted code in the sandbox (runner._read_job)
        while data:
            data = data[os.write(self.job_w, data):]
        self.close_job()

    def receive(self, job: dict) -> tuple[dict, bytes] | None:
        """(header, report), or None when the sandbox died or hung."""
        return read_reply(self.reply_r, int(job["cap"]), self.deadline)

    def close_job(self) -> None:
        """End of its job: an unused sandbox's pid 1 then exits at once."""
        if self.job_w >= 0:
            os.close(self.job_w)
            self.job_w = -1

    _kill_lock = threading.Lock()

    def kill(self) -> None:
        """Kill it now (the fork server kills its pid 1 when the kill pipe closes), from any
        thread: the thread waiting on its reply then reads the end of it. Once only."""
        with self._kill_lock:
            fd, self.kill_w = self.kill_w, -1
        if fd >= 0:
            os.close(fd)

    def end(self) -> None:
        """Kill whatever is left of it (the fork server kills its pid 1 when the kill pipe
        closes; its cgroup catches anything else, see ``_reap``) and free its descriptors."""
        self.close_job()
        self.kill()
        os.close(self.reply_r)


def read_reply(fd: int, cap: int, deadline: float) -> tuple[dict, bytes] | None:
    buf = b""
    while b"\n" not in buf[:4096]:
        chunk = _read(fd, deadline)
        if not chunk or len(buf) > 4096:
            return None
        buf += chunk
    line, rest = buf.split(b"\n", 1)
    header = json.loads(line)
    if not (isinstance(header, dict) and isinstance(header.get("size"), int) and 0 <= header["size"] <= cap
            and isinstance(header.get("status"), int) and isinstance(header.get("killed"), str)):
        return None
    chunks, size = [rest], len(rest)
    while size < header["size"]:
        chunk = _read(fd, deadline)
        if not chunk:
            return None
        chunks.append(chunk)
        size += len(chunk)
    return header, b"".join(chunks)[: header["size"]]


def _read(fd: int, deadline: float) -> bytes:
    left = deadline - time.monotonic()
    if left <= 0 or not select.select([fd], [], [], left)[0]:
        return b""
    return os.read(fd, 1 << 20)
