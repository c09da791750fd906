"""Sampling programs from a model, edit by edit, and resolving them with the shared applier.

For an edit-sequence model (``--format editseq``) each prompt is the bare instruction plus the
training view's suffix ``\\n<|diff|>``; generation stops at the empty edit (``\\n<|diff|>\\n<|diff|>``)
or EOS, and the edits are applied to an empty file by the same code ``lintseq verify`` and
``lintseq evaluate`` use (malformed hunks skipped). ``--format plain`` prompts with
``instruction + "\\n"`` and takes the text as the program. Rows:
``{task_id, completion, raw, format, prompt_tokens, completion_tokens}`` (``completion`` is the
resolved program), plus ``SAMPLES.meta.json`` with the model's size and shape for FLOPs.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from .diffs import apply_edits
from .formats import DIFF_TOKEN, SEP, split_completion

STOP = SEP + SEP


@dataclass
class SampleConfig:
    model: str
    prompts: str
    output: str
    n: int = 1
    """Samples per prompt."""
    temperature: float = 0.0
    """0 = greedy."""
    top_p: float = 1.0
    max_new_tokens: int = 512
    batch_size: int = 16
    format: str = "editseq"
    seed: int = 0
    backend: str = "auto"
    """``transformers``, ``vllm`` (GPU machines with vLLM installed) or ``auto``."""
    progress: bool = True


def resolve(raw: str, fmt: str, eos: str | None = None) -> tuple[str, int]:
    """(program, malformed hunks) from generated text."""
    if eos and raw.endswith(eos):
        raw = raw[: -len(eos)]
    if fmt == "plain":
        return raw, 0
    applied = apply_edits(split_completion(raw))
    return applied.text, applied.malformed


def prompt_text(instruction: str, fmt: str) -> str:
    return instruction + (SEP if fmt == "editseq" else "\n")


def _read_prompts(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _truncate_at_stop(text: str, fmt: str) -> str:
    """Cut generated text just after the empty edit (edit-sequence format)."""
    if fmt == "editseq" and STOP in text:
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
    rows = _read_prompts(cfg.prompts)
    if backend == "vllm":
        out, meta = _vllm(cfg, rows)
    else:
        out, meta = _transformers(cfg, rows)
    with open(cfg.output, "w", encoding="utf-8") as fh:
        for r in out:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    meta.update(backend=backend, format=cfg.format, n=cfg.n, temperature=cfg.temperature, top_p=cfg.top_p,
                samples=len(out), malformed_rows=sum(1 for r in out if r["malformed_hunks"]))
    with open(cfg.output + ".meta.json", "w", encoding="utf-8") as fh:
        json.dump(meta, fh, indent=1)
    return meta


def _transformers(cfg: SampleConfig, rows: list[dict]) -> tuple[list[dict], dict]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, StoppingCriteria, StoppingCriteriaList

    from .train.models import model_meta

    torch.manual_seed(cfg.seed)
    tok = AutoTokenizer.from_pretrained(cfg.model)
    model = AutoModelForCausalLM.from_pretrained(cfg.model, dtype=torch.float32).eval()
    if cfg.format == "editseq" and DIFF_TOKEN not in tok.get_vocab():
        raise ValueError(f"{cfg.model} has no {DIFF_TOKEN} token: it was not trained on edit sequences (use --format plain)")
    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token

    class StopAtEmptyEdit(StoppingCriteria):
        def __init__(self, start: int):
            self.start = start

        def __call__(self, input_ids, scores, **kw):
            texts = tok.batch_decode(input_ids[:, self.start:], skip_special_tokens=False)
            return torch.tensor([STOP in t for t in texts], device=input_ids.device)

    jobs = [(r, k) for r in rows for k in range(cfg.n)]
    out = []
    bar = None
    if cfg.progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), unit="sample", desc="lintseq sample", dynamic_ncols=True)
    for b in range(0, len(jobs), cfg.batch_size):
        chunk = jobs[b: b + cfg.batch_size]
        texts = [prompt_text(r["prompt"], cfg.format) for r, _ in chunk]
        enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        width = enc["input_ids"].shape[1]
        stops = StoppingCriteriaList([StopAtEmptyEdit(width)]) if cfg.format == "editseq" else None
        kwargs = dict(do_sample=True, temperature=cfg.temperature, top_p=cfg.top_p) if cfg.temperature > 0 else dict(do_sample=False)
        with torch.no_grad():
            gen = model.generate(**enc, max_new_tokens=cfg.max_new_tokens, stopping_criteria=stops,
                                 pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, **kwargs)
        for (r, k), ids, mask in zip(chunk, gen[:, width:], enc["attention_mask"]):
            ids = ids.tolist()
            if tok.eos_token_id in ids:  # keep up to and including EOS, drop padding after it
                ids = ids[: ids.index(tok.eos_token_id) + 1]
            raw = _truncate_at_stop(tok.decode(ids, skip_special_tokens=False), cfg.format)
            program, malformed = resolve(raw, cfg.format, tok.eos_token)
            out.append({"task_id": r.get("task_id"), "completion": program, "raw": raw, "format": cfg.format,
                        "prompt_tokens": int(mask.sum()), "completion_tokens": len(tok(raw, add_special_tokens=False)["input_ids"]),
                        "sample": k, "malformed_hunks": malformed})
        if bar:
            bar.update(len(chunk))
    if bar:
        bar.close()
    return out, {"model": os.path.abspath(cfg.model) if os.path.isdir(cfg.model) else cfg.model, **model_meta(model)}


def _vllm(cfg: SampleConfig, rows: list[dict]) -> tuple[list[dict], dict]:  # pragma: no cover - GPU machines
    from vllm import LLM, SamplingParams

    llm = LLM(cfg.model, seed=cfg.seed)
    tok = llm.get_tokenizer()
    params = SamplingParams(n=cfg.n, temperature=cfg.temperature, top_p=cfg.top_p, max_tokens=cfg.max_new_tokens,
                            stop=[STOP] if cfg.format == "editseq" else None, include_stop_str_in_output=True,
                            skip_special_tokens=False)
    results = llm.generate([prompt_text(r["prompt"], cfg.format) for r in rows], params)
    out = []
    for r, res in zip(rows, results):
        for k, o in enumerate(res.outputs):
            program, malformed = resolve(o.text, cfg.format, tok.eos_token)
            out.append({"task_id": r.get("task_id"), "completion": program, "raw": o.text, "format": cfg.format,
                        "prompt_tokens": len(res.prompt_token_ids), "completion_tokens": len(o.token_ids),
                        "sample": k, "malformed_hunks": malformed})
    return out, {"model": cfg.model, **_meta_from_config(cfg.model)}


def _meta_from_config(model: str) -> dict:
    """Model size from its config alone (a meta-device build: no weights are loaded)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from .train.models import model_meta

    with torch.device("meta"):
        return model_meta(AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(model)))
