"""Stopping when asked: SIGINT / SIGTERM stop a command, keep what finished (a rerun resumes),
and nothing it started outlives it, also when it is killed with SIGKILL.

Every case runs the real command in a subprocess and sends it real signals. The assertions are
about the mechanism (the exit status a signal gives, the processes that are gone, the files
kept, what the rerun reused), never about how many seconds a loaded machine took: a generous
deadline only keeps a broken run from hanging the suite.
"""

import glob
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from helpers import run_cli, humaneval_programs, write_jsonl

DEADLINE = 120  # seconds; only a hang reaches it
CODE = {signal.SIGINT: 130, signal.SIGTERM: 143}


def start(*args, cwd=None, env=None):
    env = {**os.environ, **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "lintseq.cli", *map(str, args)], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.split("/")[2]))
    out, todo = set(), [pid]
    while todo:
        for kid in children.get(todo.pop(), []):
            out.add(kid)
            todo.append(kid)
    return out


def alive(pids) -> set[int]:
    """The pids still running (zombies count as gone)."""
    out = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                if fh.read().rsplit(")", 1)[1].split()[0] != "Z":
                    out.add(pid)
        except OSError:
            pass
    return out


def wait_for(predicate, what: str):
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def stop(proc, sig) -> str:
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=DEADLINE)
    assert proc.returncode == CODE[sig], (proc.returncode, err)
    last = [ln for ln in err.splitlines() if ln.strip()][-1]
    assert "interrupted" in last and "Traceback" not in err, err
    return last


def lines(path) -> int:
    try:
        with open(path) as fh:
            return sum(1 for _ in fh)
    except OSError:
        return 0


@pytest.fixture
def pairs(tmp_path):
    progs = humaneval_programs()[:80]
    return write_jsonl(tmp_path / "pairs.jsonl", [{"instruction": f"Task {i}.", "response": p} for i, p in enumerate(progs)])


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_generate_stops_keeps_finished_programs_and_resumes(pairs, tmp_path, sig):
    out = tmp_path / "out.jsonl"
    args = ("generate", pairs, "-o", out, "--workers", "2", "--linter", "fast", "-s", "5", "-q")
    proc = start(*args)
    wait_for(lambda: lines(out) >= 5 or proc.poll() is not None, "the first records")
    assert proc.poll() is None, "the run finished before it could be interrupted"
    workers = descendants(proc.pid)
    assert len(workers) == 2
    stop(proc, sig)
    assert not alive(workers), "a worker outlived its parent"
    kept = lines(out)
    assert kept >= 5 and kept % 5 == 0  # whole programs only
    again = start(*args[:-1], "--json")
    summary = json.loads(again.communicate(timeout=DEADLINE)[0])
    assert again.returncode == 0 and summary["resumed_programs"] == kept // 5 and summary["programs_in"] == 80


