"""Tokenizing prompt/completion records for supervised fine-tuning.

The prompt and the completion are tokenized separately and joined (so no token straddles the
boundary); labels are -100 on every prompt token and equal to the input ids on the completion
and the EOS appended to it. ``<|diff|>`` is one added token, not marked special, so decoding
keeps it.

    >>> from transformers import PreTrainedTokenizerFast
    >>> tok = tiny_tokenizer()
    >>> add_diff_token(tok)
    True
    >>> ex = encode_example(tok, "Write f.\\n<|diff|>", "@@ -0,0 +1 @@\\n+x = 1\\n<|diff|>\\n<|diff|>", 64)
    >>> sum(1 for l in ex["labels"] if l != -100) == len(ex["input_ids"]) - ex["prompt_len"]
    True
"""

from __future__ import annotations


from ..formats import DIFF_TOKEN, baseline_view, editseq_view
from ..data.sources import program_of

IGNORE = -100


def add_diff_token(tokenizer, model=None, pad_to_multiple_of: int = 16) -> bool:
    """Add ``<|diff|>`` (not special) and a pad token if missing; resize the model's embeddings.
    Returns True when the vocabulary changed."""
    added = tokenizer.add_tokens([DIFF_TOKEN], special_tokens=False) > 0
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if model is not None and model.get_input_embeddings().weight.shape[0] < len(tokenizer):
        model.resize_token_embeddings(len(tokenizer), pad_to_multiple_of=pad_to_multiple_of)
    return added


def encode_example(tokenizer, prompt: str, completion: str, max_len: int) -> dict | None:
    """input_ids / labels for one record, truncated to ``max_len``; None if no label survives."""
    p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    c = tokenizer(completion, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    ids = (p + c)[:max_len]
    labels = ([IGNORE] * len(p) + c)[:max_len]
    if all(x == IGNORE for x in labels):
        return None
    return {"input_ids": ids, "labels": labels, "prompt_len": len(p)}


def record_view(rec: dict, view: str) -> tuple[str, str]:
    """(prompt, completion) of a record in the ``editseq`` or ``baseline`` view."""
    if view == "editseq":
        if "prompt" in rec and "completion" in rec:
            return rec["prompt"], rec["completion"]
        v = editseq_view(rec["instruction"], rec["edits"])
    elif view == "baseline":
        # the program text `generate` would make of the pair (fences extracted only from text that
        # does not parse; BOM and CRLF dropped), so the baseline learns what an edit sequence rebuilds
        program = rec["program"] if "program" in rec else program_of(rec["response"])[0]
        v = baseline_view(rec["instruction"], program)
    else:
        raise ValueError(f"unknown view {view!r}: editseq or baseline")
    return v["prompt"], v["completion"]


def view_pairs(path: str, view: str, dedupe_programs: bool = False):
    """(prompt, completion) of every record of a JSONL file in ``view``; the baseline view, with
    ``dedupe_programs``, keeps one example per program (records of one source_id share it). A
    bad line is a LintseqError naming it."""
    from ..errors import LintseqError
    from ..jsonl import read_jsonl

    seen = set()
    for n, rec, err in read_jsonl(path):
        if err:
            raise LintseqError(f"{path}: {err}", fix="training data is JSONL: one record object per line")
        if view == "baseline" and dedupe_programs:
            key = rec.get("source_id", rec.get("id", f"line {n}"))
            if key in seen:
                continue
            seen.add(key)
        try:
            yield record_view(rec, view)
        except KeyError as exc:
            raise LintseqError(f"{path}: line {n} has no {exc} field for the {view} view",
                               fix="records from `lintseq generate`, or pairs with instruction/response for view=baseline") from None


def load_examples(path: str, tokenizer, view: str, max_len: int, dedupe_programs: bool = False) -> list[dict]:
    """Encoded examples of a JSONL file (see ``view_pairs``)."""
    out = []
    for prompt, completion in view_pairs(path, view, dedupe_programs):
        ex = encode_example(tokenizer, prompt, completion, max_len)
        if ex is not None:
            out.append(ex)
    return out


def tiny_tokenizer(texts: list[str] | None = None, vocab_size: int = 400):
    """A small byte-level BPE trained on the spot (for tests and from-scratch models offline)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    texts = texts or ["def f(x):\n    return x + 1\n", "Write a function.\n", "@@ -0,0 +1 @@\n+import os\n"] * 20
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>", "<pad>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<pad>")
