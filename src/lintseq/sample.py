"""Sampling programs from a model, edit by edit, and resolving them with the shared resolver.

For an edit-sequence model (``--format editseq``) each prompt is the bare instruction plus the
training view's suffix ``\\n<|diff|>``; ``--format plain`` prompts with ``instruction + "\\n"``.
As in the authors' evaluation, a sample stops at EOS or after ``max_new_tokens`` (512), and is
drawn with temperature and top-p only: no library default (transformers' ``top_k=50``) slips in
(``top_k=0``). ``--stop empty_edit`` also stops an edit sequence at the empty edit
(``\\n<|diff|>\\n<|diff|>``, matched on token ids), cheaper but not what the authors ran.
Texts become programs by ``resolve.py`` (the authors' rule and fence stripping, both formats alike). Rows: ``{task_id, completion, raw, format, prompt_tokens,
completion_tokens, sample, resolution}`` (``completion`` is the resolved program), plus
``SAMPLES.meta.json`` with the model's size and shape for FLOPs and the measured throughput.
Stopped (Ctrl-C, SIGTERM, a kill), it keeps every finished batch in ``SAMPLES.partial.jsonl``; the
same command resumes from there (``sample_partial.py``).

The model runs on the GPU when there is one (``device="auto"``), in bf16 where supported, in
large batches of prompts sorted by length (less padding); finished rows stop without decoding.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import ClassVar

from .formats import DIFF_TOKEN, SEP, prompt_for
from .jsonl import write_json, write_jsonl
from .resolve import resolve
from .sample_partial import Partial, discard, fingerprint
from .progress import progress_bar

STOP = SEP + SEP


@dataclass
class SampleConfig:
    CHOICES: ClassVar[dict] = {"format": ("editseq", "plain"), "resolve": ("authors", "strict", "paper"),
                               "extract": ("authors", "rescue"), "stop": ("eos", "empty_edit"),
                               "device": ("auto", "cpu", "cuda"), "dtype": ("auto", "bf16", "fp32"),
                               "backend": ("auto", "transformers", "vllm")}

    model: str
    """Checkpoint directory or hub name."""
    prompts: str
    """JSONL of ``{task_id, prompt}`` (``lintseq prompts``): the bare instruction."""
    output: str
    """Samples JSONL to write (and OUTPUT.meta.json beside it)."""
    n: int = 1
    """Samples per prompt."""
    temperature: float = 0.0
    """0 = greedy."""
    top_p: float = 1.0
    """Nucleus sampling: keep the smallest token set with this much probability (1 = off)."""
    min_p: float = 0.0
    """Keep tokens with at least min_p x the top token's probability (0 = off); the paper sweeps it."""
    top_k: int = 0
    """Keep the k most likely tokens (0 = off, as the paper: transformers would otherwise add top_k=50)."""
    max_new_tokens: int = 512
    """Most tokens generated per sample (the paper: 512)."""
    min_new_tokens: int = 0
    """EOS is masked until this many tokens (the authors' HumanEval runs pass vLLM min_tokens=8; 0 = off)."""
    stop: str = "eos"
    """eos (the authors: a sample ends at EOS or max_new_tokens) or empty_edit (edit sequences also end at the empty edit)."""
    batch_size: int = 0
    """Sequences per generate call (0: 512 on a GPU, 16 on the CPU)."""
    format: str = "editseq"
    """editseq (prompt + \\n<|diff|>, edits resolved to a program) or plain (prompt + \\n, program extracted)."""
    resolve: str = "authors"
    """How edit sequences become programs: authors (their resolve_edit_path, see diffs.py) or strict."""
    extract: str = "authors"
    """authors (markdown fences stripped, both formats) or rescue (also prose cut until the program parses, both formats)."""
    device: str = "auto"
    """``auto`` (cuda when available), ``cuda`` or ``cpu``."""
    dtype: str = "auto"
    """``auto`` (bf16 on a GPU that supports it, else fp32), ``bf16`` or ``fp32``."""
    seed: int = 0
    """Sampling seed."""
    backend: str = "auto"
    """``transformers``, ``vllm`` (GPU machines with vLLM installed) or ``auto``."""
    progress: bool = True


