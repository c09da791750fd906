"""Model facts every workflow reads (training logs, sampling meta files, FLOPs accounting): a
model's size and shape, from the model itself or from its config alone.

    >>> from transformers import LlamaConfig, LlamaForCausalLM  # doctest: +SKIP
    >>> meta = model_meta(LlamaForCausalLM(LlamaConfig(hidden_size=64, num_hidden_layers=2, ...)))  # doctest: +SKIP
    >>> sorted(meta)  # doctest: +SKIP
    ['d_model', 'lm_head_params', 'model_type', 'n_ctx', 'n_layer', 'non_embedding_params', 'params']
"""

from __future__ import annotations


def model_meta(model) -> dict:
    """Size and shape for FLOPs: all and non-embedding parameters, the LM head's weights (counted
    even when tied to the input embedding: the matmul is done either way), layers, context, width."""
    cfg = model.config
    emb = {id(p) for p in model.get_input_embeddings().parameters()}
    out = model.get_output_embeddings()
    if out is not None:
        emb |= {id(p) for p in out.parameters()}
    total = sum(p.numel() for p in model.parameters())
    non_emb = sum(p.numel() for p in model.parameters() if id(p) not in emb)
    head = out.weight.numel() if out is not None else 0
    return {"params": total, "non_embedding_params": non_emb, "lm_head_params": head, "n_layer": cfg.num_hidden_layers,
            "n_ctx": getattr(cfg, "max_position_embeddings", 0), "d_model": cfg.hidden_size,
            "model_type": cfg.model_type}


def meta_from_config(model: str) -> dict:
    """``model_meta`` from a checkpoint's config alone (built on the meta device: no weights load)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    with torch.device("meta"):
        return model_meta(AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(model)))
