"""Pretraining from scratch (TinyCodeLM-style): a code-skewed mix of local text and Python
source, a byte-level BPE tokenizer trained locally with ``tokenizers`` when no hub tokenizer is
reachable, documents joined with EOS and cut into fixed-length sequences, and the same
optimisation loop as fine-tuning (every token is a label).

    lintseq pretrain configs/pretrain_tinycodelm150m.yaml text=docs/ code=stdlib max_steps=1000
"""

from __future__ import annotations

import glob
import os
import random
import sysconfig
from dataclasses import dataclass

from .config import TrainConfig


@dataclass
class PretrainConfig(TrainConfig):
    model: str = "tinycodelm-150M"
    """``tiny``, ``tinycodelm-150M`` or ``tinycodelm-400M`` (built from a config with context
    ``max_seq_len``), or a checkpoint directory / hub name to continue pretraining (its own
    tokenizer is used then)."""
    text: str = ""
    """Folder or glob of natural-language text (.txt/.md/.rst)."""
    code: str = "stdlib"
    """Folder or glob of Python files; ``stdlib`` = the running interpreter's standard library."""
    code_fraction: float = 0.8
    """Share of code documents in the mix (the paper's mix is code-skewed; its ratio is unpublished)."""
    tokenizer: str = "train"
    """A hub/local tokenizer, or ``train`` to train a byte-level BPE on the mix."""
    vocab_size: int = 50304
    """Size of a locally trained tokenizer; a model built here has at least this many embedding rows."""
    max_documents: int = 20000
    epochs: float = 1.0
    lr: float = 6e-4
    warmup_ratio: float = 0.01
    loss: str = "mean"
    global_batch: int = 64
    micro_batch: int = 8


def _files(spec: str, exts: tuple[str, ...], key: str = "code") -> list[str]:
    """The files a ``code=``/``text=`` setting names: a folder's files with ``exts``, or a glob's
    matches; a folder that does not exist or a glob that matches nothing is a one-line error (it
    was silently left out of the mix)."""
    from ..errors import LintseqError

    if spec == "stdlib":
        spec = sysconfig.get_paths()["stdlib"]
    if os.path.isdir(spec):
        found = [os.path.join(d, f) for d, _, fs in os.walk(spec) for f in fs if f.endswith(exts)]
    else:
        found = glob.glob(spec, recursive=True)
    if not found:
        what = "has no " + "/".join(exts) + " files" if os.path.isdir(spec) else "is no folder and matches no file"
        raise LintseqError(f"{key}={spec!r} {what}", fix=f"set {key}= to a folder or glob of {'/'.join(exts)} files"
                                                          + (" (or code=stdlib)" if key == "code" else " (or leave it empty)"))
    return sorted(found)


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError):
        return None


def documents(cfg: PretrainConfig) -> list[str]:
    """The mix: code and text documents sampled (seeded) to ``code_fraction``."""
    rng = random.Random(cfg.seed)
    code = [p for p in _files(cfg.code, (".py",), "code") if "/test" not in p] if cfg.code else []
    text = _files(cfg.text, (".txt", ".md", ".rst"), "text") if cfg.text else []
    rng.shuffle(code)
    rng.shuffle(text)
    n_code = min(len(code), int(cfg.max_documents * cfg.code_fraction)) if text else min(len(code), cfg.max_documents)
    n_text = min(len(text), cfg.max_documents - n_code)
    docs = [d for d in (_read(p) for p in code[:n_code] + text[:n_text]) if d and d.strip()]
    rng.shuffle(docs)
    return docs


def build_tokenizer(cfg: PretrainConfig, docs: list[str]):
    if cfg.tokenizer != "train":
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(cfg.tokenizer)
    from .tokens import tiny_tokenizer

    return tiny_tokenizer(docs, vocab_size=cfg.vocab_size)


def chunk(docs: list[str], tok, seq_len: int, batch: int = 512) -> list[dict]:
    """Documents joined with EOS, cut into ``seq_len``-token sequences (the tail is dropped).
    Tokenized in batches (the fast tokenizer runs a batch in parallel)."""
    stream: list[int] = []
    for s in range(0, len(docs), batch):
        for ids in tok(docs[s:s + batch], add_special_tokens=False)["input_ids"]:
            stream += ids + [tok.eos_token_id]
    return [{"input_ids": stream[i: i + seq_len], "labels": stream[i: i + seq_len]}
            for i in range(0, len(stream) - seq_len + 1, seq_len)]


def pretrain(cfg: PretrainConfig) -> dict:
    from accelerate.utils import set_seed

    from .loop import run_training
    from .models import BUILT, build_model, load_model_and_tokenizer

    set_seed(cfg.seed)
    docs = documents(cfg)
    if not docs:
        from ..errors import LintseqError

        raise LintseqError("no documents to pretrain on", fix="set code= and/or text= to folders or globs")
    if cfg.model in BUILT:
        tok = build_tokenizer(cfg, docs)
        model = build_model(cfg.model, tok, n_ctx=cfg.max_seq_len, model_vocab=cfg.model_vocab or max(cfg.vocab_size, len(tok)),
                            attn=cfg.attn)
    else:  # a checkpoint path or hub name: never parsed as a size
        model, tok = load_model_and_tokenizer(cfg.model, n_ctx=cfg.max_seq_len, attn=cfg.attn)
    examples = chunk(docs, tok, cfg.max_seq_len)
    out = run_training(cfg, model, tok, examples)
    out["documents"] = len(docs)
    return out
