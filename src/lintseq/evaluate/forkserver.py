"""The fork server: trusted code that makes a fresh sandbox per program, fast, and never runs one.

Started once per evaluator by bubblewrap (``isolation.Server``) on the read-only, whitelisted
filesystem every sandbox sees, with no network, as root holding only CAP_SYS_ADMIN, CAP_SETUID,
CAP_SETGID and CAP_KILL (or, for a non-root user, in a user namespace of its own). It imports the runner
once; that saved start-up (a new bubblewrap and interpreter per program) is where the speed
comes from. Isolation does not come from it: each request forks a process that builds a sandbox
no earlier program touched, and the server itself never receives a job, only descriptors.

A request is one datagram on fd 0, ``b"UID INIT_UID MAX_PROCS TMP_MB"``, with the descriptors
[job (read end), reply (write end), kill (read end), cgroup.procs files...]. The server clones
the sandbox's pid 1 straight into new PID, mount, IPC, network, UTS and cgroup namespaces (one
clone, no intermediate process) and keeps only its pidfd and the kill pipe: when the host closes
that pipe (done, hung, or the host died) the server SIGKILLs that pid 1, which ends every process
of its namespace. Pid 1 joins the sample's cgroups, mounts its own /proc (/proc/sys read-only)
and /dev/pts and fresh, sized tmpfs on /tmp and /dev/shm, becomes the sample's own unprivileged
uid with no capabilities, installs the seccomp filter, turns non-dumpable, forks the program's
process ahead of the job, and only then waits for its job (``runner.sandbox_main``).

With ``native`` (the host compiled ``pid1.c`` and ``spawn.c``: ``native.py``), pid 1 is not a
copy of this interpreter: ``spawn.c`` clones it into the same fresh namespaces sharing this
process's memory until its exec (no page tables copied, no copy-on-write faults, no teardown of a
copy), it joins the cgroups and forks the program's process (a copy of this server, as before),
then exec's ``pid1.c``, which makes the mounts, takes a uid of its own (never the program's), drops
every capability, installs the seccomp filter and supervises the program (``spawn.c``: ``lintseq_serve``). The
program's process drops to the sample's uid itself and waits for pid 1's "go", in C before it
returns to Python (``spawn.c``: ``program_setup``). The loop itself is C too (``lintseq_serve``):
after each fork the server writes to a few pages, not to the Python objects a loop here touched.

Runs on a bare interpreter: imports nothing from lintseq.
"""

import ctypes
import gc
import importlib.util
import json
import os
import select
import signal
import sys

_libc = ctypes.CDLL(None, use_errno=True)
_api = ctypes.PyDLL(None, use_errno=True)  # holds the GIL across the call: clone must not drop it
_SYS_CLONE = {"x86_64": 56, "aarch64": 220}[os.uname().machine]
_CLONE_PIDFD = 0x1000
_NEW = 0x20000000 | 0x00020000 | 0x08000000 | 0x40000000 | 0x04000000 | 0x02000000  # PID NS IPC NET UTS CGROUP
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 1, 2, 4, 8, 32, 4096, 0x4000, 0x40000


def _load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


runner = _load("runner")  # imported here, once: every sandbox starts with it loaded
_KEEP = json.loads(sys.argv[2]) if __name__ == "__main__" and len(sys.argv) > 2 else []
"""Read-only paths under /tmp that every sandbox sees again over its fresh /tmp (a venv there)."""
_HERE = os.path.dirname(os.path.abspath(__file__))
_NATIVE = ctypes.PyDLL(os.path.join(_HERE, "spawn.so"), use_errno=True) \
    if __name__ == "__main__" and len(sys.argv) > 3 and sys.argv[3] == "native" else None
"""``spawn.c``, when the host compiled it (``native.py``): sandboxes then get ``pid1.c`` as pid 1."""
_PID1 = os.path.join(_HERE, "pid1").encode()


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
    # what the interpreter needs under /tmp (a venv there), held before the fresh tmpfs hides it
    held = [(path, os.open(path, os.O_PATH)) for path in _KEEP if os.path.exists(path)]
    _mount(b"proc", b"/proc", b"proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)  # this PID namespace's only
    _mount(b"/proc/sys", b"/proc/sys", None, _MS_BIND | _MS_REC)  # read-only, as bubblewrap keeps it
    _mount(None, b"/proc/sys", None, _MS_BIND | _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
    _mount(b"devpts", b"/dev/pts", b"devpts", _MS_NOSUID | _MS_NOEXEC, b"newinstance,ptmxmode=0666,mode=620")
    _mount(b"tmpfs", b"/tmp", b"tmpfs", _MS_NOSUID | _MS_NODEV, size)
    _mount(b"tmpfs", b"/dev/shm", b"tmpfs", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, size)
    for path, fd in held:  # bound back read-only, with what is shadowed inside it; root's, so it stays
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.makedirs(path, 0o755, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), 0o755, exist_ok=True)
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))
        _mount(b"/proc/self/fd/%d" % fd, path.encode(), None, _MS_BIND | _MS_REC)
        _mount(None, path.encode(), None, _MS_BIND | _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)
        os.close(fd)
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


