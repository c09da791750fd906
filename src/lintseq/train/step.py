"""The compute of one training step, shared by the loop and benchmarks/train_throughput.py: the
model wrapped with its loss, the fused linear + cross-entropy, the optimizer, ``torch.compile``,
the accelerate set-up for DDP / FSDP / DeepSpeed, and the FLOPs of a token.

The loss is computed inside the wrapped module's forward (``LossModel``), so DDP, FSDP and
DeepSpeed see one module whose forward returns a scalar: their hooks (gradient sync, parameter
gathering) run as for any model, and the logits never leave the forward.
"""

from __future__ import annotations

import inspect

import torch

from .data import IGNORE

H100_BF16_FLOPS = 989e12  # dense bf16 peak of one H100 SXM, the MFU denominator


def flops_per_token(params: int, n_layer: int, d_model: int, seq_len: int) -> float:
    """Training FLOPs per token: 6N (forward + backward of every parameter, embeddings included)
    + 12 * n_layer * d_model * seq_len (attention scores and values, forward + backward)."""
    return 6 * params + 12 * n_layer * d_model * seq_len


class _LinearCrossEntropy(torch.autograd.Function):
    """Summed cross-entropy of ``h @ w.T (+ b)`` against ``targets``, chunk by chunk: each chunk's logits
    are made, turned into the loss and into the gradients of ``h`` and ``w`` at once, then freed,
    so memory holds one chunk of logits instead of the micro-batch's (at 50,304 words, 32 x 1024
    tokens of fp32 logits are 6.6 GB, twice that with their gradient)."""

    @staticmethod
    def forward(ctx, h, w, b, targets, chunk, dtype):
        need_grad = h.requires_grad or w.requires_grad or (b is not None and b.requires_grad)
        hc, wc = h.to(dtype), w.to(dtype)
        bc = b.to(dtype) if b is not None else None
        grad_b = torch.zeros_like(b, dtype=torch.float32) if need_grad and b is not None else None
        loss = torch.zeros((), dtype=torch.float32, device=h.device)
        grad_h = torch.empty_like(h) if need_grad else None
        grad_w = torch.zeros_like(w, dtype=torch.float32) if need_grad else None
        with torch.autocast(h.device.type, enabled=False):
            for s in range(0, h.shape[0], chunk):
                hi, t = hc[s:s + chunk], targets[s:s + chunk]
                logits = (hi @ wc.T if bc is None else torch.addmm(bc, hi, wc.T)).float()
                lse = torch.logsumexp(logits, dim=-1)
                valid = t != IGNORE
                safe = t.clamp(min=0)
                picked = logits.gather(1, safe[:, None]).squeeze(1)
                loss += ((lse - picked) * valid).sum()
                if need_grad:  # d loss / d logits = softmax - onehot, zero on ignored rows
                    g = logits.sub_(lse[:, None]).exp_()
                    g[torch.arange(len(t), device=t.device), safe] -= 1
                    g = (g * valid[:, None]).to(dtype)
                    grad_h[s:s + chunk] = (g @ wc).to(h.dtype)
                    grad_w += (g.T @ hi).float()
                    if grad_b is not None:
                        grad_b += g.float().sum(0)
        ctx.save_for_backward(grad_h, grad_w, grad_b)
        ctx.w_dtype, ctx.b_dtype = w.dtype, (b.dtype if b is not None else None)
        return loss

    @staticmethod
    def backward(ctx, grad_out):
        grad_h, grad_w, grad_b = ctx.saved_tensors
        gb = (grad_b * grad_out).to(ctx.b_dtype) if grad_b is not None else None
        return grad_h * grad_out.to(grad_h.dtype), (grad_w * grad_out).to(ctx.w_dtype), gb, None, None, None


def linear_cross_entropy(h: torch.Tensor, w: torch.Tensor, targets: torch.Tensor, chunk: int = 8192,
                         bias: torch.Tensor | None = None) -> torch.Tensor:
    """Summed next-token cross-entropy of hidden states ``h`` [N, d] through the output matrix
    ``w`` [V, d] and its ``bias`` [V] (when the head has one), ignoring targets of -100; matmuls in
    autocast's dtype when autocast is on."""
    dtype = torch.get_autocast_dtype(h.device.type) if torch.is_autocast_enabled(h.device.type) else h.dtype
    return _LinearCrossEntropy.apply(h, w, bias, targets, chunk, dtype)


class LossModel(torch.nn.Module):
    """A causal LM whose forward returns the summed loss of a micro-batch (see module docstring)."""

    def __init__(self, lm, ce_chunk: int = 8192):
        super().__init__()
        self.lm = lm
        cfg = lm.config
        # models that rescale or soft-cap logits need the model's own head: use the full-logit path
        custom_head = any(getattr(cfg, k, None) for k in ("final_logit_softcapping", "logit_scale", "logits_scaling"))
        self.ce_chunk = 0 if custom_head else ce_chunk
        # FSDP's transformer-based auto wrap reads the layer classes from the root module
        self._no_split_modules = getattr(lm, "_no_split_modules", None)

    @property
    def body(self):
        return getattr(self.lm, self.lm.base_model_prefix)

    def forward(self, input_ids, targets, position_ids=None):
        # no attention mask: padding sits after every real token (causal attention hides it), and
        # restarting position_ids make transformers build a block-causal mask for packed rows
        if self.ce_chunk:
            h = self.body(input_ids=input_ids, position_ids=position_ids, use_cache=False).last_hidden_state
            head = self.lm.get_output_embeddings()
            return linear_cross_entropy(h.flatten(0, 1), head.weight, targets.flatten(), self.ce_chunk,
                                        getattr(head, "bias", None))
        logits = self.lm(input_ids=input_ids, position_ids=position_ids, use_cache=False).logits
        return torch.nn.functional.cross_entropy(logits.float().flatten(0, 1), targets.flatten(), ignore_index=IGNORE, reduction="sum")