def test_generate_workers_and_their_temp_folders_go_when_the_parent_is_killed(pairs, tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out = tmp_path / "out.jsonl"
    proc = start("generate", pairs, "-o", out, "--workers", "2", "--linter", "pylint", "-q", env={"TMPDIR": str(tmp)})
    wait_for(lambda: lines(out) >= 5 or proc.poll() is not None, "the first records")
    workers = descendants(proc.pid)
    assert len(workers) == 2 and glob.glob(str(tmp / "lintseq-pylint-*"))
    proc.kill()
    proc.communicate(timeout=DEADLINE)
    wait_for(lambda: not alive(workers), "the workers to die with their parent")
    wait_for(lambda: not glob.glob(str(tmp / "lintseq-pylint-*")), "the workers' pylint folders to be removed")


def test_generate_leaves_no_pylint_folder_after_a_normal_run(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    src = write_jsonl(tmp_path / "in.jsonl", [{"instruction": "C.", "response": "class A:\n    x = 1\n"}] * 4)
    for workers in ("1", "2"):
        proc = start("generate", src, "-o", tmp_path / f"o{workers}.jsonl", "--workers", workers, "--linter", "pylint",
                     "-q", env={"TMPDIR": str(tmp)})
        assert proc.wait(timeout=DEADLINE) == 0
    assert os.listdir(tmp) == []


LOOP = "    while True:\n        pass\n"


# SIGTERM in the default run; SIGINT (17 s more) with -m slow: ``sigterm_as_interrupt`` turns both
# into the same KeyboardInterrupt before evaluate sees them, and the generate test above runs both
@pytest.mark.parametrize("sig", [pytest.param(signal.SIGINT, marks=pytest.mark.slow), signal.SIGTERM])
def test_evaluate_stops_its_sandboxes_keeps_verdicts_and_resumes(sandbox, tmp_path, sig):
    from lintseq.tasks import load_benchmark

    tasks = list(load_benchmark("humaneval").values())[:4]
    good = [t.reference[len(t.code_prompt):] for t in tasks[:2]]
    rows = [{"task_id": t.task_id, "completion": c} for t, c in zip(tasks, good + [LOOP, LOOP])]
    samples = write_jsonl(tmp_path / "s.jsonl", rows)
    args = ("evaluate", samples, "--allow-partial", "--k", "1", "--workers", "2", "--timeout", "8", "--json")
    proc = start(*args)
    # both workers busy with the endless programs: the two good rows have finished by then
    wait_for(lambda: _busy(proc.pid) >= 2 or proc.poll() is not None, "both sandboxes running the endless programs")
    assert proc.poll() is None
    sandboxes = descendants(proc.pid)
    stop(proc, sig)
    # they die with evaluate (die-with-parent, kill pipes): on a loaded machine the kernel may take
    # a moment to tear the last one down after evaluate has exited
    wait_for(lambda: not alive(sandboxes), "every sandbox process to die with evaluate")
    with open(f"{samples}_results.partial.jsonl") as fh:
        kept = [json.loads(line) for line in fh]
    assert sorted(k["key"][0] for k in kept) == [0, 1] and all(k["verdict"]["passed"] for k in kept)
    again = start(*args)
    summary = json.loads(again.communicate(timeout=DEADLINE)[0])
    assert again.returncode == 0 and summary["resumed_rows"] == 2
    assert summary["verdicts"] == {"passed": 2, "timed_out": 2}
    assert not os.path.exists(f"{samples}_results.partial.jsonl")


def test_a_stopped_evaluate_does_not_wait_for_its_running_programs(sandbox, tmp_path):
    """SIGTERM ended evaluate only when the endless programs reached their limit (54 s of a 60 s
    --timeout): the running sandboxes are killed at once now, and their rows are left to a resume."""
    rows = [{"task_id": f"HumanEval/{i}", "completion": LOOP} for i in range(2)]
    samples = write_jsonl(tmp_path / "s.jsonl", rows)
    proc = start("evaluate", samples, "--allow-partial", "--k", "1", "--workers", "2", "--timeout", "60")
    wait_for(lambda: _busy(proc.pid) >= 2 or proc.poll() is not None, "both sandboxes running")
    sandboxes = descendants(proc.pid)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=DEADLINE)
    assert proc.returncode == CODE[signal.SIGTERM] and "Traceback" not in err, err
    assert time.monotonic() - t0 < 30, "evaluate waited for the programs' own limit"
    wait_for(lambda: not alive(sandboxes), "every sandbox process to die with evaluate")
    kept = f"{samples}_results.partial.jsonl"
    assert not os.path.exists(kept) or not open(kept).read().strip()  # nothing finished: no verdict kept


def _busy(pid: int) -> int:
    """Processes below ``pid`` burning CPU in a sandbox (the endless loops): one of its threads is
    running (the program runs on a thread of the sandbox's runner) and the process has used over
    0.5 s of CPU."""
    n = 0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/stat") as fh:
                utime = int(fh.read().rsplit(")", 1)[1].split()[11])  # the whole process's
            running = False
            for task in glob.glob(f"/proc/{p}/task/*/stat"):
                with open(task) as fh:
                    running |= fh.read().rsplit(")", 1)[1].split()[0] == "R"
            n += running and utime > 50
        except (OSError, IndexError, ValueError):
            pass
    return n


def test_evaluate_sandboxes_die_when_evaluate_is_killed(sandbox, tmp_path):
    rows = [{"task_id": "HumanEval/0", "completion": LOOP}, {"task_id": "HumanEval/1", "completion": LOOP}]
    samples = write_jsonl(tmp_path / "s.jsonl", rows)
    proc = start("evaluate", samples, "--allow-partial", "--k", "1", "--workers", "2", "--timeout", "60")
    wait_for(lambda: _busy(proc.pid) >= 2 or proc.poll() is not None, "both sandboxes running")
    sandboxes = descendants(proc.pid)
    proc.kill()
    proc.communicate(timeout=DEADLINE)
    wait_for(lambda: not alive(sandboxes), "the sandboxes to die with evaluate")


class Reader:
    """Collects a process's stderr as it comes (so a test can wait for a line)."""

    def __init__(self, proc):
        import threading

        self.text = ""
        self._thread = threading.Thread(target=self._read, args=(proc.stderr,), daemon=True)
        self._thread.start()

    def _read(self, stream):
        for chunk in iter(lambda: stream.read(1), ""):
            self.text += chunk

    def done(self) -> str:
        self._thread.join(timeout=DEADLINE)
        return self.text


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    from lintseq.generate import GenerateConfig, generate

    d = tmp_path_factory.mktemp("recs")
    src = write_jsonl(d / "pairs.jsonl", [{"instruction": f"Task {i}.", "response": p}
                                         for i, p in enumerate(humaneval_programs()[:24])])
    generate(GenerateConfig(output=str(d / "recs.jsonl"), input=src, samples=2, linter="fast", progress=False))
    return str(d / "recs.jsonl"), src


TINY = ("model=tiny", "global_batch=2", "micro_batch=2", "max_seq_len=64", "cache_dir=none", "compile=off")


def _steps(log_csv) -> int:
    return max(0, lines(log_csv) - 1)


def test_train_stops_at_a_step_boundary_with_a_checkpoint_and_resumes(records, tmp_path):
    out = tmp_path / "run"
    args = ("train", *TINY, f"data={records[0]}", f"output_dir={out}")
    proc = start(*args, "max_steps=100000")
    wait_for(lambda: _steps(out / "log.csv") >= 2 or proc.poll() is not None, "two logged steps")
    stop(proc, signal.SIGTERM)
    done = _steps(out / "log.csv")
    ckpt = out / f"checkpoint-{done}"
    assert ckpt.is_dir() and json.load(open(ckpt / "trainer_state.json"))["step"] == done
    assert not glob.glob(str(out / "*.partial"))
    again = start(*args, f"max_steps={done + 1}")
    stdout, err = again.communicate(timeout=DEADLINE)
    assert again.returncode == 0, err
    assert f"trained steps {done}..{done + 1}" in stdout


@pytest.mark.slow
def test_sample_stops_within_a_batch_keeps_finished_batches_and_resumes(tmp_path):
    from lintseq.train.models import build_model
    from lintseq.train.tokens import add_diff_token, tiny_tokenizer

    tok = tiny_tokenizer(["def f(x):\n    return x + 1"] * 20)
    add_diff_token(tok)
    model = build_model("tiny", tok, n_ctx=512)
    model.save_pretrained(tmp_path / "m")
    tok.save_pretrained(tmp_path / "m")
    prompts = write_jsonl(tmp_path / "p.jsonl", [{"task_id": f"t/{i}", "prompt": f"Task {i}."} for i in range(64)])
    proc = start("sample", "--model", tmp_path / "m", "--prompts", prompts, "-o", tmp_path / "s.jsonl", "-n", "4",
                 "--max-new-tokens", "400", "--batch-size", "4", "--device", "cpu", "--temperature", "1.0")
    err = Reader(proc)
    wait_for(lambda: "lintseq sample" in err.text or proc.poll() is not None, "sampling to start")
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=DEADLINE) == 130, err.done()
    text = err.done()
    assert "interrupted" in text and "Traceback" not in text, text
    assert not os.path.exists(tmp_path / "s.jsonl")  # nothing half done: OUTPUT only once complete
    kept = tmp_path / "s.jsonl.partial.jsonl"
    assert kept.exists()  # the finished batches (maybe none yet) behind the settings line
    # shorter samples are other settings: the kept rows are not reused, the run starts over and
    # cleans up (reuse itself: tests/test_sample.py::test_an_interrupted_run_resumes_from_its_kept_batches)
    again = run_cli("sample", "--model", tmp_path / "m", "--prompts", prompts, "-o", tmp_path / "s.jsonl", "-n", "4",
                    "--max-new-tokens", "8", "--batch-size", "64", "--device", "cpu", "--temperature", "1.0", "-q",
                    timeout=600)
    assert again.returncode == 0 and not kept.exists() and len(open(tmp_path / "s.jsonl").readlines()) == 256


