"""Training views of an instruction + program pair, in the paper's ``<|diff|>`` text format.

    >>> edits = ["@@ -0,0 +1,2 @@\\n+def f(x):\\n+    return x"]
    >>> editseq_view("Write f.", edits)
    {'prompt': 'Write f.\\n<|diff|>', 'completion': '@@ -0,0 +1,2 @@\\n+def f(x):\\n+    return x\\n<|diff|>\\n<|diff|>'}
    >>> split_completion(editseq_view("Write f.", edits)["completion"]) == edits
    True
    >>> baseline_view("Write f.", "def f(x):\\n    return x")["prompt"]
    'Write f.\\n'

No EOS text is written: the trainer appends the tokenizer's EOS id. ``<|diff|>`` is one added,
non-special token, so decoding keeps it.
"""

from __future__ import annotations

DIFF_TOKEN = "<|diff|>"
SEP = "\n" + DIFF_TOKEN


def editseq_prompt(instruction: str) -> str:
    return instruction + SEP


def baseline_prompt(instruction: str) -> str:
    return instruction + "\n"


def prompt_for(instruction: str, fmt: str) -> str:
    """The prompt a model trained on ``fmt`` (``editseq`` or ``plain``/``baseline``) is sampled with."""
    return editseq_prompt(instruction) if fmt == "editseq" else baseline_prompt(instruction)


def editseq_completion(edits: list[str]) -> str:
    """d1 + "\\n<|diff|>" + ... + dK + "\\n<|diff|>\\n<|diff|>" (the empty edit ends it)."""
    return SEP.join(edits + ["", ""])


def editseq_view(instruction: str, edits: list[str]) -> dict:
    return {"prompt": editseq_prompt(instruction), "completion": editseq_completion(edits)}


def baseline_view(instruction: str, program: str) -> dict:
    return {"prompt": baseline_prompt(instruction), "completion": program}


def split_completion(text: str) -> list[str]:
    """The edits of a completion: pieces between ``\\n<|diff|>`` up to the first empty edit (the
    stop signal) or the end of the text. (EOS is cut by ``resolve.resolve``, the one resolver.)"""
    edits = []
    for piece in text.split(SEP):
        if piece == "":
            break
        edits.append(piece)
    return edits