def use_compile(setting: str, acc=None) -> bool:
    """``true``: always; ``auto``: on a CUDA device, except under FSDP or DeepSpeed, whose
    per-layer parameter hooks split the compiled graph (set ``compile=true`` to try it there)."""
    from ..cliargs import parse_switch

    setting = parse_switch("compile", setting)  # a bad value is an error, never a silent "off"
    if setting != "auto":
        return setting == "true"
    sharded = acc is not None and (acc.state.deepspeed_plugin is not None or str(acc.distributed_type).endswith("FSDP"))
    device = acc.device.type if acc is not None else ("cuda" if torch.cuda.is_available() else "cpu")
    return device == "cuda" and not sharded


def compile_body(model: LossModel, backend: str = "inductor") -> None:
    """Compile the transformer body in place (``nn.Module.compile`` keeps parameter names, so
    checkpoints and state dicts are unchanged); the chunked loss stays eager."""
    model.body.compile(backend=backend, dynamic=None)


def param_groups(model, weight_decay: float):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim < 2 or "bias" in name or "norm" in name else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def make_optimizer(model, lr: float, weight_decay: float, device_type: str):
    """AdamW, fused into one kernel per step on CUDA (foreach elsewhere)."""
    kw = {"fused": True} if device_type == "cuda" else {"foreach": True}
    return torch.optim.AdamW(param_groups(model, weight_decay), lr=lr, **kw)


def use_bf16(precision: str) -> bool:
    return precision == "bf16" or (precision == "auto" and torch.cuda.is_available() and torch.cuda.is_bf16_supported())


def partial_state():
    """accelerate's process state; CPU processes (``ACCELERATE_USE_CPU``, e.g. under ``torchrun``)
    form a gloo group, which ``PartialState`` alone would not read from the environment."""
    from accelerate import PartialState
    from accelerate.utils import parse_flag_from_env

    return PartialState(cpu=parse_flag_from_env("ACCELERATE_USE_CPU"))


def make_accelerator(precision: str, micro_batch: int, global_batch: int, grad_clip: float):
    """An Accelerator that makes one optimizer step per global batch under every backend.

    ``accumulate`` with ``gradient_accumulation_steps`` = micro-batches per process marks only the
    last micro-batch as a sync point: DDP and FSDP skip the gradient reduction before it, and
    DeepSpeed's engine, which accelerate steps on every sync point, steps once. DeepSpeed's batch
    sizes are set here because ``prepare`` without a dataloader cannot fill its ``auto`` values,
    and its clipping is set explicitly because accelerate fills an ``auto`` value with 1.0."""
    from accelerate import Accelerator

    procs = partial_state().num_processes
    if global_batch % (micro_batch * procs):
        raise ValueError(f"global_batch {global_batch} must be a multiple of micro_batch x processes ({micro_batch} x {procs})")
    n_micro = global_batch // (micro_batch * procs)
    acc = Accelerator(mixed_precision="bf16" if use_bf16(precision) else "no", gradient_accumulation_steps=n_micro)
    plugin = acc.state.deepspeed_plugin
    if plugin is not None:
        ds = plugin.deepspeed_config
        ds.update(train_micro_batch_size_per_gpu=micro_batch, gradient_accumulation_steps=n_micro,
                  train_batch_size=global_batch, gradient_clipping=grad_clip)
    return acc, n_micro


def backward(acc, loss: torch.Tensor, n_micro: int) -> None:
    """``acc.backward`` of a loss already scaled for the whole step: accelerate (or DeepSpeed's
    engine) divides by the accumulation steps, so multiply them back."""
    kwargs = {}
    if acc.state.deepspeed_plugin is not None:
        engine = acc.deepspeed_engine_wrapped.engine
        if "scale_wrt_gas" in inspect.signature(engine.backward).parameters:
            kwargs["scale_wrt_gas"] = False
            acc.backward(loss, **kwargs)
            return
    acc.backward(loss * n_micro, **kwargs)


def register_zero3_head(acc, model) -> None:
    """Under ZeRO-3 the output matrix is used outside its own module's forward (by the fused
    loss): register it with the root module so DeepSpeed gathers it for the whole forward."""
    if acc.state.deepspeed_plugin is None or acc.state.deepspeed_plugin.zero_stage != 3:
        return
    import deepspeed

    root = acc.unwrap_model(model)
    deepspeed.zero.register_external_parameter(root, root.lm.get_output_embeddings().weight)