def _read_prompts(path: str) -> list[dict]:
    from .errors import LintseqError
    from .jsonl import read_jsonl

    rows = []
    for n, row, err in read_jsonl(path):
        if err or not isinstance(row.get("prompt"), str):
            raise LintseqError(f"{path}: {err or f'line {n} has no string prompt'}", fix="write prompts with `lintseq prompts`")
        rows.append(row)
    return rows


def _truncate_at_stop(text: str, fmt: str, stop: str) -> str:
    """Cut generated text just after the empty edit (edit-sequence format, ``stop=empty_edit``)."""
    if fmt == "editseq" and stop == "empty_edit" and STOP in text:
        return text[: text.index(STOP) + len(STOP)]
    return text


def sample(cfg: SampleConfig) -> dict:
    """Generate ``n`` samples per prompt; writes the samples and meta files; returns the meta."""
    backend = cfg.backend
    if backend == "auto":
        try:
            import torch
            import vllm  # noqa: F401

            backend = "vllm" if torch.cuda.is_available() else "transformers"
        except ImportError:
            backend = "transformers"
    check_config(cfg)
    rows = _read_prompts(cfg.prompts)
    started = time.perf_counter()
    out, meta = (_vllm if backend == "vllm" else _transformers)(cfg, rows)
    seconds = time.perf_counter() - started
    generated = meta.pop("new_tokens", sum(r["completion_tokens"] for r in out))  # this run's (not resumed rows')
    write_jsonl(cfg.output, out)
    if meta.get("resumed_samples") is not None:
        discard(cfg.output + ".partial.jsonl")
    res = [r["resolution"] for r in out]
    meta.update(backend=backend, format=cfg.format, resolve=cfg.resolve, extract=cfg.extract, n=cfg.n,
                temperature=cfg.temperature, top_p=cfg.top_p, min_p=cfg.min_p, top_k=cfg.top_k,
                max_new_tokens=cfg.max_new_tokens, min_new_tokens=cfg.min_new_tokens, stop=cfg.stop, samples=len(out),
                seconds=round(seconds, 3),
                samples_per_s=round((len(out) - meta.get("resumed_samples", 0)) / seconds, 3) if seconds else None,
                generated_tokens=generated, generated_tokens_per_s=round(generated / seconds, 1) if seconds else None,
                hunks=sum(r["hunks"] for r in res), malformed_hunks=sum(r["malformed"] for r in res),
                miscounted_hunks=sum(r["miscounted"] for r in res))
    write_json(cfg.output + ".meta.json", meta)
    return meta


def _device_and_dtype(cfg: SampleConfig):
    import torch

    from .errors import LintseqError

    device = cfg.device if cfg.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise LintseqError("--device cuda: no CUDA device is visible to torch", fix="use --device cpu or auto")
    bf16_ok = device.startswith("cuda") and torch.cuda.is_bf16_supported()
    if cfg.dtype == "bf16" or (cfg.dtype == "auto" and bf16_ok):
        return device, torch.bfloat16
    return device, torch.float32


def check_config(cfg: SampleConfig) -> None:
    """One line naming the field and its allowed values (``CHOICES``) or range for a bad value."""
    from .config import check_choices
    from .errors import LintseqError

    check_choices(cfg, "sample.")
    for key in ("n", "max_new_tokens"):
        if getattr(cfg, key) < 1:
            raise LintseqError(f"sample: {key}={getattr(cfg, key)} must be at least 1")
    for key in ("top_k", "min_new_tokens", "batch_size", "temperature"):
        if getattr(cfg, key) < 0:
            raise LintseqError(f"sample: {key}={getattr(cfg, key)} must not be negative")
    if not 0 < cfg.top_p <= 1 or not 0 <= cfg.min_p < 1:
        raise LintseqError(f"sample: top_p={cfg.top_p} must be in (0, 1] and min_p={cfg.min_p} in [0, 1)")


