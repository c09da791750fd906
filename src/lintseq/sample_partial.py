"""What an interrupted ``lintseq sample`` keeps: ``OUTPUT.partial.jsonl``, every finished batch's
rows appended as it finishes, behind a first line naming the settings they were drawn with. The
same command run again reads them, generates only the rest, writes OUTPUT and removes the file;
other settings (model and its files, prompts, n, sampling, format, resolution, seed, device, dtype)
start over.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "s.jsonl.partial.jsonl")
    >>> kept = Partial(path, {"n": 2})
    >>> kept.add([((0, 1), {"task_id": "T/0", "sample": 1})])
    >>> sorted(Partial(path, {"n": 2}).done), Partial(path, {"n": 3}).done
    ([(0, 1)], {})
"""

from __future__ import annotations

import hashlib
import json
import os

FIELDS = ("model", "n", "temperature", "top_p", "min_p", "top_k", "max_new_tokens", "min_new_tokens", "stop", "format",
          "resolve", "extract", "seed", "device", "dtype", "backend")


def fingerprint(cfg) -> dict:
    """The settings a kept row must have been drawn with (the prompts file by its content)."""
    with open(cfg.prompts, "rb") as fh:
        prompts = hashlib.sha256(fh.read()).hexdigest()
    fp = {k: getattr(cfg, k, None) for k in FIELDS}
    if os.path.isdir(cfg.model):  # a checkpoint trained again in place is another model
        fp["model"] = os.path.abspath(cfg.model)
        fp["model_files"] = sorted([name, st.st_size, st.st_mtime_ns] for name in os.listdir(cfg.model)
                                   if os.path.isfile(os.path.join(cfg.model, name))
                                   for st in [os.stat(os.path.join(cfg.model, name))])
    return {**fp, "prompts": prompts}


class Partial:
    """``done``: {(prompt index, sample): row} kept under the same settings; ``add`` appends."""

    def __init__(self, path: str, fp: dict):
        self.path, self.fp, self.done = path, fp, {}
        try:
            with open(path, encoding="utf-8") as fh:
                lines = fh.read().splitlines()
        except OSError:
            lines = []
        if lines and _loads(lines[0]) == {"fingerprint": fp}:
            for line in lines[1:]:  # a line cut by a kill is the last one: skipped
                row = _loads(line)
                if isinstance(row, dict) and isinstance(row.get("_job"), list):
                    self.done[tuple(row.pop("_job"))] = row
        else:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(json.dumps({"fingerprint": fp}) + "\n")

    def add(self, finished) -> None:
        """Append ((i, k), row) pairs, flushed, so that a kill loses at most the batch in flight."""
        with open(self.path, "a", encoding="utf-8") as fh:
            for job, row in finished:
                fh.write(json.dumps({**row, "_job": list(job)}, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())



def discard(path: str) -> None:
    """Remove the kept rows once OUTPUT holds them all."""
    try:
        os.remove(path)
    except OSError:
        pass


def _loads(line: str):
    try:
        return json.loads(line)
    except ValueError:
        return None
