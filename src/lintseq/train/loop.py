"""The fine-tuning loop, on accelerate: one process on the CPU, one GPU, or many GPUs through
``accelerate launch`` (configs/ has DDP, FSDP and DeepSpeed ZeRO-3 files).

Every process sees the same shuffled global batch (a pure function of seed and epoch) and takes
its contiguous share, split into micro-batches. A summed loss is divided by a constant (the
global batch size unless ``loss_scale`` is set) and a mean loss by the global batch's label-token
count, both known to every process up front, so the gradient does not depend on how the batch
is split across processes and accumulation steps. Losses and the learning rate go to
``OUTPUT/log.csv`` (and TensorBoard when installed); checkpoints to ``OUTPUT/checkpoint-STEP``.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import time

from .config import TrainConfig
from .models import load_model_and_tokenizer, model_meta
from .tokens import IGNORE, add_diff_token, batches, collate, load_examples, pack, record_view


def _texts(path: str, view: str, limit: int = 2000) -> list[str]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip() and len(out) < limit:
                out.append("".join(record_view(json.loads(line), view)))
    return out


def _latest_checkpoint(output_dir: str) -> str | None:
    if not os.path.isdir(output_dir):
        return None
    steps = [int(d.split("-")[1]) for d in os.listdir(output_dir) if d.startswith("checkpoint-") and d.split("-")[1].isdigit()]
    return os.path.join(output_dir, f"checkpoint-{max(steps)}") if steps else None


def _param_groups(model, weight_decay: float):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim < 2 or "bias" in name or "norm" in name else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def train(cfg: TrainConfig) -> dict:
    """Run (or resume) fine-tuning; returns a summary with per-step losses."""
    from accelerate.utils import set_seed

    set_seed(cfg.seed)
    model, tok = load_model_and_tokenizer(cfg.model, _texts(cfg.data, cfg.view), cfg.seed)
    add_diff_token(tok, model)
    # the baseline sees each program once, even when read from s-fold edit-sequence records
    examples = load_examples(cfg.data, tok, cfg.view, cfg.max_seq_len, dedupe_programs=cfg.view == "baseline")
    if cfg.packing:
        examples = pack(examples, cfg.max_seq_len)
    return run_training(cfg, model, tok, examples)


def run_training(cfg: TrainConfig, model, tok, examples: list[dict]) -> dict:
    """The optimisation loop over encoded examples ({input_ids, labels}), shared with pretraining."""
    import torch
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from transformers import get_linear_schedule_with_warmup

    bf16 = cfg.precision == "bf16" or (cfg.precision == "auto" and torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    acc = Accelerator(mixed_precision="bf16" if bf16 else "no")
    set_seed(cfg.seed)
    procs, rank = acc.num_processes, acc.process_index
    if cfg.global_batch % (cfg.micro_batch * procs):
        raise ValueError(f"global_batch {cfg.global_batch} must be a multiple of micro_batch x processes ({cfg.micro_batch} x {procs})")
    per_epoch = len(examples) // cfg.global_batch
    if per_epoch == 0:
        raise ValueError(f"{len(examples)} examples are fewer than one global batch of {cfg.global_batch}")
    total = cfg.max_steps or math.ceil(cfg.epochs * per_epoch)
    optimizer = torch.optim.AdamW(_param_groups(model, cfg.weight_decay), lr=cfg.lr)
    scheduler = get_linear_schedule_with_warmup(optimizer, math.ceil(cfg.warmup_ratio * total), total)
    model, optimizer = acc.prepare(model, optimizer)
    start = 0
    ckpt = _latest_checkpoint(cfg.output_dir) if cfg.resume else None
    if ckpt:
        acc.load_state(ckpt)
        with open(os.path.join(ckpt, "trainer_state.json")) as fh:
            state = json.load(fh)
        start = state["step"]
        scheduler.load_state_dict(state["scheduler"])
    os.makedirs(cfg.output_dir, exist_ok=True)
    log_path = os.path.join(cfg.output_dir, "log.csv")
    losses: list[float] = []
    epoch_batches: dict[int, list] = {}
    share = cfg.global_batch // procs
    bar = _bar(acc, start, total)
    board = _tensorboard(cfg.output_dir) if acc.is_main_process else None
    t0, tokens_seen = time.perf_counter(), 0
    model.train()
    for step in range(start, total):
        epoch = step // per_epoch
        if epoch not in epoch_batches:
            epoch_batches = {epoch: batches(examples, cfg.global_batch, cfg.seed, epoch)}
        global_batch = epoch_batches[epoch][step % per_epoch]
        label_tokens = sum(sum(1 for x in ex["labels"][1:] if x != IGNORE) for ex in global_batch)
        denom = label_tokens if cfg.loss == "mean" else (cfg.loss_scale or cfg.global_batch)
        mine = global_batch[rank * share: (rank + 1) * share]
        micro = [mine[i: i + cfg.micro_batch] for i in range(0, share, cfg.micro_batch)]
        step_loss = torch.zeros((), device=acc.device)
        for i, mb in enumerate(micro):
            batch = {k: v.to(acc.device) for k, v in collate(mb, tok.pad_token_id).items()}
            sync = contextlib.nullcontext() if i == len(micro) - 1 else acc.no_sync(model)
            with sync:
                logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
                ce = torch.nn.functional.cross_entropy(logits[:, :-1].float().reshape(-1, logits.shape[-1]),
                                                       batch["labels"][:, 1:].reshape(-1), ignore_index=IGNORE, reduction="sum")
                acc.backward(ce / denom * procs)  # DDP averages over processes: undo it
            step_loss += ce.detach() / denom
            tokens_seen += int(batch["attention_mask"].sum()) * procs
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        loss = float(acc.reduce(step_loss, reduction="sum"))
        losses.append(loss)
        rate = tokens_seen / max(time.perf_counter() - t0, 1e-9)
        if acc.is_main_process:
            _log(log_path, step + 1, loss, scheduler.get_last_lr()[0], tokens_seen, rate)
            if board is not None:
                board.add_scalar("train/loss", loss, step + 1)
                board.add_scalar("train/lr", scheduler.get_last_lr()[0], step + 1)
                board.add_scalar("train/tokens_per_s", rate, step + 1)
            if bar:
                bar.set_postfix(loss=f"{loss:.4f}", tok_s=f"{rate:,.0f}")
                bar.update(1)
        if cfg.save_every and (step + 1) % cfg.save_every == 0 and step + 1 < total:
            _checkpoint(acc, cfg.output_dir, step + 1, scheduler)
    if bar:
        bar.close()
    if board is not None:
        board.close()
    acc.wait_for_everyone()
    final = os.path.join(cfg.output_dir, "final")
    unwrapped = acc.unwrap_model(model)
    if acc.is_main_process:
        unwrapped.save_pretrained(final)
        tok.save_pretrained(final)
        with open(os.path.join(final, "lintseq_meta.json"), "w") as fh:
            json.dump(model_meta(unwrapped), fh, indent=1)
    return {"steps": total, "start_step": start, "losses": losses, "examples": len(examples),
            "processes": procs, "tokens_per_second": tokens_seen / max(time.perf_counter() - t0, 1e-9), "output": final}


def _checkpoint(acc, output_dir: str, step: int, scheduler) -> None:
    path = os.path.join(output_dir, f"checkpoint-{step}")
    acc.save_state(path)
    if acc.is_main_process:
        with open(os.path.join(path, "trainer_state.json"), "w") as fh:
            json.dump({"step": step, "scheduler": scheduler.state_dict()}, fh)
    acc.wait_for_everyone()


def _log(path: str, step: int, loss: float, lr: float, tokens: int, rate: float) -> None:
    new = not os.path.exists(path)
    with open(path, "a", newline="") as fh:
        w = csv.writer(fh)
        if new:
            w.writerow(["step", "loss", "lr", "tokens", "tokens_per_s"])
        w.writerow([step, f"{loss:.6f}", f"{lr:.6e}", tokens, f"{rate:.1f}"])


def _tensorboard(output_dir: str):
    """A TensorBoard writer when tensorboard is installed, else None (log.csv always exists)."""
    try:
        from torch.utils.tensorboard import SummaryWriter

        return SummaryWriter(os.path.join(output_dir, "tensorboard"))
    except ImportError:
        return None


def _bar(acc, start: int, total: int):
    if not acc.is_main_process:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=start, unit="step", desc="lintseq train", dynamic_ncols=True)
