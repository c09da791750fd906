"""Encoded datasets: tokenized once, cached on disk, memory-mapped; boundary-aware packing; and the
tensors of one micro-batch.

An ``Encoded`` set is three flat arrays: every example's ``input_ids`` and ``labels`` end to end
(int32) and the offsets where each example starts. The cache key is the data file's SHA-256, the
tokenizer's full serialization, the view, ``max_seq_len`` and the dedupe rule, so any change
re-encodes and nothing stale is ever read. A second run maps the arrays and starts at once.

A row is a list of example indices (one example unpacked, several packed). ``collate`` builds
``input_ids``, ``position_ids`` that restart at 0 for every example, and ``targets`` already
shifted by one inside each example (its last token predicts nothing), so no token ever predicts
across an example boundary; with no attention mask, transformers reads the restarting positions
as packed sequences and attention stays inside each example (plain causal attention when a row
holds one example).

    >>> enc = Encoded.from_examples([{"input_ids": [5, 6, 7], "labels": [-100, 6, 7]}, {"input_ids": [8, 9], "labels": [8, 9]}])
    >>> b = collate(enc, [[0, 1]], pad_id=0, length=6)
    >>> b["position_ids"].tolist(), b["targets"].tolist()
    ([[0, 1, 2, 0, 1, 2]], [[6, 7, -100, 9, -100, -100]])
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import random
import shutil
import tempfile

import numpy as np

from .tokens import IGNORE  # the one label value the loss skips

_VERSION = 1  # bump when the on-disk layout or the encoding rule changes


class Encoded:
    """Examples as flat int32 arrays (memory-mapped when read from the cache)."""

    def __init__(self, ids: np.ndarray, labels: np.ndarray, offsets: np.ndarray):
        self.ids, self.labels, self.offsets = ids, labels, offsets
        self.lengths = np.diff(offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def example(self, i: int) -> dict:
        a, b = self.offsets[i], self.offsets[i + 1]
        return {"input_ids": self.ids[a:b].tolist(), "labels": self.labels[a:b].tolist()}

    def label_tokens(self, i: int) -> int:
        """Tokens that are predicted: labels past the first position that are not IGNORE."""
        if not hasattr(self, "_label_counts"):  # one pass over the arrays, not one per step
            seen = np.asarray(self.labels != IGNORE, dtype=np.int64)
            seen[self.offsets[:-1][self.lengths > 0]] = 0  # an example's first label predicts nothing
            cum = np.concatenate([[0], np.cumsum(seen)])
            self._label_counts = cum[self.offsets[1:]] - cum[self.offsets[:-1]]
        return int(self._label_counts[i])

    @classmethod
    def from_examples(cls, examples: list[dict]) -> "Encoded":
        lengths = [len(ex["input_ids"]) for ex in examples]
        offsets = np.zeros(len(examples) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        def flat(key):
            if not examples:
                return np.zeros(0, dtype=np.int32)
            return np.concatenate([np.asarray(ex[key], dtype=np.int32) for ex in examples])

        return cls(flat("input_ids"), flat("labels"), offsets)

    def save(self, folder: str, meta: dict) -> None:
        """Write atomically: a half-written cache is never read."""
        parent = os.path.dirname(os.path.abspath(folder))
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(dir=parent, prefix=".tmp-")
        for name in ("ids", "labels", "offsets"):
            np.save(os.path.join(tmp, f"{name}.npy"), getattr(self, name))
        with open(os.path.join(tmp, "meta.json"), "w") as fh:
            json.dump(meta, fh)
        try:
            os.rename(tmp, folder)
        except OSError:  # another process won the race: its copy is identical
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, folder: str) -> "Encoded":
        arr = lambda n: np.load(os.path.join(folder, f"{n}.npy"), mmap_mode="r")
        return cls(arr("ids"), arr("labels"), np.asarray(arr("offsets")))


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def tokenizer_fingerprint(tok) -> str:
    """A hash of everything that decides token ids: the full tokenizer JSON, added tokens, EOS."""
    backend = getattr(tok, "backend_tokenizer", None)
    body = backend.to_str() if backend is not None else repr(sorted(tok.get_vocab().items()))
    extra = json.dumps([tok.eos_token_id, sorted(str(t) for t in tok.get_added_vocab())])
    return hashlib.sha256((body + extra).encode()).hexdigest()


def cache_root(setting: str) -> str | None:
    if setting == "none":
        return None
    return setting or os.environ.get("LINTSEQ_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "lintseq")


def encode_file(path: str, tok, view: str, max_len: int, dedupe_programs: bool, cache: str = "") -> tuple[Encoded, dict]:
    """The encoded examples of a JSONL file and {"cache": hit|written|off, "path": ...}."""
    root = cache_root(cache)
    key_parts = dict(v=_VERSION, data=file_sha256(path), tok=tokenizer_fingerprint(tok), view=view,
                     max_len=max_len, dedupe=dedupe_programs)
    key = hashlib.sha256(json.dumps(key_parts, sort_keys=True).encode()).hexdigest()[:24]
    folder = os.path.join(root, "tokens", key) if root else None
    if folder and os.path.exists(os.path.join(folder, "meta.json")):
        with open(os.path.join(folder, "meta.json")) as fh:
            cut = {k: v for k, v in json.load(fh).items() if k in ("truncated", "dropped")}
        return Encoded.load(folder), {"cache": "hit", "path": folder, **cut}
    cut = {"truncated": 0, "dropped": 0}
    enc = Encoded.from_examples(encode_records(path, tok, view, max_len, dedupe_programs, cut=cut))
    if folder:
        enc.save(folder, {**key_parts, "source": os.path.abspath(path), "examples": len(enc), **cut})
        return Encoded.load(folder), {"cache": "written", "path": folder, **cut}
    return enc, {"cache": "off", "path": None, **cut}


def encode_records(path: str, tok, view: str, max_len: int, dedupe_programs: bool, batch: int = 1024,
                   cut: dict | None = None) -> list[dict]:
    """Like tokens.load_examples (same ids, same masking), tokenizing in batches (the fast
    tokenizer runs a batch in parallel in Rust). Examples longer than ``max_len`` are cut there,
    as the authors' fine-tuning cuts them (their ends, EOS included, are not trained on); ones
    with no target token left are dropped: ``cut`` counts both ("truncated", "dropped")."""
    from .tokens import view_pairs

    pairs = list(view_pairs(path, view, dedupe_programs))
    out = []
    for s in range(0, len(pairs), batch):
        chunk = pairs[s:s + batch]
        ps = tok([p for p, _ in chunk], add_special_tokens=False)["input_ids"]
        cs = tok([c for _, c in chunk], add_special_tokens=False)["input_ids"]
        for p, c in zip(ps, cs):
            c = c + [tok.eos_token_id]
            labels = ([IGNORE] * len(p) + c)[:max_len]
            if any(x != IGNORE for x in labels):
                out.append({"input_ids": (p + c)[:max_len], "labels": labels})
                if cut is not None and len(p) + len(c) > max_len:
                    cut["truncated"] += 1
            elif cut is not None:
                cut["dropped"] += 1
    return out


def rows(enc: Encoded, max_len: int, packing: bool) -> list[list[int]]:
    """Training rows: one example each, or examples packed best-fit, longest first (a row's total
    length stays within ``max_len``; deterministic)."""
    if not packing:
        return [[i] for i in range(len(enc))]
    order = sorted(range(len(enc)), key=lambda i: (-int(enc.lengths[i]), i))
    bins: list[list[int]] = []
    free: list[tuple[int, int]] = []  # (room left, bin index), sorted: best fit = smallest room that fits
    for i in order:
        n = int(enc.lengths[i])
        k = bisect.bisect_left(free, (n, -1))
        if k < len(free):
            room, b = free.pop(k)
            bins[b].append(i)
            if room - n > 0:
                bisect.insort(free, (room - n, b))
        else:
            bins.append([i])
            if max_len - n > 0:
                bisect.insort(free, (max_len - n, len(bins) - 1))
    return bins


def epoch_batches(n_rows: int, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """The epoch's shuffled global batches of row indices (a pure function of seed and epoch; the
    last partial batch is dropped)."""
    order = list(range(n_rows))
    random.Random(f"{seed}:{epoch}").shuffle(order)
    return [order[b: b + batch_size] for b in range(0, n_rows - batch_size + 1, batch_size)]


def collate(enc: Encoded, batch_rows: list[list[int]], pad_id: int, length: int | None = None, multiple: int = 8) -> dict:
    """CPU tensors for one micro-batch: ``input_ids``, ``position_ids`` (restarting per example),
    ``targets`` (next-token labels shifted inside each example) and ``tokens`` (real tokens, an int).
    Rows are right-padded to ``length`` (default: the longest row rounded up to ``multiple``); the
    padding has no targets and comes after every real token, so causal attention hides it."""
    import torch

    lens = [sum(int(enc.lengths[i]) for i in row) for row in batch_rows]
    n = length or -(-max(lens) // multiple) * multiple
    ids = np.full((len(batch_rows), n), pad_id, dtype=np.int64)
    pos = np.zeros((len(batch_rows), n), dtype=np.int64)
    tgt = np.full((len(batch_rows), n), IGNORE, dtype=np.int64)
    for r, row in enumerate(batch_rows):
        at = 0
        for i in row:
            a, b = int(enc.offsets[i]), int(enc.offsets[i + 1])
            k = b - a
            ids[r, at:at + k] = enc.ids[a:b]
            pos[r, at:at + k] = np.arange(k)
            tgt[r, at:at + k - 1] = enc.labels[a + 1:b]
            at += k
        # padding continues the last example's positions: causal attention keeps it out of every
        # real token's view, and a one-example row stays a plain causal row (the fast kernel)
        pos[r, at:] = np.arange(k, k + n - at)
    out = {"input_ids": torch.from_numpy(ids), "position_ids": torch.from_numpy(pos), "targets": torch.from_numpy(tgt)}
    if torch.cuda.is_available():  # pinned pages let the copy to the GPU overlap compute
        out = {k: v.pin_memory() for k, v in out.items()}
    out["tokens"] = sum(lens)
    return out
