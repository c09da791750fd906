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

import csv
import json
import math
import os
import shutil
import sys
import time

from ..errors import LintseqError
from ..stop import Deferred
from .config import TrainConfig
from .data import Encoded, collate, encode_file, epoch_batches, rows
from .step import (H100_BF16_FLOPS, LossModel, backward, compile_body, flops_per_token, make_accelerator,
                     make_optimizer, partial_state, register_zero3_head, use_compile)
from .models import load_model_and_tokenizer, model_meta
from .tokens import add_diff_token, view_pairs
from ..progress import progress_bar


PACKING_MIN_TRANSFORMERS = "4.54"  # first release whose attention masks restart at position_ids resets


def check_packing_support(packing: bool, version: str | None = None) -> None:
    """Refuse packing where transformers would let packed documents attend to each other."""
    if not packing:
        return
    if version is None:
        import transformers

        version = transformers.__version__
    from packaging.version import Version

    from ..errors import LintseqError

    if Version(version) < Version(PACKING_MIN_TRANSFORMERS):
        raise LintseqError(f"packing=true needs transformers >= {PACKING_MIN_TRANSFORMERS} (this is {version}): older "
                           "releases do not build a block-causal mask, so packed documents would attend to each other",
                           fix=f"pip install 'transformers>={PACKING_MIN_TRANSFORMERS}', or packing=false")


def _texts(path: str, view: str, limit: int = 2000) -> list[str]:
    """The first ``limit`` examples' text (a tokenizer trained for a built model reads them); a
    record without the view's fields is a one-line error, as in encoding."""
    out = []
    for prompt, completion in view_pairs(path, view):
        out.append(prompt + completion)
        if len(out) >= limit:
            break
    return out


def _latest_checkpoint(output_dir: str) -> str | None:
    if not os.path.isdir(output_dir):
        return None
    steps = [int(d.split("-")[1]) for d in os.listdir(output_dir) if d.startswith("checkpoint-") and d.split("-")[1].isdigit()]
    return os.path.join(output_dir, f"checkpoint-{max(steps)}") if steps else None


def train(cfg: TrainConfig) -> dict:
    """Run (or resume) fine-tuning; returns a summary with per-step losses."""
    from accelerate.utils import set_seed

    set_seed(cfg.seed)
    model, tok = load_model_and_tokenizer(cfg.model, _texts(cfg.data, cfg.view), cfg.seed, n_ctx=cfg.max_seq_len,
                                          model_vocab=cfg.model_vocab, attn=cfg.attn)
    add_diff_token(tok, model)
    t0 = time.perf_counter()
    with partial_state().main_process_first():  # the first process writes the cache, the others map it
        # the baseline sees each program once, even when read from s-fold edit-sequence records
        examples, cache = encode_file(cfg.data, tok, cfg.view, cfg.max_seq_len, cfg.view == "baseline", cfg.cache_dir)
    _warn_cut(cache, len(examples), cfg.max_seq_len)
    out = run_training(cfg, model, tok, examples)
    out.update(encode_seconds=time.perf_counter() - t0 - out["train_seconds"], cache=cache["cache"],
               truncated_examples=cache.get("truncated"), dropped_examples=cache.get("dropped"))
    return out


def _warn_cut(cache: dict, kept: int, max_len: int) -> None:
    """Say on stderr (once, from the main process) how many examples max_seq_len cut or emptied."""
    truncated, dropped = cache.get("truncated") or 0, cache.get("dropped") or 0
    if (truncated or dropped) and partial_state().is_main_process:
        print(f"lintseq train: warning: {truncated} of {kept} examples are longer than max_seq_len={max_len} "
              f"and are cut there (their ends and EOS are not trained on); {dropped} more had no target "
              "token left and were dropped. Raise max_seq_len to keep them.", file=sys.stderr)