@pytest.mark.slow
def test_experiment_stops_keeps_finished_stages_and_resumes(records, sandbox, tmp_path):
    out = tmp_path / "exp"
    args = ("experiment", f"pairs={records[1]}", f"output_dir={out}", "model=tiny", "global_batch=2", "micro_batch=2",
            "max_seq_len=64", "steps=100000", "n=1", "limit_tasks=2", "ks=1", "max_new_tokens=16", "workers=1",
            "linter=fast", "compile=off", "decontaminate=false")  # its pairs are HumanEval's own programs
    proc = start(*args)
    log_csv = out / "baseline" / "model" / "log.csv"
    wait_for(lambda: _steps(log_csv) >= 2 or proc.poll() is not None, "the baseline's training")
    stop(proc, signal.SIGINT)
    stages = json.load(open(out / "stages.json"))
    assert set(stages["finished"]) == {"pairs", "generate", "prompts"}
    done = _steps(log_csv)
    assert (out / "baseline" / "model" / f"checkpoint-{done}").is_dir()
    again = start(*args)
    err = Reader(again)
    wait_for(lambda: _steps(log_csv) > done or again.poll() is not None, "training to resume")
    again.send_signal(signal.SIGTERM)
    assert again.wait(timeout=DEADLINE) == 143
    text = err.done()
    assert all(f"[{name}] already done" in text for name in ("pairs", "generate", "prompts")), text
    with open(log_csv) as fh:
        steps = [int(row.split(",")[0]) for row in fh.read().splitlines()[1:]]
    assert steps[: done + 1] == list(range(1, done + 2))  # resumed at step done + 1, nothing repeated
