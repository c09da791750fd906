"""Adversarial programs: each gets a verdict, none passes unless its tests ran and returned, and
the host is untouched afterwards. Every test here needs a working bubblewrap sandbox: it skips
with the reason where there is none (CI installs bubblewrap and sets LINTSEQ_REQUIRE=sandbox, so
there they run), and conftest's guard makes running them on the host impossible."""

import json
import os
import shutil
import subprocess
import sys
import uuid

import pytest

from helpers import Listener, write_jsonl

from lintseq.evaluate.sandbox import Limits, run_program

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytestmark = pytest.mark.usefixtures("sandbox")
TEST = {"kind": "asserts", "setup": "", "asserts": ["assert f() == 1"]}
FAST = Limits(timeout=3)


def verdict(program, limits=FAST, test=TEST):
    return run_program(program, test, limits)


def no_process_matching(token: str) -> bool:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return token not in out


def test_correct_program_passes_and_wrong_fails():
    assert verdict("def f():\n    return 1").status == "passed"
    assert verdict("def f():\n    return 2").status == "failed"
    assert verdict("def f(:\n").status == "error"


@pytest.mark.parametrize("program,expected", [
    ("while True:\n    pass", "timed_out"),
    ("import time\ntime.sleep(60)", "timed_out"),
    ("def f():\n    while True: pass", "timed_out"),
    ("x = bytearray(50 * 2**30)\ndef f():\n    return 1", "error"),
    ("import sys\nsys.exit(0)\ndef f():\n    return 1", "error"),
    ("import os\nos._exit(0)", "error"),
    ("def f():\n    import os\n    os._exit(0)", "error"),
    ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "error"),
])
def test_hangs_bombs_and_early_exits_never_pass(program, expected):
    assert verdict(program).status == expected


def test_printing_the_marker_or_forging_the_channel_does_not_pass():
    for prog in ["print('passed')\nimport os\nos._exit(0)",
                 "import os, json\nfor fd in range(3, 20):\n    try:\n        os.write(fd, json.dumps({'nonce': 'x', 'status': 'passed'}).encode())\n"
                 "    except OSError:\n        pass\nos._exit(0)"]:
        assert verdict(prog).status != "passed"


def test_patching_builtins_or_the_harness_does_not_pass():
    progs = [
        "import builtins\nbuiltins.AssertionError = None\nbuiltins.Exception = object\ndef f():\n    return 2",
        "import sys\nsys.modules['__main__']._run_tests = lambda *a: None\ndef f():\n    return 2",
        "import sys\nm = sys.modules['__main__']\nm._report = lambda fd, nonce, status, detail='': m._write(fd, b'')\ndef f():\n    return 2",
        # an exec that skips the tests: the harness must run them with the builtins as they were
        "import builtins\nreal = builtins.exec\n"
        "def skip(code, *a):\n    return None if getattr(code, 'co_filename', '') == 'test.py' else real(code, *a)\n"
        "builtins.exec = skip\ndef f():\n    return 2",
        # the tests' code comes precompiled from the host: a decoder the program patched never reads it
        "import marshal, binascii\nmarshal.loads = lambda b: compile('pass', 'test.py', 'exec')\n"
        "binascii.a2b_base64 = lambda s: b''\ndef f():\n    return 2",
    ]
    for prog in progs:
        assert verdict(prog).status == "failed", prog


def test_fork_storm_and_daemons_do_not_outlive_the_program():
    token = f"77{uuid.uuid4().int % 10**6}"
    storm = ("import os, subprocess\n"
             f"for _ in range(40):\n    subprocess.Popen(['sleep', '{token}'])\n"
             "pid = os.fork()\n"
             f"if pid == 0:\n    os.setsid()\n    os.execvp('sleep', ['sleep', '{token}1'])\n"
             "def f():\n    return 1")
    assert verdict(storm).status == "passed"  # its own tests did run and return
    assert no_process_matching(f"sleep {token}")


def test_host_files_home_and_tmp_are_untouched(tmp_path):
    home = os.path.expanduser("~")
    canary = os.path.join(home, f".lintseq-canary-{uuid.uuid4().hex}")
    outside = f"/tmp/lintseq-outside-{uuid.uuid4().hex}"
    repo_file = os.path.join(os.getcwd(), f"lintseq-escape-{uuid.uuid4().hex}")
    with open(canary, "w") as fh:
        fh.write("keep me")
    try:
        prog = ("import os, shutil\n"
                f"for p in [{canary!r}]:\n"
                "    try:\n        os.remove(p)\n    except OSError:\n        pass\n"
                f"shutil.rmtree({home!r}, ignore_errors=True)\n"
                f"for p in [{outside!r}, {repo_file!r}]:\n"
                "    try:\n        open(p, 'w').write('escaped')\n    except OSError:\n        pass\n"
                f"def f():\n    return int(not os.path.exists({canary!r}))")
        out = verdict(prog)
        assert out.status in ("passed", "failed")  # it ran; inside, home was a private tmpfs
        assert open(canary).read() == "keep me"
        assert not os.path.exists(outside) and not os.path.exists(repo_file)
    finally:
        os.remove(canary)


def test_network_to_localhost_is_cut_off():
    with Listener() as server:
        prog = ("import socket\n"
                "def f():\n"
                f"    s = socket.create_connection(('127.0.0.1', {server.port}), timeout=2)\n"
                "    s.sendall(b'leak')\n"
                "    return 1")
        assert verdict(prog).status == "failed"
    assert server.received == []