def _clone(flags):
    """fork() into new namespaces in one step (the raw clone system call, with Python's own fork
    bookkeeping around it, as os.fork does): (pid, pidfd) in this process, (0, -1) in the child."""
    pidfd = ctypes.c_int(-1)
    _api.PyOS_BeforeFork()
    pid = _api.syscall(ctypes.c_long(_SYS_CLONE), ctypes.c_ulong(flags | _CLONE_PIDFD | signal.SIGCHLD), None,
                       ctypes.byref(pidfd), None, None)
    if pid == 0:
        _api.PyOS_AfterFork_Child()
        return 0, -1
    err = ctypes.get_errno()
    _api.PyOS_AfterFork_Parent()
    if pid < 0:
        raise OSError(err, f"clone: {os.strerror(err)}")
    return pid, pidfd.value


def _spawn(req, fds, filter_):
    """One sandbox: its pid 1 made straight into fresh namespaces; returns its pidfd."""
    job, reply, _kill, *cgroups = fds
    pid, pidfd = _clone(_NEW)
    if pid:
        return pidfd
    try:  # the sandbox's pid 1, still root here, with this server's capabilities
        _libc.prctl(15, b"lintseq-pid1", 0, 0, 0)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in cgroups:  # "0": the writing process; everything the sandbox starts is born inside
            os.write(fd, b"0")
        _pid1(req, job, reply, filter_)
    finally:
        os._exit(0)


def _program(job, w, cw):
    """The program's process under the native pid 1, which ``spawn.c`` set up before handing it
    back (its own descriptors only, the sample's uid, no capabilities, seccomp, pid 1's "go"):
    Python's own signal dispositions as on a plain interpreter, then the job."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    runner.program_main(job, w, cw, runner.native_control)


class _Request(ctypes.Structure):
    """``struct request`` of ``spawn.c``: what ``lintseq_serve`` hands each program's process."""
    _fields_ = [(name, ctypes.c_int) for name in ("uid", "init_uid", "max_procs", "tmp_mb", "job", "report", "control",
                                                  "go")]


def _serve_native(filter_):
    """The native loop (``spawn.c``: ``lintseq_serve``): returns in the server when the host is
    gone; in each program's process it sets that process up and runs its job, never returning."""
    out = _Request()
    keep = [path.encode() for path in _KEEP]
    c_keep = (ctypes.c_char_p * (len(keep) + 1))(*keep, None)
    hooks = [ctypes.cast(getattr(_api, name), ctypes.c_void_p) for name in ("PyOS_BeforeFork", "PyOS_AfterFork_Parent")]
    if _NATIVE.lintseq_serve(0, ctypes.c_ulong(_NEW), _PID1, filter_.hex().encode(), filter_, len(filter_), c_keep,
                             len(keep), *hooks, ctypes.byref(out)) != 0:
        return
    _api.PyOS_AfterFork_Child()
    try:
        _program(out.job, out.report, out.control)
    finally:
        os._exit(0)


def _parse(msg):
    uid, init_uid, max_procs, tmp_mb = (int(v) for v in msg.split())
    return {"uid": uid, "init_uid": init_uid, "max_procs": max_procs, "tmp_mb": tmp_mb}


def main():
    """``forkserver.py FILTER_HEX [KEEP_JSON [native]]``: serve requests on fd 0 until it closes (the host is gone).
    Each request's kill pipe is watched: when the host closes it (the sample is done, hung, or the
    host died), that sandbox's pid 1 gets SIGKILL, which ends every process of its namespace."""
    filter_ = bytes.fromhex(sys.argv[1])
    _libc.prctl(15, b"lintseq-server", 0, 0, 0)  # PR_SET_NAME: what ps and perf show
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # sandboxes' pid 1s are reaped by the kernel
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.clear()  # bubblewrap cleared it; this is all every sandbox's processes inherit
    os.environ.update(runner.sandbox_env())
    runner.skip_thread_reset()
    for lib, name in ((_libc, "capset"), (_libc, "prctl"), (runner._LIBC, "prctl"), (_api, "PyOS_AfterFork_Child")):
        getattr(lib, name)  # looked up (and cached by ctypes) here, once, not in every program's process
    runner.snapshot()
    gc.freeze()  # what is here now stays put: forked processes share it instead of copying it
    if _NATIVE:
        return _serve_native(filter_)
    import socket  # only here: with the native loop no sandbox carries it (with selectors and its
    # enums ~0.4 MB of the server's image: page tables every fork copies and every exit tears down)

    sock = socket.socket(fileno=0)
    poll, live = select.poll(), {}  # kill pipe -> the pidfd of that sandbox's pid 1
    poll.register(sock, select.POLLIN)
    while True:
        for fd, _ in poll.poll():
            if fd in live:
                pidfd = live.pop(fd)
                poll.unregister(fd)
                try:
                    signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                os.close(pidfd)
                os.close(fd)
                continue
            try:
                msg, fds, _, _ = socket.recv_fds(sock, 4096, 8)
            except OSError:
                return
            if not msg:
                return
            kill = fds[2] if len(fds) >= 3 else -1
            try:
                live[kill] = _spawn(_parse(msg), fds, filter_)
                poll.register(kill, select.POLLIN)
                fds.remove(kill)
            except (ValueError, OSError, IndexError, KeyError, TypeError):
                pass  # the host sees the reply pipe close and reports that sample's error
            finally:
                for fd in fds:
                    os.close(fd)


if __name__ == "__main__":
    main()