def run_training(cfg: TrainConfig, model, tok, examples: list[dict] | Encoded) -> dict:
    """The optimisation loop over encoded examples, shared with pretraining."""
    import torch
    from accelerate.utils import set_seed
    from transformers import get_linear_schedule_with_warmup

    check_packing_support(cfg.packing)
    started = time.perf_counter()
    enc = examples if isinstance(examples, Encoded) else Encoded.from_examples(examples)
    acc, n_micro = make_accelerator(cfg.precision, cfg.micro_batch, cfg.global_batch, cfg.grad_clip)
    set_seed(cfg.seed)
    procs, rank = acc.num_processes, acc.process_index
    table = rows(enc, cfg.max_seq_len, cfg.packing)
    per_epoch = len(table) // cfg.global_batch
    if per_epoch == 0:
        raise LintseqError(f"{len(table)} training rows are fewer than one global batch of {cfg.global_batch}",
                           fix="give more data (pairs=, data=) or a smaller global_batch=")
    total = cfg.max_steps or math.ceil(cfg.epochs * per_epoch)
    meta = model_meta(model)
    wrapped = LossModel(model, cfg.ce_chunk)
    if use_compile(cfg.compile, acc):
        compile_body(wrapped, cfg.compile_backend)
    optimizer = make_optimizer(wrapped, cfg.lr, cfg.weight_decay, acc.device.type)
    scheduler = get_linear_schedule_with_warmup(optimizer, math.ceil(cfg.warmup_ratio * total), total)
    wrapped, optimizer = acc.prepare(wrapped, optimizer)
    register_zero3_head(acc, wrapped)
    start = 0
    ckpt = _latest_checkpoint(cfg.output_dir) if cfg.resume else None
    if ckpt:
        acc.load_state(ckpt)
        with open(os.path.join(ckpt, "trainer_state.json")) as fh:
            state = json.load(fh)
        start = state["step"]
        scheduler.load_state_dict(state["scheduler"])
    os.makedirs(cfg.output_dir, exist_ok=True)
    log = _Log(cfg, acc, start, total)
    share = cfg.global_batch // procs
    # packed rows are padded to max_seq_len: one static shape for the compiler
    length = cfg.max_seq_len if cfg.packing else None
    wrapped.train()
    epoch, order = None, []
    done = start  # optimizer steps the model's state holds
    try:
        for step in range(start, total):
            if step // per_epoch != epoch:
                epoch = step // per_epoch
                order = epoch_batches(len(table), cfg.global_batch, cfg.seed, epoch)
            batch_rows = [table[r] for r in order[step % per_epoch]]
            # both denominators are known up front to every process: the gradient does not depend on the split
            label_tokens = sum(enc.label_tokens(i) for row in batch_rows for i in row)
            denom = label_tokens if cfg.loss == "mean" else (cfg.loss_scale or cfg.global_batch)
            mine = batch_rows[rank * share: (rank + 1) * share]
            step_loss = torch.zeros((), device=acc.device)
            for i in range(0, share, cfg.micro_batch):
                mb = collate(enc, mine[i: i + cfg.micro_batch], tok.pad_token_id, length)
                packed = any(len(r) > 1 for r in mine[i: i + cfg.micro_batch])
                inputs = {k: mb[k].to(acc.device, non_blocking=True) for k in ("input_ids", "targets")}
                if packed:  # restarting positions; without them transformers keeps the fast causal path
                    inputs["position_ids"] = mb["position_ids"].to(acc.device, non_blocking=True)
                with acc.accumulate(wrapped):  # sync (and DeepSpeed's step) on the last micro-batch only
                    ce = wrapped(**inputs)
                    backward(acc, ce * (procs / denom), n_micro)  # DDP/FSDP/DeepSpeed average over processes: undo it
                step_loss += ce.detach() / denom
            log.tokens += sum(int(enc.lengths[i]) for row in batch_rows for i in row)  # the global batch's real tokens
            if cfg.grad_clip and acc.state.deepspeed_plugin is None:
                acc.clip_grad_norm_(wrapped.parameters(), cfg.grad_clip)
            with Deferred() as stop:  # an optimizer step is never cut in two by SIGINT/SIGTERM
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                done = step + 1
            log.step(step + 1, step_loss, scheduler.get_last_lr()[0])
            if stop.stop_requested():
                stop.interrupt()
            if cfg.save_every and (step + 1) % cfg.save_every == 0 and step + 1 < total:
                log.flush()
                _checkpoint(acc, cfg.output_dir, step + 1, scheduler)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: keep the finished steps, a rerun resumes from them
        if procs == 1 and done > start:
            log.flush()
            _checkpoint(acc, cfg.output_dir, done, scheduler)
        if log.bar:
            log.bar.close()
        raise
    log.flush(final=True)
    acc.wait_for_everyone()
    final = os.path.join(cfg.output_dir, "final")
    state_dict = acc.get_state_dict(wrapped)  # a collective under FSDP / ZeRO-3: every process calls it
    if acc.is_main_process:
        lm = acc.unwrap_model(wrapped).lm
        lm.save_pretrained(final, state_dict={k.removeprefix("lm."): v for k, v in state_dict.items()})
        tok.save_pretrained(final)
        with open(os.path.join(final, "lintseq_meta.json"), "w") as fh:
            json.dump(meta, fh, indent=1)
    acc.wait_for_everyone()
    rate = log.steady_rate()
    fpt = flops_per_token(meta["params"], meta["n_layer"], meta["d_model"], cfg.max_seq_len)
    mfu = fpt * rate / (H100_BF16_FLOPS * procs) if acc.device.type == "cuda" and rate else None
    return {"steps": total, "start_step": start, "losses": log.losses, "examples": len(enc), "rows": len(table),
            "processes": procs, "backend": str(acc.distributed_type).split(".")[-1],
            "tokens_per_s": rate, "mfu": mfu, "flops_per_token": fpt, "output": final,
            "train_seconds": time.perf_counter() - started}


