"""train/data.py: label counts, packing that fits and keeps every example, the token cache, and
batched encoding equal to the reference encoder."""

import os

import numpy as np
import pytest

from helpers import tiny_train_config as _cfg
from lintseq.train.data import Encoded, encode_file, encode_records, rows
from lintseq.train.loop import train
from lintseq.train.tokens import add_diff_token, load_examples, tiny_tokenizer

pytestmark = pytest.mark.usefixtures("one_torch_thread_tmp_cache")


def test_label_token_counts():
    enc = Encoded.from_examples([{"input_ids": [5, 6, 7], "labels": [-100, 6, 7]}, {"input_ids": [8, 9], "labels": [8, 9]},
                                 {"input_ids": [1, 2, 3], "labels": [1, -100, 3]}])
    assert [enc.label_tokens(i) for i in range(3)] == [2, 1, 1]  # the first position predicts nothing


def test_packing_rows_fit_and_keep_every_example():
    enc = Encoded.from_examples([{"input_ids": [1] * n, "labels": [1] * n} for n in (200, 30, 90, 250, 60, 10, 256)])
    table = rows(enc, 256, packing=True)
    assert sorted(i for r in table for i in r) == list(range(7))
    assert all(sum(int(enc.lengths[i]) for i in r) <= 256 for r in table)
    assert len(table) == 4  # 256 | 250 | 200+30+10 | 90+60 (best fit, longest first)


def test_token_cache_is_written_once_then_mapped_and_changes_nothing(seqs, tmp_path):
    cache = str(tmp_path / "tok")
    first = train(_cfg(seqs, tmp_path / "a", cache_dir=cache))
    second = train(_cfg(seqs, tmp_path / "b", cache_dir=cache))
    off = train(_cfg(seqs, tmp_path / "c", cache_dir="none"))
    assert (first["cache"], second["cache"], off["cache"]) == ("written", "hit", "off")
    assert first["losses"] == second["losses"] == off["losses"]
    (folder,) = os.listdir(os.path.join(cache, "tokens"))
    tok = tiny_tokenizer()
    add_diff_token(tok)
    enc, info = encode_file(seqs, tok, "editseq", 256, False, cache)
    assert info["cache"] == "written"  # another tokenizer: another key
    again, info = encode_file(seqs, tok, "editseq", 256, False, cache)
    assert info["cache"] == "hit" and isinstance(again.ids, np.memmap)
    changed = tmp_path / "changed.jsonl"
    changed.write_text(open(seqs).read().replace("def ", "def  ", 1))
    assert encode_file(str(changed), tok, "editseq", 256, False, cache)[1]["cache"] == "written"
    assert len(os.listdir(os.path.join(cache, "tokens"))) == 3


def test_batched_encoding_equals_the_reference_encoder(seqs):
    tok = tiny_tokenizer()
    add_diff_token(tok)
    for view in ("editseq", "baseline"):
        ref = load_examples(seqs, tok, view, 200, dedupe_programs=view == "baseline")
        got = encode_records(seqs, tok, view, 200, view == "baseline", batch=7)
        assert [(e["input_ids"], e["labels"]) for e in ref] == [(e["input_ids"], e["labels"]) for e in got]


def test_examples_cut_or_emptied_by_max_seq_len_are_counted_and_said(seqs, tmp_path, capsys):
    """The authors' fine-tuning cuts at max_seq_len silently; here the counts come back from
    encoding (also from the cache) and training says them on stderr."""
    from lintseq.train.loop import _warn_cut

    tok = tiny_tokenizer()
    add_diff_token(tok)
    lengths = [len(e["input_ids"]) for e in load_examples(seqs, tok, "editseq", 10_000, dedupe_programs=False)]
    prompts = [e["prompt_len"] for e in load_examples(seqs, tok, "editseq", 10_000, dedupe_programs=False)]
    limit = sorted(lengths)[len(lengths) // 2]
    want_cut = sum(n > limit and p < limit for n, p in zip(lengths, prompts))
    want_dropped = sum(p >= limit for p in prompts)
    cache = str(tmp_path / "tok")
    for expected in ("written", "hit"):
        enc, info = encode_file(seqs, tok, "editseq", limit, False, cache)
        assert info["cache"] == expected and (info["truncated"], info["dropped"]) == (want_cut, want_dropped)
    assert want_cut > 0 and len(enc) == len(lengths) - want_dropped
    _warn_cut(info, len(enc), limit)
    assert f"{want_cut} of {len(enc)} examples are longer than max_seq_len={limit}" in capsys.readouterr().err
    _, info = encode_file(seqs, tok, "editseq", 10_000, False, "none")
    assert (info["truncated"], info["dropped"]) == (0, 0)
