"""The seccomp filter, run here by a small classic-BPF interpreter on every call number of both
architectures it is built for: the verdict of each call matches the policy written out below
(independently of how the filter is laid out). No sandbox needed."""

import struct

import pytest

from lintseq.evaluate import seccomp

ALLOW, KILL, EPERM, ENOSYS = 0x7FFF0000, 0x80000000, 0x00050001, 0x00050026
NS_FLAGS = 0x7E020080
ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}


def run(filter_: bytes, nr: int, arch: int, args=(0,) * 6) -> int:
    """Classic BPF as seccomp runs it, on ``struct seccomp_data`` (nr, arch, ip, args[6])."""
    data = struct.pack("=iIQ6Q", nr, arch, 0, *args)
    ops = [struct.unpack_from("=HBBI", filter_, 8 * i) for i in range(len(filter_) // 8)]
    acc, pc = 0, 0
    while True:
        code, jt, jf, k = ops[pc]
        if code == 0x20:  # LD W ABS
            acc = struct.unpack_from("=I", data, k)[0]
        elif code == 0x06:  # RET K
            return k
        elif code in (0x15, 0x35, 0x45):  # JEQ, JGE, JSET (K)
            hit = acc == k if code == 0x15 else acc >= k if code == 0x35 else bool(acc & k)
            pc += jt if hit else jf
        else:
            raise AssertionError(f"unexpected instruction {code:#x}")
        pc += 1


def policy(machine: str, nr: int, arch: int, args) -> int:
    if arch != ARCH[machine] or (machine == "x86_64" and nr >= 0x40000000):
        return KILL
    table = seccomp._TABLES[machine][1]
    name = next((n for n, v in table.items() if v == nr), None)
    if name in seccomp._DENIED:
        return EPERM
    if name == "clone3":
        return ENOSYS
    if name == "clone":
        return EPERM if args[0] & NS_FLAGS else ALLOW
    if name == "prlimit64":
        return ALLOW if args[0] == 0 else EPERM
    return ALLOW


@pytest.mark.parametrize("machine", sorted(seccomp._TABLES))
def test_every_call_gets_the_policy_verdict(machine):
    filter_ = seccomp.program(machine)
    arch = ARCH[machine]
    other = ARCH["aarch64" if machine == "x86_64" else "x86_64"]
    args_variants = [(0,) * 6, (0x11,) + (0,) * 5, (0x40000000,) + (0,) * 5, (0x10000000,) + (0,) * 5,
                     (1,) + (0,) * 5, (1 << 32,) + (0,) * 5, (0x00000100 | 0x01000000,) + (0,) * 5]
    for nr in [*range(0, 1100), 0x40000000 + 1, 0x7FFFFFFF]:
        for args in args_variants:
            assert run(filter_, nr, arch, args) == policy(machine, nr, arch, args), (nr, args)
        assert run(filter_, nr, other) == KILL


def test_every_denied_call_is_in_both_tables():
    for machine, (_, table) in seccomp._TABLES.items():
        assert set(seccomp._DENIED) <= set(table), machine
