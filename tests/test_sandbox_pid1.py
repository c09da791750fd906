"""The sandbox's pid 1, both kinds: the native init (``pid1.c``, started by ``spawn.c`` when a C
compiler is found) and the Python one it replaces (``forkserver._pid1``, the fallback). Each test
is a hostile program that would pass, or hurt the run, if pid 1 were within its reach, held a
descriptor it could use, or left zombies. They only ever run inside a sandbox (the ``sandbox``
fixture skips, or under LINTSEQ_REQUIRE fails, where the probe does not pass)."""

import os

import pytest

from lintseq.evaluate import native
from lintseq.evaluate.isolation import privileged
from lintseq.evaluate.sandbox import Limits, run_program

pytestmark = pytest.mark.usefixtures("sandbox")
TEST = {"kind": "asserts", "setup": "", "asserts": ["assert f() == 1"]}
FAST = Limits(timeout=8)
LIBC = "import ctypes, os, signal\nlibc = ctypes.CDLL(None, use_errno=True)\n"


@pytest.fixture(params=["native", "python"])
def pid1(request, monkeypatch):
    """Which pid 1 the sandboxes get (the fork server is chosen per kind: ``server.server``)."""
    if request.param == "native":
        if native.build() is None:
            pytest.skip("no C compiler here: only the Python pid 1 runs")
        monkeypatch.setenv("LINTSEQ_NATIVE", "1")
    else:
        monkeypatch.setenv("LINTSEQ_NATIVE", "0")
    return request.param


def run(program, limits=FAST):
    out = run_program(program, TEST, limits)
    return out.status, out.detail


def test_the_native_pid_1_runs_where_a_compiler_is(pid1):
    want = "/run/lintseq/pid1" if pid1 == "native" else "/run/lintseq/forkserver.py"
    prog = ("cmd = open('/proc/1/cmdline', 'rb').read().split(bytes(1))\n"
            "comm = open('/proc/1/comm').read().strip()\n"
            f"def f():\n    return 1 if {want.encode()!r} in cmd and comm == 'lintseq-pid1' else (cmd, comm)")
    assert run(prog) == ("passed", "")


def test_pid_1_survives_every_signal_and_kill_minus_one(pid1):
    prog = (LIBC + "sent = []\n"
            "for sig in range(1, 65):\n"
            "    if sig in (32, 33):\n        continue\n"
            "    try:\n        os.kill(1, sig)\n        sent.append(sig)\n    except OSError:\n        pass\n"
            "try:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass\n"
            "def f():\n    return 1")
    # its tests ran and reported after all of that: pid 1 (which writes the reply) is alive
    assert run(prog) == ("passed", "")


def test_pid_1_cannot_be_read_traced_or_changed(pid1):
    prog = (LIBC + "reached = []\n"
            "for path in ('/proc/1/environ', '/proc/1/mem', '/proc/1/maps', '/proc/1/fd/0', '/proc/1/fd/1',\n"
            "             '/proc/1/fd/3', '/proc/1/fd/4', '/proc/1/fd/5', '/proc/1/pagemap', '/proc/1/stack'):\n"
            "    try:\n        open(path, 'rb').read(1)\n        reached.append(path)\n    except Exception:\n        pass\n"
            "for path in ('/proc/1/fd', '/proc/1/fdinfo', '/proc/1/cwd', '/proc/1/root', '/proc/1/map_files'):\n"
            "    try:\n        os.listdir(path)\n        reached.append(path)\n    except Exception:\n        pass\n"
            "if libc.ptrace(16, 1, None, None) == 0 or libc.ptrace(0x4206, 1, None, None) == 0:  # ATTACH, SEIZE\n"
            "    reached.append('ptrace')\n"
            "buf = ctypes.create_string_buffer(8)\n"
            "class Iov(ctypes.Structure):\n    _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]\n"
            "mine, theirs = Iov(ctypes.addressof(buf), 8), Iov(0x400000, 8)\n"
            "if libc.process_vm_readv(1, ctypes.byref(mine), 1, ctypes.byref(theirs), 1, 0) > 0:\n"
            "    reached.append('process_vm_readv')\n"
            "fd = libc.syscall(434, 1, 0)  # pidfd_open\n"
            "if fd >= 0 and any(libc.syscall(438, fd, n, 0) >= 0 for n in range(8)):  # pidfd_getfd\n"
            "    reached.append('pidfd_getfd')\n"
            "import resource\n"
            "try:\n    resource.prlimit(1, resource.RLIMIT_NOFILE, (1, 1))\n    reached.append('prlimit')\nexcept OSError:\n    pass\n"
            "status = dict(l.split(':', 1) for l in open('/proc/1/status').read().splitlines() if ':' in l)\n"
            "facts = (status['CapEff'].strip(), status['CapPrm'].strip(), status['NoNewPrivs'].strip(), status['Seccomp'].strip())\n"
            "uid = int(status['Uid'].split()[0])\n"
            "def f():\n    return 1 if not reached else reached\n"
            "def g():\n    return facts, uid, os.getuid()\n")
    test = {"kind": "asserts", "setup": "", "asserts": ["assert f() == 1", "print(g())"]}
    out = run_program(prog, test, FAST)
    assert out.status == "passed", out.detail
    if pid1 == "native":  # no capability, no new privileges, the seccomp filter; as root, a uid that is not the program's
        facts = ("0000000000000000", "0000000000000000", "1", "2")
        prog_uid = (prog + "def h():\n    return 1 if g()[0] == %r and (g()[1] != g()[2] or not %r) else g()\n"
                    % (facts, privileged()))
        out = run_program(prog_uid, {"kind": "asserts", "setup": "", "asserts": ["assert h() == 1, h()"]}, FAST)
        assert out.status == "passed", out.detail


