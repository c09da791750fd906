"""The stages of ``lintseq experiment`` (see ``experiment.py``): each reads what earlier stages
wrote under OUT and returns a small JSON-able result that ``stages.json`` keeps."""

from __future__ import annotations

import dataclasses
import json
import os

from ..errors import LintseqError
from ..jsonl import write_jsonl
from . import ExperimentConfig

VIEW = {"baseline": "baseline", "lintseq": "editseq", "randseq": "editseq"}
DATA = {"baseline": "lintseq.jsonl", "lintseq": "lintseq.jsonl", "randseq": "randseq.jsonl"}


def check_sandbox(cfg: ExperimentConfig) -> None:
    from ..evaluate.isolation import probe

    status = probe()
    if not status.ok and not cfg.evaluate.unsafe_no_sandbox:
        raise LintseqError(f"refusing to start: the evaluate stages need a sandbox and {status.detail}", status.fix)


def pairs(cfg: ExperimentConfig, path: str) -> dict:
    """The training pairs: the given JSONL, or ``corpus build``'s train split."""
    dropped = against = None
    if cfg.pairs:
        if not os.path.isfile(cfg.pairs):
            raise LintseqError(f"pairs file {cfg.pairs!r} does not exist", fix="pairs= a JSONL of instruction/response, or leave it empty to build a corpus")
        parsed = []
        with open(cfg.pairs, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        parsed.append(json.loads(line))
                    except ValueError:
                        raise LintseqError(f"{cfg.pairs}: line {n} is not JSON", fix="one {instruction, response} object per line") from None
        if cfg.decontaminate:
            from ..data.decontam import decontaminate_pairs

            parsed, dropped, against = decontaminate_pairs(parsed, cfg.data_dir or None)
        rows = [json.dumps(p, ensure_ascii=False) + "\n" for p in parsed]
        source = cfg.pairs
    else:
        from ..data.corpus import build_corpus

        packages = [p.strip() for p in cfg.packages.split(",") if p.strip()]
        built, counts = build_corpus(packages, cfg.data_dir or None, seed=cfg.seed)
        rows = [json.dumps(p, ensure_ascii=False) + "\n" for p in built if p["split"] == "train"]
        source = (f"corpus build (stdlib{''.join(',' + p for p in packages)}): {counts['kept']} kept, "
                  f"decontaminated against {counts['decontaminated_against']}")
    if cfg.max_pairs:
        rows = rows[: cfg.max_pairs]
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(rows)
    return {"pairs": len(rows), "source": source, "dropped_contaminated_13gram": dropped, "decontaminated_against": against}


def generate_data(cfg: ExperimentConfig, out: str, arms: list[str]) -> dict:
    from ..generate import generate

    result = {}
    for sampler, name in (("lintseq", "lintseq.jsonl"), ("randseq", "randseq.jsonl")):
        if sampler == "randseq" and "randseq" not in arms:
            continue
        summary = generate(dataclasses.replace(cfg.generate, output=os.path.join(out, name), input=os.path.join(out, "pairs.jsonl"),
                                               seed=cfg.seed, sampler=sampler, overwrite=True, progress=False))
        result[sampler] = {k: summary.get(k) for k in ("programs_in", "sequences_out", "rejected", "mean_edits_per_sequence",
                                                       "mean_lines_per_edit", "seconds", "warnings")}
    return result


def prompts(cfg: ExperimentConfig, path: str) -> dict:
    from ..tasks import load_benchmark

    tasks = list(load_benchmark(cfg.benchmark, cfg.data_dir or None).values())
    if cfg.limit_tasks:
        tasks = tasks[: cfg.limit_tasks]
    write_jsonl(path, ({"task_id": t.task_id, "prompt": t.instruction} for t in tasks))
    return {"tasks": len(tasks)}


def equal_steps(cfg: ExperimentConfig, out: str) -> int:
    """Optimizer steps for every arm: the baseline's epochs over its programs (the paper's 10 epochs
    of programs = 2 epochs of s = 5 sequences), scaled."""
    with open(os.path.join(out, "lintseq.jsonl"), encoding="utf-8") as fh:
        programs = len({json.loads(line)["source_id"] for line in fh if line.strip()})
    if not programs:
        raise LintseqError("the generate stage produced no sequences", fix="check OUT/lintseq.jsonl.rejects.jsonl and the pairs' fields")
    return max(1, round(cfg.baseline_epochs * cfg.epoch_scale * programs / cfg.train.global_batch))


def _ensure_model(cfg: ExperimentConfig) -> None:
    # import_gguf names a folder to make, so "models/smollm2" is a path here, never a hub name
    if cfg.import_gguf and not os.path.isdir(cfg.model):
        from ..train.models import find_smollm2_gguf, import_gguf

        import_gguf(find_smollm2_gguf(), cfg.model)


def train_arm(cfg: ExperimentConfig, out: str, arm: str, steps: int) -> dict:
    from ..train.loop import train

    _ensure_model(cfg)
    tc = dataclasses.replace(cfg.train, model=cfg.model, data=os.path.join(out, DATA[arm]), view=VIEW[arm],
                             output_dir=os.path.join(out, arm, "model"), max_steps=steps, seed=cfg.seed)
    result = train(tc)
    _free_accelerator()
    losses = result.get("losses") or []
    return {"model": result["output"], "steps": result["steps"], "examples": result.get("examples"),
            "first_loss": losses[0] if losses else None, "last_loss": losses[-1] if losses else None, "lr": tc.lr,
            "tokens_per_s": result.get("tokens_per_s"), "train_seconds": result.get("train_seconds")}


def _free_accelerator() -> None:
    import gc

    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:
        pass


def sample_arm(cfg: ExperimentConfig, out: str, arm: str) -> dict:
    from ..sample import sample

    meta = sample(dataclasses.replace(cfg.sample, model=os.path.join(out, arm, "model", "final"),
                                      prompts=os.path.join(out, "prompts.jsonl"), output=os.path.join(out, arm, "samples.jsonl"),
                                      format="plain" if arm == "baseline" else "editseq", seed=cfg.seed, progress=False))
    _free_accelerator()
    keep = ("samples", "seconds", "samples_per_s", "generated_tokens_per_s", "device", "dtype", "format", "resolve",
            "extract", "temperature", "top_p", "min_p", "top_k", "max_new_tokens", "min_new_tokens", "stop")
    return {k: meta.get(k) for k in keep}


def evaluate_arm(cfg: ExperimentConfig, out: str, arm: str) -> dict:
    from ..evaluate.pipeline import evaluate

    ks = tuple(k for k in cfg.evaluate.ks if k <= cfg.sample.n)  # pass@k needs n >= k
    summary = evaluate(dataclasses.replace(cfg.evaluate, samples=os.path.join(out, arm, "samples.jsonl"),
                                           benchmark=cfg.benchmark, ks=ks, data_dir=cfg.data_dir or None,
                                           limit_tasks=cfg.limit_tasks, resolve=cfg.sample.resolve,
                                           extract=cfg.sample.extract, progress=False))
    keep = ("samples", "tasks_scored", "coverage", "verdicts", "isolation", "flops", "malformed_rate", "hunks",
            "plain_extraction", "truncated_rate", "resolve", "extract")
    return {**{k: v for k, v in summary.items() if k.startswith("pass@")}, **{k: summary.get(k) for k in keep}}


def summarize(cfg: ExperimentConfig, out: str, arms: list[str], state: dict) -> dict:
    results = state["results"]
    summary = {"arms": {}, "config": state["config"]}
    for arm in arms:
        ev, tr, sm = results[f"evaluate_{arm}"], results[f"train_{arm}"], results[f"sample_{arm}"]
        summary["arms"][arm] = {**{k: v for k, v in ev.items() if k.startswith("pass@")}, "flops": ev.get("flops"),
                                "malformed_rate": ev.get("malformed_rate"), "train_tokens_per_s": tr.get("tokens_per_s"),
                                "sample_tokens_per_s": sm.get("generated_tokens_per_s"), "train_steps": tr.get("steps"),
                                "last_loss": tr.get("last_loss"), "verdicts": ev.get("verdicts"),
                                "isolation": ev.get("isolation"), "lr": tr.get("lr"),
                                # how this arm was sampled and scored: the same for every arm
                                "sampling": {k: sm.get(k) for k in ("temperature", "top_p", "min_p", "top_k", "max_new_tokens",
                                                                    "min_new_tokens", "stop")},
                                "resolution": {"format": sm.get("format"), "rule": sm.get("resolve"),
                                               "extract": sm.get("extract")},
                                "truncated_rate": ev.get("truncated_rate")}
    summary["data"] = {"pairs": results.get("pairs"), "generate": results.get("generate"), "prompts": results.get("prompts")}
    return summary


def write_report(out: str, summary: dict) -> dict:
    from ..evaluate.report import markdown_table, plot

    runs = []
    for arm, s in summary["arms"].items():
        runs.append((arm, {**s, "benchmark": summary["config"]["benchmark"],
                           "samples": summary["config"]["sample"]["n"] * summary["data"]["prompts"]["tasks"]}))
    lines = ["# lintseq experiment", "", markdown_table(runs), "",
             "| arm | train steps | lr | last loss | train tokens/s | sample tokens/s | malformed rate | truncated rate "
             "| T / top-p / top-k | max new tokens | stop | rule | extract |", "|---" * 13 + "|"]
    fmt = lambda v, spec: format(v, spec) if isinstance(v, (int, float)) else "-"
    for arm, s in summary["arms"].items():
        sp, rs = s.get("sampling") or {}, s.get("resolution") or {}
        lines.append(f"| {arm} | {s['train_steps']} | {fmt(s.get('lr'), 'g')} | {fmt(s['last_loss'], '.4g')} | "
                     f"{fmt(s['train_tokens_per_s'], ',.0f')} | {fmt(s['sample_tokens_per_s'], ',.0f')} | "
                     f"{fmt(s['malformed_rate'], '.3f')} | {fmt(s.get('truncated_rate'), '.3f')} | "
                     f"{sp.get('temperature')} / {sp.get('top_p')} / {sp.get('top_k')} | {sp.get('max_new_tokens')} | "
                     f"{sp.get('stop')} | {rs.get('rule') if rs.get('format') == 'editseq' else '-'} | {rs.get('extract')} |")
    with open(os.path.join(out, "report.md"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return {"files": [os.path.join(out, "report.md")] + plot(runs, out)}
