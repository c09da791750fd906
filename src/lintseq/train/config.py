"""Training configuration: a typed dataclass, read from YAML with ``key=value`` overrides.

    >>> cfg = TrainConfig.load(None, ["model=tiny", "lr=1e-3", "epochs=2", "view=baseline"])
    >>> cfg.lr, cfg.epochs, cfg.view
    (0.001, 2.0, 'baseline')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass
class TrainConfig:
    SWITCHES: ClassVar[tuple[str, ...]] = ("compile",)  # auto / true / false, any boolean spelling
    CHOICES: ClassVar[dict] = {"view": ("editseq", "baseline"), "loss": ("sum", "mean"), "precision": ("auto", "bf16", "fp32"),
                               "attn": ("sdpa", "flex_attention", "flash_attention_2", "eager")}

    model: str = "tiny"
    """HF hub name or local checkpoint dir; ``tiny`` = a small OLMo built from a config (tests)."""
    data: str = ""
    """Prompt/completion JSONL (``lintseq generate`` output, or pairs for the baseline view)."""
    view: str = "editseq"
    """``editseq`` (prompt/completion of edit sequences) or ``baseline`` (instruction + program)."""
    output_dir: str = "runs/sft"
    epochs: float = 2.0
    """The paper: 10 for the baseline, 2 for LintSeq data with s = 5 (equal optimizer steps)."""
    max_steps: int = 0
    """Stop after this many optimizer steps (0: run the epochs)."""
    global_batch: int = 512
    """Sequences per optimizer step, across processes and accumulation."""
    micro_batch: int = 16
    """Sequences per forward pass per process."""
    max_seq_len: int = 1024
    """Longest training sequence (longer examples are truncated); also the context length of a
    model built from a config."""
    lr: float = 3e-4
    weight_decay: float = 0.01
    warmup_ratio: float = 0.001
    loss: str = "sum"
    """``sum`` (the paper: token-summed cross-entropy) or ``mean`` (over the global batch's tokens)."""
    loss_scale: float = 0.0
    """Constant a summed loss is divided by (0: the global batch size), whatever the split."""
    packing: bool = False
    """Pack whole examples into rows of ``max_seq_len`` tokens (best fit, longest first). Positions
    restart at every example and attention never crosses one (transformers builds a block-causal
    mask from the restarting ``position_ids``), so a packed row trains exactly like its examples
    trained one by one, without the padding."""
    seed: int = 42
    precision: str = "auto"
    """``auto`` (bf16 where the hardware has it), ``bf16``, ``fp32``. bf16 is autocast over fp32
    master weights (accelerate's mixed precision)."""
    compile: str = "auto"
    """``torch.compile`` the transformer body: ``auto`` (on a CUDA GPU, alone or under DDP; off under
    FSDP and DeepSpeed, whose parameter hooks split the graph), ``true``, ``false``."""
    compile_backend: str = "inductor"
    """Dynamo backend for ``compile`` (``aot_eager`` checks the captured graph without codegen)."""
    attn: str = "sdpa"
    """Attention kernel (transformers' ``attn_implementation``): ``sdpa``, ``flex_attention`` (GPU
    only: no backward on CPU), ``flash_attention_2`` (needs the flash-attn package), ``eager``."""
    ce_chunk: int = 8192
    """Tokens per chunk of the fused linear + cross-entropy: logits exist one chunk at a time (in
    fp32 only for that chunk), never for the whole micro-batch. 0: plain full-logit loss."""
    grad_clip: float = 0.0
    """Clip the global gradient norm to this value (0: no clipping, as the paper)."""
    cache_dir: str = ""
    """Where encoded datasets are cached (memory-mapped numpy, keyed by the data file's hash, the
    tokenizer, the view and ``max_seq_len``). Empty: ``$LINTSEQ_CACHE`` or ``~/.cache/lintseq``.
    ``none`` turns the cache off."""
    model_vocab: int = 0
    """Embedding rows of a model built from a config (``tinycodelm-*``): 0 = the paper's 50,304
    (padded past a locally trained tokenizer's size); ``tiny`` uses its tokenizer's size."""
    save_every: int = 0
    """Checkpoint every N steps (0: at the end only)."""
    log_every: int = 1
    resume: bool = True
    """Continue from the newest checkpoint in output_dir when there is one."""

    @classmethod
    def load(cls, path: str | None, overrides: list[str] = ()) -> "TrainConfig":
        """From a YAML recipe and ``key=value`` overrides (an unknown key is a LintseqError)."""
        from ..cliargs import load_config

        return load_config(cls, path, overrides)