def test_the_program_runs_with_no_privilege(pid1):
    # what the program's process itself holds, whichever code set it up (Python, or spawn.c
    # with the native pid 1): no capability, no new privileges, the seccomp filter, not
    # dumpable, not root, in /tmp
    prog = (LIBC + "status = dict(l.split(':', 1) for l in open('/proc/self/status').read().splitlines() if ':' in l)\n"
            "facts = [status[k].strip() for k in ('CapEff', 'CapPrm', 'CapInh', 'CapBnd', 'CapAmb', 'NoNewPrivs', "
            "'Seccomp')] + [libc.prctl(3, 0, 0, 0, 0), os.getuid() != 0 or not %r, os.getcwd().startswith('/tmp')]\n"
            "def f():\n    return 1 if facts[:2] == ['0000000000000000'] * 2 and facts[2] == facts[4] == '0000000000000000' "
            "and facts[5:] == ['1', '2', 0, True, True] else facts" % privileged())
    assert run(prog) == ("passed", "")


def test_the_program_holds_no_descriptor_but_its_report(pid1):
    # the program's process is a copy of the fork server, which holds its socket and other
    # sandboxes' pipes and pidfds: none may survive into the program
    prog = ("import os, stat\nkinds = {}\n"
            "for name in os.listdir('/proc/self/fd'):\n"
            "    try:\n        st = os.fstat(int(name))\n    except OSError:\n        continue\n"
            "    kinds[int(name)] = 'null' if stat.S_ISCHR(st.st_mode) else 'pipe' if stat.S_ISFIFO(st.st_mode) else "
            "'dir' if stat.S_ISDIR(st.st_mode) else 'other'\n"
            "ok = [k for k in kinds.values() if k == 'pipe'] == ['pipe'] and 'other' not in kinds.values() and len(kinds) <= 5\n"
            "def f():\n    return 1 if ok else kinds")
    assert run(prog) == ("passed", "")


ZOMBIES = ("import os, time\n"
           "def orphans(n):\n"
           "    for _ in range(n):\n"
           "        pid = os.fork()\n"
           "        if pid == 0:  # a child that leaves a grandchild behind, which exits at once\n"
           "            if os.fork() == 0:\n                os._exit(0)\n"
           "            os._exit(0)\n"
           "        os.waitpid(pid, 0)\n"
           "def zombies():\n"
           "    found = []\n"
           "    for p in os.listdir('/proc'):\n"
           "        try:\n            if p.isdigit() and open(f'/proc/{p}/stat').read().rsplit(')', 1)[1].split()[0] == 'Z':\n"
           "                found.append(p)\n"
           "        except OSError:\n            pass\n"
           "    return found\n")


def test_the_native_pid_1_reaps_orphans(pid1):
    """Orphans come to pid 1, which must reap them: zombies would fill the process cap."""
    if pid1 == "python":
        pytest.skip("the Python pid 1 waits only for the program's process (its zombies end with the sandbox)")
    prog = (ZOMBIES + "orphans(20)\n"
            "deadline = time.monotonic() + 3\n"
            "while zombies() and time.monotonic() < deadline:\n    time.sleep(0.02)\n"
            "left = zombies()\n"
            "orphans(150)  # far more than the process cap over the run, never more than 3 at once\n"
            "def f():\n    return 1 if not left else left")
    assert run(prog, Limits(timeout=20, max_processes=64)) == ("passed", "")


def test_without_a_compiler_the_python_pid_1_runs(monkeypatch):
    """No C compiler (here: one that always fails): nothing is built, the fork server keeps the
    Python pid 1, and programs run as before."""
    monkeypatch.setenv("CC", "/bin/false")
    monkeypatch.setenv("LINTSEQ_NATIVE", "1")
    monkeypatch.setenv("LINTSEQ_CACHE", os.path.join(os.environ["LINTSEQ_CACHE"], "no-compiler"))
    native.build.cache_clear()
    try:
        assert native.paths() is None
        prog = ("cmd = open('/proc/1/cmdline', 'rb').read().split(bytes(1))\n"
                "def f():\n    return 1 if b'/run/lintseq/forkserver.py' in cmd else cmd")
        assert run(prog) == ("passed", "")
        assert run("def f():\n    return 2")[0] == "failed"
    finally:
        native.build.cache_clear()


def test_a_cache_others_can_write_is_not_used(monkeypatch, tmp_path):
    """pid 1 starts as root in the sandbox: a helper from a cache another user could have written
    is never run (the Python pid 1 is used instead)."""
    if native.build() is None:
        pytest.skip("no C compiler here")
    shared = tmp_path / "shared"
    monkeypatch.setenv("LINTSEQ_CACHE", str(shared))
    native.build.cache_clear()
    try:
        assert native.build() is not None  # private: built and used
        native.build.cache_clear()
        os.chmod(shared / "native", 0o777)
        assert native.build() is None
        os.chmod(shared / "native", 0o700)
        native.build.cache_clear()
        helper = next((shared / "native").glob("*/pid1"))
        os.chmod(helper, 0o777)
        assert native.build() is None
    finally:
        native.build.cache_clear()
