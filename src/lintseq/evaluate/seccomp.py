"""The seccomp filter every sandbox runs under (given to bubblewrap with ``--seccomp FD``).

It denies (EPERM) what a model-written program never needs and what would let it reach past its
sandbox: new namespaces of any kind (``unshare``, ``setns``, ``clone`` with a ``CLONE_NEW*``
flag; ``clone3`` answers ENOSYS so that libc falls back to ``clone``, whose flags a filter can
read), mounting, ``ptrace`` and reading or writing other processes' memory or descriptors,
changing another process's rlimits (``prlimit64`` on any pid but 0), keyrings, BPF, io_uring,
perf events, userfaultfd, and the kernel administration calls. Other ABIs (i386, x32) on the
same machine are killed outright, so they cannot be used to dodge the table.

Built by hand as classic BPF (no libseccomp binding needed): x86_64 and aarch64.

    >>> len(program()) % 8 == 0  # doctest: +SKIP
    True
"""

from __future__ import annotations

import platform
import struct

# what a filter returns
_ALLOW, _KILL = 0x7FFF0000, 0x80000000
_EPERM, _ENOSYS = 0x00050000 | 1, 0x00050000 | 38
# classic BPF opcodes: load word at absolute offset, jump if equal / if all bits set / if >=, return
_LD, _JEQ, _JSET, _JGE, _RET = 0x20, 0x15, 0x45, 0x35, 0x06
_NS_FLAGS = 0x7E020080  # CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET and CLONE_NEWTIME

_DENIED = ("ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
           "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsconfig",
           "fsmount", "fspick", "mount_setattr", "unshare", "setns", "bpf", "perf_event_open", "userfaultfd",
           "io_uring_setup", "io_uring_enter", "io_uring_register", "keyctl", "add_key", "request_key",
           "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot",
           "swapon", "swapoff", "acct", "quotactl", "syslog", "open_by_handle_at", "name_to_handle_at")

# (audit arch, {syscall: number}) per machine
_TABLES = {
    "x86_64": (0xC000003E, dict(
        ptrace=101, process_vm_readv=310, process_vm_writev=311, pidfd_getfd=438, kcmp=312, mount=165,
        umount2=166, pivot_root=155, chroot=161, move_mount=429, open_tree=428, fsopen=430, fsconfig=431,
        fsmount=432, fspick=433, mount_setattr=442, unshare=272, setns=308, bpf=321, perf_event_open=298,
        userfaultfd=323, io_uring_setup=425, io_uring_enter=426, io_uring_register=427, keyctl=250, add_key=248,
        request_key=249, kexec_load=246, kexec_file_load=320, init_module=175, finit_module=313,
        delete_module=176, reboot=169, swapon=167, swapoff=168, acct=163, quotactl=179, syslog=103,
        open_by_handle_at=304, name_to_handle_at=303, clone=56, clone3=435, prlimit64=302)),
    "aarch64": (0xC00000B7, dict(
        ptrace=117, process_vm_readv=270, process_vm_writev=271, pidfd_getfd=438, kcmp=272, mount=40,
        umount2=39, pivot_root=41, chroot=51, move_mount=429, open_tree=428, fsopen=430, fsconfig=431,
        fsmount=432, fspick=433, mount_setattr=442, unshare=97, setns=268, bpf=280, perf_event_open=241,
        userfaultfd=282, io_uring_setup=425, io_uring_enter=426, io_uring_register=427, keyctl=219, add_key=217,
        request_key=218, kexec_load=104, kexec_file_load=294, init_module=105, finit_module=273,
        delete_module=106, reboot=142, swapon=224, swapoff=225, acct=89, quotactl=60, syslog=116,
        open_by_handle_at=265, name_to_handle_at=264, clone=220, clone3=435, prlimit64=261)),
}


def supported() -> bool:
    return platform.machine() in _TABLES


def _op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def _action(name: str) -> list[bytes]:
    """What a filtered call gets, as instructions ending in a return."""
    if name == "clone3":  # ENOSYS: libc falls back to clone, whose flags a filter can read
        return [_op(_RET, _ENOSYS)]
    if name == "clone":  # flags are the first argument (low word at offset 16)
        return [_op(_LD, 16), _op(_JSET, _NS_FLAGS, 0, 1), _op(_RET, _EPERM), _op(_RET, _ALLOW)]
    if name == "prlimit64":  # only on itself: pid 0, both words of the first argument zero
        return [_op(_LD, 16), _op(_JEQ, 0, 0, 2), _op(_LD, 20), _op(_JEQ, 0, 1, 0), _op(_RET, _EPERM),
                _op(_RET, _ALLOW)]
    return [_op(_RET, _EPERM)]


def _search(calls: list[tuple[int, str]]) -> list[bytes]:
    """A binary search over the sorted ``(number, name)`` calls, on the call number in the
    accumulator: ~6 comparisons to any verdict instead of one per listed call. The kernel runs
    the filter on every system call, and on attaching it runs it once for every call number to
    cache the ones always allowed: with a linear list that was ~2% of all the evaluator's CPU
    (two filters a sandbox)."""
    if len(calls) <= 4:
        ops: list[bytes] = []
        for number, name in calls:
            act = _action(name)
            ops += [_op(_JEQ, number, 0, len(act))] + act
        return ops + [_op(_RET, _ALLOW)]
    mid = len(calls) // 2
    low, high = _search(calls[:mid]), _search(calls[mid:])
    assert len(low) < 256  # a jump's offset is one byte
    return [_op(_JGE, calls[mid][0], len(low), 0)] + low + high


def program(machine: str | None = None) -> bytes:
    """The filter as bytes (``struct sock_filter`` array), for this machine's architecture (or
    ``machine``'s: the tests build both)."""
    machine = machine or platform.machine()
    arch, nr = _TABLES[machine]
    ops = [_op(_LD, 4), _op(_JEQ, arch, 1, 0), _op(_RET, _KILL), _op(_LD, 0)]
    if machine == "x86_64":  # the x32 ABI's numbers have bit 30 set
        ops += [_op(_JGE, 0x40000000, 0, 1), _op(_RET, _KILL)]
    ops += _search(sorted((nr[name], name) for name in (*_DENIED, "clone3", "clone", "prlimit64")))
    return b"".join(ops)
