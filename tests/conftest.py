"""Fixtures. Model-written (and hostile test) programs never run outside a sandbox here: the
guard below makes host execution raise, and tests that need the sandbox or the benchmark data
skip with a reason where they are missing (or fail, when ``LINTSEQ_REQUIRE`` names them)."""

import os
import tempfile

import pytest

collect_ignore = ["cpu_sharded_main.py"]  # an entry point for torchrun, not a test module (--doctest-modules imports it)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["LINTSEQ_FORBID_UNSANDBOXED"] = "1"  # inherited by every CLI subprocess too
# MBPP+ expected outputs are cached in a folder of the run's own, never the user's ~/.cache
os.environ["LINTSEQ_CACHE"] = tempfile.mkdtemp(prefix="lintseq-test-cache-")

from helpers import data_dir, humaneval_programs, need, run_cli, stdlib_sequences, write_jsonl  # noqa: E402,F401 (re-exported)


@pytest.fixture(scope="module")
def seqs(tmp_path_factory):
    """40 standard-library programs as s = 2 edit sequences: the training tests' small data."""
    return stdlib_sequences(tmp_path_factory.mktemp("seqs"))


@pytest.fixture(scope="session")
def humaneval():
    progs = humaneval_programs()
    assert len(progs) == 164
    return progs


@pytest.fixture
def sandbox():
    """Skips (or, under LINTSEQ_REQUIRE=sandbox, fails) unless a bubblewrap sandbox starts here."""
    from lintseq.evaluate.isolation import probe

    status = probe()
    need("sandbox", status.ok, f"no sandbox here: {status.detail}")
    return status


@pytest.fixture
def data():
    """The benchmark data folder (LINTSEQ_DATA_DIR); skips or fails like ``sandbox``."""
    path = data_dir()
    need("data", path is not None, "benchmark data missing: set LINTSEQ_DATA_DIR to a folder with mbpp/ etc.")
    return path


@pytest.fixture
def one_torch_thread_tmp_cache(tmp_path, monkeypatch):
    """Token caches under tmp; one torch thread (on a shared 2-core machine, two threads that
    compete with other jobs ran the 30-step training test in 72 s instead of 6 s)."""
    import torch

    monkeypatch.setenv("LINTSEQ_CACHE", str(tmp_path / "cache"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def fast():
    """The fast oracle."""
    from lintseq.oracle import get_linter

    return get_linter("fast")


@pytest.fixture(scope="module")
def pylint():
    """The paper's pylint oracle, in process."""
    from lintseq.oracle import get_linter

    return get_linter("pylint")