def generation_config(cfg: SampleConfig, tok):
    """The complete ``GenerationConfig`` (given whole, so no model or library default is merged in)."""
    from transformers import GenerationConfig

    kwargs = dict(max_new_tokens=cfg.max_new_tokens, min_new_tokens=cfg.min_new_tokens or None,
                  pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, do_sample=cfg.temperature > 0,
                  top_k=0, top_p=1.0, temperature=1.0)
    if cfg.temperature > 0:
        kwargs.update(temperature=cfg.temperature, top_p=cfg.top_p, top_k=cfg.top_k, min_p=cfg.min_p or None)
    return GenerationConfig(**kwargs)


def _stop_criteria(tok, fmt: str, stop: str = "empty_edit"):
    """Stop a row once its newest tokens are the empty edit's ids (checked on the device, per step)."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    if fmt != "editseq" or stop != "empty_edit":
        return None, None
    # <|diff|>\n<|diff|>: the newline before the first one may merge into the previous token
    stop_ids = tok(DIFF_TOKEN + "\n" + DIFF_TOKEN, add_special_tokens=False)["input_ids"]

    class StopAtEmptyEdit(StoppingCriteria):
        def __init__(self):
            self.stop = None

        def __call__(self, input_ids, scores, **kw):
            if self.stop is None:
                self.stop = torch.tensor(stop_ids, device=input_ids.device)
            if input_ids.shape[1] < len(stop_ids):
                return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
            return (input_ids[:, -len(stop_ids):] == self.stop).all(dim=1)

    return StoppingCriteriaList([StopAtEmptyEdit()]), stop_ids


def _generated_ids(ids: list[int], stop_ids: list[int] | None, eos: int | None, prompt: list[int] = ()) -> list[int]:
    """The tokens a row really generated: up to the empty edit or EOS (included), no padding.
    The empty edit may begin in the ``prompt`` (it ends with ``<|diff|>``; the stop criterion
    sees both), so its last tokens are searched too."""
    end = len(ids)
    if eos is not None and eos in ids:
        end = ids.index(eos) + 1
    if stop_ids:
        k = len(stop_ids)
        tail = list(prompt[len(prompt) - (k - 1):]) if k > 1 and len(prompt) >= k - 1 else []
        seq = tail + ids[:end]
        for i in range(0, len(seq) - k + 1):
            if seq[i: i + k] == stop_ids:
                return ids[: i + k - len(tail)]
    return ids[:end]


def _transformers(cfg: SampleConfig, rows: list[dict]) -> tuple[list[dict], dict]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    from .errors import LintseqError
    from .modelinfo import model_meta

    torch.manual_seed(cfg.seed)
    device, dtype = _device_and_dtype(cfg)
    if not os.path.isdir(cfg.model) and os.environ.get("HF_HUB_OFFLINE") == "1":
        raise LintseqError(f"model {cfg.model!r}: no such directory (and HF_HUB_OFFLINE=1)",
                           fix="give a checkpoint directory (e.g. runs/x/final, or `lintseq model import-gguf -o DIR`)")
    tok = AutoTokenizer.from_pretrained(cfg.model)
    model = AutoModelForCausalLM.from_pretrained(cfg.model, dtype=dtype).to(device).eval()
    # transformers fills what our config leaves unset from the checkpoint's generation_config.json
    # (repetition_penalty, no_repeat_ngram_size, min_p, ...): every setting must be ours
    model.generation_config = GenerationConfig()
    if cfg.format == "editseq" and DIFF_TOKEN not in tok.get_vocab():
        raise LintseqError(f"{cfg.model} has no {DIFF_TOKEN} token: it was not trained on edit sequences",
                           fix="use --format plain")
    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    stops, stop_ids = _stop_criteria(tok, cfg.format, cfg.stop)
    gen_config = generation_config(cfg, tok)
    batch = cfg.batch_size or (512 if device.startswith("cuda") else 16)
    texts = [prompt_for(r["prompt"], cfg.format) for r in rows]
    lengths = [len(tok(t, add_special_tokens=False)["input_ids"]) for t in texts]
    # longest prompts first: each batch pads to its own longest, and memory peaks early
    kept = Partial(cfg.output + ".partial.jsonl", fingerprint(cfg))  # rows an interrupted run finished
    results: dict[tuple[int, int], dict] = dict(kept.done)
    jobs = sorted(((i, k) for i in range(len(rows)) for k in range(cfg.n) if (i, k) not in results),
                  key=lambda j: (-lengths[j[0]], j))
    bar = progress_bar("lintseq sample", "sample", len(jobs), enabled=cfg.progress)
    started, generated = time.perf_counter(), 0
    for b in range(0, len(jobs), batch):
        chunk = jobs[b: b + batch]
        enc = tok([texts[i] for i, _ in chunk], return_tensors="pt", padding=True, add_special_tokens=False).to(device)
        width = enc["input_ids"].shape[1]
        # each batch's random stream from the seed and its first job: a resumed run's first batch
        # does not replay the first batch the interrupted run kept (duplicates would count in pass@k)
        first_i, first_k = chunk[0]
        torch.manual_seed(cfg.seed * 1_000_003 + first_i * cfg.n + first_k)
        with torch.inference_mode():
            gen = model.generate(**enc, generation_config=gen_config, stopping_criteria=stops)
        finished = []
        for row, ((i, k), ids) in enumerate(zip(chunk, gen[:, width:].tolist())):
            ids = _generated_ids(ids, stop_ids, tok.eos_token_id, enc["input_ids"][row].tolist())
            raw = _truncate_at_stop(tok.decode(ids, skip_special_tokens=False), cfg.format, cfg.stop)
            res = resolve(raw, cfg.format, cfg.resolve, tok.eos_token, cfg.extract)
            generated += len(ids)
            results[(i, k)] = {"task_id": rows[i].get("task_id"), "completion": res.program, "raw": raw,
                               "format": cfg.format, "eos": tok.eos_token, "prompt_tokens": lengths[i], "completion_tokens": len(ids),
                               "sample": k, "resolution": res.info()}
            finished.append(((i, k), results[(i, k)]))
        kept.add(finished)
        if bar:
            elapsed = time.perf_counter() - started
            bar.update(len(chunk))
            bar.set_postfix(tok_s=f"{generated / elapsed:.0f}", refresh=False)
    if bar:
        bar.close()
    out = [results[(i, k)] for i in range(len(rows)) for k in range(cfg.n)]
    meta = {"model": os.path.abspath(cfg.model) if os.path.isdir(cfg.model) else cfg.model, **model_meta(model),
            "device": device, "dtype": str(dtype).replace("torch.", ""), "batch_size": batch,
            "resumed_samples": len(kept.done), "new_tokens": generated}
    return out, meta




def _vllm(cfg: SampleConfig, rows: list[dict]) -> tuple[list[dict], dict]:  # pragma: no cover - GPU machines
    from vllm import LLM, SamplingParams

    from .modelinfo import meta_from_config

    llm = LLM(cfg.model, seed=cfg.seed)
    tok = llm.get_tokenizer()
    params = SamplingParams(n=cfg.n, temperature=cfg.temperature, top_p=cfg.top_p, min_p=cfg.min_p,
                            top_k=cfg.top_k or -1, max_tokens=cfg.max_new_tokens, min_tokens=cfg.min_new_tokens,
                            stop=[STOP] if cfg.format == "editseq" and cfg.stop == "empty_edit" else None,
                            include_stop_str_in_output=True, skip_special_tokens=False)
    results = llm.generate([prompt_for(r["prompt"], cfg.format) for r in rows], params)
    out = []
    for r, res in zip(rows, results):
        for k, o in enumerate(res.outputs):
            resolution = resolve(o.text, cfg.format, cfg.resolve, tok.eos_token, cfg.extract)
            out.append({"task_id": r.get("task_id"), "completion": resolution.program, "raw": o.text,
                        "format": cfg.format, "eos": tok.eos_token, "prompt_tokens": len(res.prompt_token_ids),
                        "completion_tokens": len(o.token_ids), "sample": k, "resolution": resolution.info()})
    return out, {"model": cfg.model, **meta_from_config(cfg.model), "device": "cuda", "dtype": "auto"}
