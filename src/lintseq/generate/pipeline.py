"""The generation pipeline: rows in, edit-sequence records out; parallel and resumable.

Files written next to ``OUT.jsonl``: ``OUT.rejects.jsonl`` (``{source_id, reason, detail}``),
``OUT.meta.json`` (what decides the records, checked on resume) and ``OUT.summary.json``.

Resume: each program's s records are appended in one write and flushed. Run again after any
interruption (kill -9 included), the pipeline keeps every complete program, drops a torn
trailing line or partial group, and processes only the rows still missing, so the result
equals an uninterrupted run with the same seed.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> src = os.path.join(d, "in.jsonl")
    >>> _ = open(src, "w").write('{"instruction": "Add.", "response": "def add(a, b):\\\\n    return a + b"}\\n')
    >>> summary = generate(GenerateConfig(input=src, output=os.path.join(d, "out.jsonl"), samples=2, progress=False))
    >>> summary["sequences_out"], summary["programs_in"]
    (2, 1)
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import ClassVar, Iterable, Iterator

from .engines import ENGINES, run_chunks
from ..errors import LintseqError
from .records import SAMPLERS, JobSpec, Tally
from ..oracle import DEFAULT_LINTER, LINTERS
from ..data.sources import Row, count_rows, iter_rows
from ..progress import progress_bar


@dataclass
class GenerateConfig:
    CHOICES: ClassVar[dict] = {"linter": LINTERS, "sampler": SAMPLERS, "engine": ENGINES}

    """One ``lintseq generate`` run."""

    output: str
    """Records file (JSONL); side files share its stem."""
    input: str | None = None
    """JSONL, Parquet, or Hugging Face dataset name/folder (default: 1000 standard-library functions)."""
    samples: int = 5
    """Edit sequences per program (the paper's s)."""
    seed: int = 0
    """Base seed; each sequence is seeded by (seed, row, sample)."""
    linter: str = DEFAULT_LINTER
    """Oracle: fast (compile + pyflakes + pylint's structural rules, no pylint), hybrid (fast, and pylint
    confirms the states with classes or third-party imports) or pylint (the paper's exact one)."""
    sampler: str = "lintseq"
    """lintseq, or randseq: the linter-free ablation."""
    max_lines: int = 1000
    """Reject longer programs as too_large; 0 lifts the limit."""
    workers: int = 1
    """Worker processes."""
    engine: str = "local"
    """local (process pool) or ray."""
    address: str | None = None
    """Ray cluster address for --engine ray (default: start a local Ray)."""
    instruction_field: str = "instruction"
    """Input field holding the instruction."""
    code_field: str = "response"
    """Input field holding the program; markdown fences are extracted only when the text does not parse as Python."""
    split: str = "train"
    """Dataset split for Hugging Face inputs."""
    limit: int | None = None
    """Only the first N rows (default: all; the embedded corpus: 1000)."""
    overwrite: bool = False
    """Discard OUT instead of resuming it (default: resume)."""
    chunk_size: int = 8
    """Rows per task handed to a worker."""
    progress: bool = True
    parquet: bool = False
    """Also write OUT.parquet when the run ends."""

    @property
    def spec(self) -> JobSpec:
        return JobSpec(self.samples, self.seed, self.linter, self.sampler, self.max_lines)


class ResumeMismatch(LintseqError):
    """OUT was written by a different job; pass overwrite to start afresh."""


def _differences(old: dict, new: dict, prefix: str = "") -> list[str]:
    """``field: old -> new`` for each leaf that differs between two meta dicts.

    >>> _differences({"job": {"seed": 0, "s": 5}}, {"job": {"seed": 1, "s": 5}})
    ['job.seed: 0 -> 1']
    """
    out = []
    for key in sorted(set(old) | set(new), key=str):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}: {a} -> {b}")
    return out


def side_path(output: str, suffix: str) -> str:
    stem = output[: -len(".jsonl")] if output.endswith(".jsonl") else output
    return f"{stem}.{suffix}"


def _fingerprint(cfg: GenerateConfig) -> dict:
    if cfg.input is None:
        return {"kind": "stdlib", "python": sys.version.split()[0], "limit": cfg.limit}
    if os.path.isfile(cfg.input):
        with open(cfg.input, "rb") as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
        return {"kind": "file", "sha256": digest, "limit": cfg.limit}
    if os.path.isdir(cfg.input):  # a save_to_disk folder: its metadata and its data files' sizes and times
        listing = []
        for folder, _, files in sorted(os.walk(cfg.input)):
            for name in sorted(files):
                st = os.stat(os.path.join(folder, name))
                listing.append([os.path.relpath(os.path.join(folder, name), cfg.input), st.st_size, st.st_mtime_ns])
        digest = hashlib.sha256(json.dumps(listing).encode()).hexdigest()
        return {"kind": "dataset", "name": cfg.input, "split": cfg.split, "limit": cfg.limit, "files": digest}
    return {"kind": "dataset", "name": cfg.input, "split": cfg.split, "limit": cfg.limit}