def end_distributed() -> None:
    """Leave the process group a multi-process run (torchrun, accelerate launch) joined, before
    the process exits: left to interpreter exit, gloo's threads can be torn down mid-flight and
    abort one process ("terminate called without an active exception", seen in CI)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


class _Log:
    """Per-step losses stay on the device until a log point (every ``log_every`` steps, a
    checkpoint, the end): no host synchronisation inside the step. Rows go to log.csv, TensorBoard
    when installed, and the progress bar."""

    def __init__(self, cfg: TrainConfig, acc, start: int, total: int):
        self.cfg, self.acc, self.every = cfg, acc, max(cfg.log_every, 1)
        self.path = os.path.join(cfg.output_dir, "log.csv")
        self.pending: list = []
        self.losses: list[float] = []
        self.tokens = 0  # this run's; the log's column counts from the run's first step
        self.tokens_before = _log_kept_to(self.path, start) if acc.is_main_process else 0
        self.bar = progress_bar("lintseq train", "step", total, start, enabled=acc.is_main_process)
        self.board = _tensorboard(cfg.output_dir) if acc.is_main_process else None
        self.t0 = time.perf_counter()
        self.warm: tuple[float, int] | None = None  # (time, tokens) after the first step (compile, warm-up)

    def step(self, step: int, loss, lr: float) -> None:
        self.pending.append((step, loss, lr, self.tokens_before + self.tokens))
        if self.warm is None or len(self.pending) >= self.every:
            self.flush()

    def flush(self, final: bool = False) -> None:
        """Write the pending steps' rows; a stop arriving meanwhile waits for the last row (cut
        half-way, the interrupted run's own flush wrote the same rows again)."""
        if not self.pending:
            return
        with Deferred() as stop:
            self._flush(final)
        if stop.stop_requested():
            stop.interrupt()

    def _flush(self, final: bool) -> None:
        import torch

        values = self.acc.reduce(torch.stack([p[1] for p in self.pending]), reduction="sum").tolist()  # one sync
        now = time.perf_counter()
        if self.warm is None:
            self.warm = (now, self.tokens)
        rate = self.tokens / max(now - self.t0, 1e-9)
        for (step, _, lr, tokens), loss in zip(self.pending, values):
            self.losses.append(loss)
            if self.acc.is_main_process:
                _log(self.path, step, loss, lr, tokens, rate)
                if self.board is not None:
                    for k, v in (("loss", loss), ("lr", lr), ("tokens_per_s", rate)):
                        self.board.add_scalar(f"train/{k}", v, step)
        if self.bar:
            self.bar.set_postfix(loss=f"{values[-1]:.4f}", tok_s=f"{rate:,.0f}")
            self.bar.update(len(self.pending))
        self.pending = []
        self.end = (now, self.tokens)
        if final:
            if self.bar:
                self.bar.close()
            if self.board is not None:
                self.board.close()

    def steady_rate(self) -> float:
        """Tokens/s after the first step (which pays for compilation and allocator warm-up)."""
        if not self.warm or self.end[0] <= self.warm[0]:
            return self.tokens / max(time.perf_counter() - self.t0, 1e-9)
        return (self.end[1] - self.warm[1]) / (self.end[0] - self.warm[0])


def _checkpoint(acc, output_dir: str, step: int, scheduler) -> None:
    """Written beside its place and renamed into it: an interrupted save leaves no half checkpoint."""
    path = os.path.join(output_dir, f"checkpoint-{step}")
    tmp = path + ".partial"
    if acc.is_main_process and os.path.isdir(tmp):
        shutil.rmtree(tmp)
    acc.wait_for_everyone()
    acc.save_state(tmp)
    if acc.is_main_process:
        with open(os.path.join(tmp, "trainer_state.json"), "w") as fh:
            json.dump({"step": step, "scheduler": scheduler.state_dict()}, fh)
        if os.path.isdir(path):
            shutil.rmtree(path)
        os.replace(tmp, path)
    acc.wait_for_everyone()


def _log_kept_to(path: str, start: int) -> int:
    """Keep log.csv's rows up to step ``start`` (the checkpoint resumed from; 0: a fresh run) and
    return their token count: steps trained again after a resume, or an older run's rows in the
    same folder, are not logged twice."""
    if not os.path.exists(path):
        return 0
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    kept = [r for r in rows[1:] if r and r[0].isdigit() and int(r[0]) <= start]
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as fh:
        csv.writer(fh).writerows(rows[:1] + kept)
    os.replace(tmp, path)
    return int(kept[-1][3]) if kept else 0


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


