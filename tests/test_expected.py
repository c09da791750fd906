"""evaluate/expected.py: MBPP+'s expected outputs, computed once per task from the reference under
the reference's own limit, and cached under a key that changes with anything that could change them."""

import pytest

from lintseq.evaluate.expected import _Versions, cache_dir, cache_key


def _io_task(reference):
    return {"kind": "io", "entry_point": "f", "inputs": [[0], [1], [2]], "atol": 0, "reference": reference}


def test_the_cache_key_follows_the_payload_the_runner_and_python():
    task, v = _io_task("def f(x):\n    return x * 2"), _Versions("abc", "3.11")
    assert cache_key(task, v) == cache_key(dict(reversed(list(task.items()))), v)  # key order does not matter
    assert cache_key(task, v) != cache_key({**task, "inputs": [[0], [1]]}, v)
    assert cache_key(task, v) != cache_key(task, _Versions("abd", "3.11")) != cache_key(task, _Versions("abc", "3.12"))


def test_the_cache_lives_under_lintseq_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("LINTSEQ_CACHE", str(tmp_path))
    assert cache_dir() == str(tmp_path / "expected")


@pytest.mark.usefixtures("sandbox")
def test_a_slow_reference_makes_the_task_not_runnable_never_its_samples_slow(monkeypatch):
    """The reference runs under its own limit, twice, and is never recomputed inside a sample's
    limit: a task whose reference cannot finish is not_runnable with a reason naming it."""
    from lintseq.evaluate.expected import expected_outputs
    from lintseq.evaluate.sandbox import Limits, SandboxPool
    from concurrent.futures import ThreadPoolExecutor

    slow = _io_task("import time\ndef f(x):\n    time.sleep(3)\n    return x * 2")
    fast = _io_task("def f(x):\n    return x * 2")
    with SandboxPool(2, Limits(timeout=8)) as pool, ThreadPoolExecutor(2) as threads:
        found, unknown = expected_outputs(pool, {"slow": slow, "fast": fast}, threads, cache=False, timeout=0.5)
        assert set(found) == {"fast"} and set(unknown) == {"slow"}
        assert "reference solution failed twice" in unknown["slow"] and "timed_out" in unknown["slow"]
        assert found["fast"].times and len(found["fast"].times) == 3  # each input's time, for evalplus's limits
        # a run without stored outputs computes them once under the reference's limit (not the sample's 8 s)
        monkeypatch.setattr("lintseq.evaluate.expected.REFERENCE_TIMEOUT", 0.5)
        out = pool.run("def f(x):\n    return x * 2", slow, key="slow")
        assert out.status == "not_runnable" and "reference solution" in out.detail
        assert pool.run("def f(x):\n    return x * 2", slow, key="slow").status == "not_runnable"  # remembered