def _meta(cfg: GenerateConfig) -> dict:
    return {"input": _fingerprint(cfg), "job": cfg.spec.as_dict(),
            "fields": [cfg.instruction_field, cfg.code_field]}


def _scan(path: str, key, keep) -> tuple[list[dict], bool]:
    """Parse complete lines of ``path``; returns (objects kept, whether the file needs rewriting)."""
    objs, dirty = [], False
    if not os.path.exists(path):
        return objs, False
    with open(path, "rb") as fh:
        for raw in fh:
            try:
                if not raw.endswith(b"\n"):
                    raise ValueError("torn line")
                objs.append(json.loads(raw))
            except ValueError:
                dirty = True
    kept = [o for o in objs if keep(key(o))]
    return kept, dirty or len(kept) != len(objs)


def _rewrite(path: str, objs: list[dict]) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        for o in objs:
            fh.write(json.dumps(o, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def _resume(cfg: GenerateConfig, out: str, rej: str) -> tuple[set[int], list[dict], list[dict]]:
    """Check the meta file and recover what a previous run finished."""
    meta_path = side_path(out, "meta.json")
    meta = _meta(cfg)
    if cfg.overwrite:
        for p in (out, rej, meta_path, side_path(out, "summary.json")):
            if os.path.exists(p):
                os.remove(p)
    elif os.path.exists(meta_path):
        with open(meta_path, encoding="utf-8") as fh:
            old = json.load(fh)
        if old != meta:
            raise ResumeMismatch(
                f"{out} was written with different settings ({'; '.join(_differences(old, meta))}); "
                "refusing to mix them", fix="add --overwrite to start afresh, or write to another -o")
    elif os.path.exists(out) and os.path.getsize(out) > 0:
        raise ResumeMismatch(f"{out} exists but has no {meta_path}", fix="add --overwrite or use another -o")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(meta_path, "w", encoding="utf-8") as fh:
        json.dump(meta, fh, indent=1)

    records, dirty = _scan(out, lambda o: o["source_id"], lambda sid: True)
    per_source = Counter(r["source_id"] for r in records)
    complete = {sid for sid, n in per_source.items() if n == cfg.samples}
    kept = [r for r in records if r["source_id"] in complete]
    if dirty or len(kept) != len(records):
        _rewrite(out, kept)
    rejects, dirty = _scan(rej, lambda o: o["source_id"], lambda sid: sid not in complete)
    if dirty:
        _rewrite(rej, rejects)
    return complete | {r["source_id"] for r in rejects}, kept, rejects


def _rows(cfg: GenerateConfig) -> Iterator[Row]:
    if cfg.input is None:
        from ..data.corpus import stdlib_rows

        rows: Iterable[Row] = stdlib_rows(limit=cfg.limit or 1000)
    else:
        rows = iter_rows(cfg.input, cfg.instruction_field, cfg.code_field, cfg.split)
        if cfg.limit:
            rows = itertools.islice(rows, cfg.limit)
    return iter(rows)


def _chunks(rows: Iterator[Row], done: set[int], size: int) -> Iterator[list[Row]]:
    todo = (r for r in rows if r.source_id not in done)
    while chunk := list(itertools.islice(todo, size)):
        yield chunk


def _progress(cfg: GenerateConfig, initial: int):
    if not cfg.progress:  # no bar: neither count the input's rows nor import tqdm
        return None
    total = None
    if cfg.input is not None and os.path.isfile(cfg.input):
        total = count_rows(cfg.input)
        if total is not None and cfg.limit:
            total = min(total, cfg.limit)
    elif cfg.input is None:
        total = cfg.limit or 1000
    return progress_bar("lintseq generate", "prog", total, initial)


def generate(cfg: GenerateConfig) -> dict:
    """Run (or finish) a generation job and return its summary (also written to disk).

    Raises :class:`LintseqError` when rows were read but none produced a sequence (wrong field
    names, most often); a run that fails leaves no empty output files behind.
    """
    if cfg.input is not None and os.path.isfile(cfg.input) and _blank(cfg.input):
        raise LintseqError(f"{cfg.input} is empty: nothing to generate from",
                           fix="give a file with one JSON object per line holding an instruction and a program")
    out, rej = cfg.output, side_path(cfg.output, "rejects.jsonl")
    side = [out, rej, side_path(out, "meta.json"), side_path(out, "summary.json")]
    folder = os.path.dirname(os.path.abspath(out))
    existed = {p for p in [*side, folder] if os.path.exists(p)}
    try:
        summary = _run(cfg, out, rej)
    except BaseException:
        _remove_new_empty(side, existed, folder)
        raise
    if not summary["sequences_out"]:
        for p in side:  # nothing to resume from; stale rejects would make a rerun skip every row
            if os.path.exists(p):
                os.remove(p)
        _remove_new_empty([], existed, folder)
        raise _nothing_made(cfg, summary)
    return summary


def _blank(path: str) -> bool:
    """Nothing but whitespace in the file (read no further than the first other byte)."""
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 16):
            if chunk.strip():
                return False
    return True


def _nothing_made(cfg: GenerateConfig, summary: dict) -> LintseqError:
    """Why no row produced a sequence, and the fix that matches the rows' reject reasons."""
    source, n = cfg.input or "the stdlib corpus", summary["programs_in"]
    if not n:
        return LintseqError(f"{source} has no rows: nothing to generate from",
                            fix="give a file with one JSON object per line holding an instruction and a program")
    reasons = summary["rejected_by_reason"]
    rejected = ", ".join(f"{k} {v}" for k, v in reasons.items())
    head = f"read {n} row{'s' if n != 1 else ''} of {source} but none produced a sequence (rejected: {rejected})"
    if reasons.get("not_utf8", 0) * 2 >= n:
        return LintseqError(f"{head}: the file is not UTF-8 text",
                            fix=f"convert it, e.g. iconv -f latin1 -t utf-8 {source} > fixed.jsonl")
    if reasons.get("syntax_error", 0) * 2 >= n:
        return LintseqError(f"{head}: the programs in field {cfg.code_field!r} do not compile as Python 3",
                            fix="check --code-field names the field holding the code (markdown fences are extracted)")
    return LintseqError(f"{head}; looked for the instruction in field {cfg.instruction_field!r} and the program "
                        f"in {cfg.code_field!r}",
                        fix="name your fields with --instruction-field and --code-field (defaults: instruction, response)")


def _remove_new_empty(paths: list[str], existed: set[str], folder: str) -> None:
    """After a failure: remove the files (and the folder) this run created, unless it wrote
    records that a rerun can resume from."""
    if paths and os.path.exists(paths[0]) and os.path.getsize(paths[0]) > 0:
        return
    for p in paths:
        if p not in existed and os.path.exists(p):
            os.remove(p)
    if folder not in existed and os.path.isdir(folder) and not os.listdir(folder):
        os.rmdir(folder)


def _run(cfg: GenerateConfig, out: str, rej: str) -> dict:
    done, old_records, old_rejects = _resume(cfg, out, rej)
    tally = Tally()
    by_source: dict[int, list[dict]] = {}
    for rec in old_records:
        by_source.setdefault(rec["source_id"], []).append(rec)
    for recs in by_source.values():
        tally.add(recs)
    reasons = Counter(r["reason"] for r in old_rejects)
    n_prog, n_new_seq, calls = len(done), 0, 0
    bar = _progress(cfg, len(done))
    start = time.perf_counter()
    with open(out, "a", encoding="utf-8") as fo, open(rej, "a", encoding="utf-8") as fr:
        chunks = _chunks(_rows(cfg), done, cfg.chunk_size)
        for results in run_chunks(chunks, cfg.spec, cfg.engine, cfg.workers, cfg.address):
            for res in results:
                if res.reject is not None:
                    fr.write(json.dumps(res.reject.to_json(), ensure_ascii=False) + "\n")
                    fr.flush()
                    reasons[res.reject.reason] += 1
                else:
                    fo.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in res.records))
                    fo.flush()
                    tally.add(res.records)
                    n_new_seq += len(res.records)
                calls += res.lint_calls
                n_prog += 1
            if bar is not None:
                bar.update(len(results))
    if bar is not None:
        bar.close()
    elapsed = time.perf_counter() - start
    summary = {
        "output": out,
        "programs_in": n_prog,
        "sequences_out": tally.sequences,
        "rejected": sum(reasons.values()),
        "rejected_by_reason": dict(sorted(reasons.items())),
        "mean_edits_per_sequence": round(tally.edits / tally.sequences, 4) if tally.sequences else 0.0,
        "mean_lines_per_edit": round(tally.lines / tally.edits, 4) if tally.edits else 0.0,
        **tally.as_dict(),
        "warnings": tally.warnings(),
        "resumed_programs": len(done),
        "new_sequences": n_new_seq,
        "seconds": round(elapsed, 3),
        "sequences_per_second": round(n_new_seq / elapsed, 2) if elapsed > 0 else None,
        "lint_calls": calls,
        **cfg.spec.as_dict(),
        "workers": cfg.workers,
        "engine": cfg.engine,
    }
    parquet = side_path(out, "parquet") if cfg.parquet and tally.sequences else None
    if parquet:
        summary["parquet"] = parquet
    with open(side_path(out, "summary.json"), "w", encoding="utf-8") as fh:
        json.dump(summary, fh, indent=1)
    if parquet:  # after the summary: the run is on record whatever the copy does
        write_parquet(out, parquet)
    return summary


def write_parquet(jsonl: str, path: str) -> str:
    """A Parquet copy of the records (the JSONL stays the resumable source of truth)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with open(jsonl, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    # every key of every record is a column (a key only some records have, such as ``capped`` or
    # ``input_id``, is null elsewhere); ids of mixed types (1 and "b") are written as text
    keys = list(dict.fromkeys(k for r in rows for k in r))
    columns = {k: [r.get(k) for r in rows] for k in keys}
    ids = columns.get("input_id", [])
    if len({type(v) for v in ids if v is not None}) > 1:
        columns["input_id"] = [None if v is None else str(v) for v in ids]
    pq.write_table(pa.table(columns), path)
    return path