def test_killing_the_parent_leaves_the_evaluator_alive():
    prog = ("import os, signal\n"
            "for target in (os.getppid(), 1, -1):\n"
            "    try:\n        os.kill(target, signal.SIGKILL)\n    except OSError:\n        pass\n"
            "def f():\n    return 2")
    sentinel = subprocess.Popen(["sleep", "60"])
    try:
        assert verdict(prog).status in ("failed", "error")
        assert sentinel.poll() is None  # a host process the program tried to kill (-1) lives on
        assert verdict("def f():\n    return 1").status == "passed"
    finally:
        sentinel.kill()
        sentinel.wait()


def test_flooding_output_and_filling_the_disk_are_bounded():
    flood = "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)"
    assert verdict(flood).status == "timed_out"
    before = os.statvfs("/tmp").f_bavail
    fill = ("import os\n"
            "with open('big.bin', 'wb') as fh:\n"
            "    for _ in range(10**6):\n        fh.write(b'0' * 2**20)\n"
            "def f():\n    return 1")
    out = verdict(fill)
    assert out.status in ("error", "timed_out")
    after = os.statvfs("/tmp").f_bavail
    assert (before - after) * os.statvfs("/tmp").f_frsize < 64 << 20


def test_nothing_a_program_leaves_reaches_the_next_one():
    from lintseq.evaluate.sandbox import SandboxPool

    first = ("import os, subprocess\n"
             "open('/tmp/secret', 'w').write('x')\nopen(os.path.expanduser('~/secret'), 'w').write('x')\n"
             "open('/dev/shm/secret', 'w').write('x')\nopen('left.txt', 'w').write('x')\n"
             "if os.fork() == 0:\n    os.setsid()\n    os.execvp('sleep', ['sleep', '999'])\n"
             "def f():\n    return 1")
    second = ("import os\n"
              "def f():\n"
              "    leftovers = [p for p in ('/tmp/secret', os.path.expanduser('~/secret'), '/dev/shm/secret', 'left.txt') if os.path.exists(p)]\n"
              "    others = [p for p in os.listdir('/proc') if p.isdigit() and int(p) not in (1, os.getpid(), os.getppid())]\n"
              "    assert not leftovers and not others, (leftovers, others)\n"
              "    return 1")
    with SandboxPool(1, FAST) as pool:
        assert pool.run(first, TEST).status == "passed"
        out = pool.run(second, TEST)
        assert out.status == "passed", out.detail


def test_a_venv_under_tmp_is_seen_read_only_by_every_sandbox(sandbox, tmp_path):
    """Each sandbox mounts a fresh /tmp; an interpreter whose venv lies under /tmp must still find
    its site-packages and executable there (bound back read-only), and a sample cannot change it."""
    import site
    import tempfile

    venv = tempfile.mkdtemp(prefix="lintseq-venv-", dir="/tmp")
    os.chmod(venv, 0o755)  # as `python -m venv /tmp/x` makes it (mkdtemp's 0700 keeps every other uid out)
    try:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True, timeout=120)
        purelib = subprocess.run([os.path.join(venv, "bin", "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        here = [p for p in site.getsitepackages() + [os.path.join(ROOT, "src")] if os.path.isdir(p)]
        with open(os.path.join(purelib, "lintseq_host.pth"), "w") as fh:  # lintseq and its needs, for the host side
            fh.write("\n".join(here) + "\n")
        with open(os.path.join(purelib, "tmpvenv_marker.py"), "w") as fh:
            fh.write("VALUE = 42\n")
        program = ("    import sys, subprocess, tmpvenv_marker\n"
                   "    assert tmpvenv_marker.VALUE == 42\n"
                   "    assert subprocess.run([sys.executable, '-c', 'print(1)'], capture_output=True).stdout == b'1\\n'\n"
                   "    try:\n"
                   "        open(tmpvenv_marker.__file__, 'a').write('VALUE = 0\\n')\n"
                   "        return False\n"
                   "    except OSError:\n"
                   "        pass\n"
                   "    for i in range(len(numbers)):\n"
                   "        for j in range(len(numbers)):\n"
                   "            if i != j and abs(numbers[i] - numbers[j]) < threshold:\n"
                   "                return True\n"
                   "    return False\n")
        samples = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "HumanEval/0", "completion": program}] * 2)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        out = subprocess.run([os.path.join(venv, "bin", "python"), "-m", "lintseq.cli", "evaluate", str(samples), "-b", "humaneval",
                              "--limit-tasks", "1", "--k", "1", "--workers", "1", "--json"],
                             capture_output=True, text=True, env=env, timeout=300)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["verdicts"] == {"passed": 2}, open(f"{samples}_results.jsonl").read()
        assert open(os.path.join(purelib, "tmpvenv_marker.py")).read() == "VALUE = 42\n"
    finally:
        shutil.rmtree(venv, ignore_errors=True)


def test_threads_and_forked_processes_behave_as_on_a_plain_interpreter():
    """The fork server makes threading's after-fork hook a no-op for its own forks (none of its
    processes has a second thread); the program's process has the program's thread, so there the
    hook must work again: a child the program forks joins cleanly (multiprocessing's fork start
    method joins every thread it knows of at exit, which without the hook hangs on the forking
    thread itself), and threads started in a child run."""
    program = ("import multiprocessing as mp, threading\n"
               "def work(q):\n"
               "    t = threading.Thread(target=q.put, args=(threading.main_thread().is_alive(),))\n"
               "    t.start(); t.join()\n"
               "def f():\n"
               "    q = mp.get_context('fork').Queue()\n"
               "    p = mp.get_context('fork').Process(target=work, args=(q,))\n"
               "    p.start(); p.join(3)\n"
               "    return 1 if p.exitcode == 0 and q.get(timeout=1) is True else p.exitcode\n")
    out = verdict(program, Limits(timeout=10))
    assert out.status == "passed", out.detail
