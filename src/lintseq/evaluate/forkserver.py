"""The fork server: trusted code that makes a fresh sandbox per program, fast, and never runs one.

Started once per evaluator by bubblewrap (``isolation.Server``) on the read-only, whitelisted
filesystem every sandbox sees, with no network, as root holding only CAP_SYS_ADMIN, CAP_SETUID
and CAP_SETGID (or, for a non-root user, in a user namespace of its own). It imports the runner
once; that saved start-up (a new bubblewrap and interpreter per program) is where the speed
comes from. Isolation does not come from it: each request forks a process that builds a sandbox
no earlier program touched, and the server itself never receives a job, only descriptors.

A request is one datagram on fd 0, ``{"uid", "max_procs", "tmp_mb"}`` with the descriptors
[job (read end), reply (write end), kill (read end), cgroup.procs files...]. The forked process
(the *keeper*, still in the server's namespaces, trusted) joins the sample's cgroups, makes new
PID, mount, IPC, network, UTS and cgroup namespaces and forks the sandbox's pid 1, then only waits:
when the host closes the kill pipe (done, hung, or the host died) it SIGKILLs that pid 1, which
ends every process of the namespace. Pid 1 mounts its own /proc and fresh, sized tmpfs on /tmp
and /dev/shm, becomes the sample's own unprivileged uid with no capabilities, installs the
seccomp filter, turns non-dumpable and only then reads its job (``runner.sandbox_main``).

Runs on a bare interpreter: imports nothing from lintseq.
"""

import ctypes
import importlib.util
import json
import os
import select
import signal
import socket
import sys

_libc = ctypes.CDLL(None, use_errno=True)
_NEW = 0x20000000 | 0x00020000 | 0x08000000 | 0x40000000 | 0x04000000 | 0x02000000  # PID NS IPC NET UTS CGROUP
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REC, _MS_PRIVATE = 2, 4, 8, 0x4000, 0x40000


def _load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


runner = _load("runner")  # imported here, once: every sandbox starts with it loaded


def _check(ok, what):
    if ok != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source, target, fstype, flags, data=None):
    _check(_libc.mount(source, target, fstype, flags, data), f"mount {target.decode()}")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


def _drop_capabilities():
    """No capability in any set (a setresuid away from root clears them too; in a user namespace
    the uid does not change, so this is what removes them there)."""
    data = (ctypes.c_uint32 * 6)()
    _check(_libc.capset(ctypes.byref(_CapHeader(0x20080522, 0)), data), "capset")


class _Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


def _seccomp(program):
    """Install the filter seccomp.py built (the host passes it); no_new_privs first, as required."""
    _check(_libc.prctl(38, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS")
    prog = _Fprog(len(program) // 8, program)
    _check(_libc.prctl(22, 2, ctypes.byref(prog), 0, 0), "PR_SET_SECCOMP")


def _pid1(req, job, reply, filter_):
    """The sandbox's pid 1, in its fresh namespaces: its own mounts and uid, then the one job."""
    null = os.open("/dev/null", os.O_RDWR)
    os.dup2(job, 0)
    os.dup2(reply, 1)
    os.dup2(null, 2)
    os.closerange(3, 1 << 16)
    size = b"size=%d,mode=1777" % (int(req["tmp_mb"]) << 20)
    _mount(None, b"/", None, _MS_REC | _MS_PRIVATE)  # nothing mounted here propagates anywhere
    _mount(b"proc", b"/proc", b"proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)  # this PID namespace's only
    _mount(b"tmpfs", b"/tmp", b"tmpfs", _MS_NOSUID | _MS_NODEV, size)
    _mount(b"tmpfs", b"/dev/shm", b"tmpfs", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, size)
    os.mkdir("/tmp/home", 0o777)
    os.chmod("/tmp/home", 0o777)
    uid = int(req["uid"])
    if uid:  # as root on the host: the sample's own uid, no groups
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    _drop_capabilities()
    _seccomp(filter_)
    os.chdir("/tmp")
    runner.sandbox_main(int(req["max_procs"]))


def _keeper(req, fds, filter_):
    """The forked process: join the sample's cgroups, new namespaces, fork pid 1, wait for it or
    for the host to close the kill pipe, then make sure it is gone."""
    job, reply, kill, *cgroups = fds
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for fd in cgroups:  # "0": the writing process; the sandbox's processes are all born inside
        os.write(fd, b"0")
        os.close(fd)
    _check(_libc.unshare(_NEW), "unshare")
    pid = os.fork()
    if pid == 0:
        try:
            _pid1(req, job, reply, filter_)
        finally:
            os._exit(0)
    os.close(job)
    os.close(reply)
    pidfd = os.pidfd_open(pid)
    select.select([pidfd, kill], [], [])
    if not select.select([pidfd], [], [], 0)[0]:
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def main():
    """``forkserver.py FILTER_HEX``: serve requests on fd 0 until it closes (the host is gone)."""
    filter_ = bytes.fromhex(sys.argv[1])
    sock = socket.socket(fileno=0)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # keepers are reaped by the kernel
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(sock, 4096, 8)
        except OSError:
            return
        if not msg:
            return
        try:
            req = json.loads(msg)
            if os.fork() == 0:
                code = 1
                try:
                    sock.close()
                    _keeper(req, fds, filter_)
                    code = 0
                finally:
                    os._exit(code)
        except (ValueError, OSError):
            pass  # the host sees the reply pipe close and reports that sample's error
        finally:
            for fd in fds:
                os.close(fd)


if __name__ == "__main__":
    main()
