"""Several CPU processes (gloo) train exactly like one: DDP, FSDP2 and DeepSpeed ZeRO-3.

Processes are started with ``torchrun`` and ``ACCELERATE_USE_CPU=true`` (``accelerate launch
--cpu`` starts a single process unless MPI is set up, so it cannot show anything here).
FSDP2 and DeepSpeed go through ``tests/cpu_sharded_main.py``, which turns those backends on in
accelerate for CPU processes. Every run reports its backend and process count, and the test
checks them, so a run that silently fell back to one process or to DDP fails.
"""

import json
import os
import subprocess
import sys

import pytest
import torch

from lintseq.generate import GenerateConfig, generate

HERE = os.path.dirname(os.path.abspath(__file__))
ARGS = dict(global_batch=8, micro_batch=2, max_steps=4, lr=3e-3, max_seq_len=256, seed=3)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """Sequences, and a tiny checkpoint every run starts from (DeepSpeed builds models under
    ``zero.Init``, which draws different random weights than a plain build)."""
    from lintseq.train.loop import _texts
    from lintseq.train.models import load_model_and_tokenizer

    d = tmp_path_factory.mktemp("par")
    data = str(d / "seqs.jsonl")
    generate(GenerateConfig(output=data, limit=40, samples=2, progress=False))
    model, tok = load_model_and_tokenizer("tiny", _texts(data, "editseq"), 3, n_ctx=256)
    model.save_pretrained(d / "init")
    tok.save_pretrained(d / "init")
    return d, data, str(d / "init")


def _run(python: str, entry: list[str], out, data: str, init: str, procs: int, port: int, env: dict | None = None):
    args = [f"{k}={v}" for k, v in {**ARGS, "model": init, "data": data, "output_dir": out, "cache_dir": os.path.dirname(out) + "/cache"}.items()]
    if procs == 1:
        cmd = [python, "-m", "lintseq.cli", "train", *args]
    else:
        cmd = [python, "-m", "torch.distributed.run", "--nproc_per_node", str(procs), "--master_port", str(port), *entry, "train", *args]
    # one thread everywhere (torchrun's default): the same summation order in every process count
    full_env = {**os.environ, "ACCELERATE_USE_CPU": "true", "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", **(env or {})}
    run = subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    losses = [float(r.split(",")[1]) for r in open(os.path.join(out, "log.csv")).read().splitlines()[1:]]
    return run.stdout, losses


def _same_weights(a, b):
    from transformers import AutoModelForCausalLM

    pa = AutoModelForCausalLM.from_pretrained(a).state_dict()
    pb = AutoModelForCausalLM.from_pretrained(b).state_dict()
    assert pa.keys() == pb.keys()
    for k in pa:
        # Adam normalises updates, so last-bit gradient differences move weights by up to ~lr * 1e-3
        assert torch.allclose(pa[k], pb[k], rtol=1e-4, atol=1e-5), k


@pytest.fixture(scope="module")
def one(setup):
    d, data, init = setup
    out = str(d / "one")
    stdout, losses = _run(sys.executable, [], out, data, init, 1, 0)
    assert "(1 processes, NO;" in stdout
    return out, losses


@pytest.mark.parametrize("backend", ["ddp", pytest.param("fsdp", marks=pytest.mark.slow)])
def test_two_cpu_processes_equal_one(setup, one, backend):
    d, data, init = setup
    out = str(d / backend)
    entry = ["-m", "lintseq.cli"] if backend == "ddp" else [os.path.join(HERE, "cpu_sharded_main.py")]
    stdout, losses = _run(sys.executable, entry, out, data, init, 2, 29611 if backend == "ddp" else 29612,
                          {"LINTSEQ_TEST_SHARDING": backend})
    assert f"(2 processes, {'MULTI_CPU' if backend == 'ddp' else 'FSDP'};" in stdout
    assert len(losses) == ARGS["max_steps"]  # one optimizer step (and log row) per global batch
    assert losses == pytest.approx(one[1], rel=1e-4)
    _same_weights(one[0] + "/final", out + "/final")


def _deepspeed_python() -> str | None:
    """An interpreter with DeepSpeed: ``LINTSEQ_DEEPSPEED_PYTHON`` (e.g. a scratch venv with
    ``pip install --no-build-isolation deepspeed torch==2.13.0``), or this one if it has it."""
    python = os.environ.get("LINTSEQ_DEEPSPEED_PYTHON")
    if python:
        return python
    try:
        import deepspeed  # noqa: F401

        return sys.executable
    except ImportError:
        return None


@pytest.mark.slow
def test_deepspeed_zero3_two_cpu_processes_equal_one(setup, one):
    python = _deepspeed_python()
    if python is None:
        pytest.skip("DeepSpeed not installed (set LINTSEQ_DEEPSPEED_PYTHON to a venv that has it)")
    d, data, init = setup
    out = str(d / "ds")
    src = os.path.join(HERE, "..", "src")
    stdout, losses = _run(python, [os.path.join(HERE, "cpu_sharded_main.py")], out, data, init, 2, 29613,
                          {"LINTSEQ_TEST_SHARDING": "deepspeed", "DS_ACCELERATOR": "cpu",
                           "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")})
    assert "(2 processes, DEEPSPEED;" in stdout
    # the engine was told the run's batch split and no clipping (accelerate would fill 1.0; with
    # Adam, clipping barely moves the losses, so the config is checked itself)
    (line,) = [l for l in stdout.splitlines() if l.startswith("DEEPSPEED_CONFIG ")]
    ds = json.loads(line.split(" ", 1)[1])
    assert (ds["train_micro_batch_size_per_gpu"], ds["gradient_accumulation_steps"], ds["train_batch_size"]) == (2, 2, 8)
    assert ds["gradient_clipping"] == 0.0 and ds["zero_optimization"]["stage"] == 3
    # one engine step per global batch: the schedule's lr and the losses match one process
    assert losses == pytest.approx(one[1], rel=1e-4)
    _same_weights(one[0] + "/final", out + "/final")
