"""The training loop's speed levers change no numbers: boundary-aware packing and compile give the
losses of the plain path, and their switches are parsed in one place (the fused loss is in
test_train_step.py, the token cache in test_train_data.py, model facts in test_models.py)."""

import json

import pytest

from lintseq.errors import LintseqError
from helpers import tiny_train_config as _cfg
from lintseq.train.config import TrainConfig
from lintseq.train.data import encode_file, rows
from lintseq.train.loop import train
from lintseq.train.tokens import add_diff_token


pytestmark = pytest.mark.usefixtures("one_torch_thread_tmp_cache")


def test_packing_needs_a_transformers_that_masks_across_documents():
    from lintseq.train.loop import check_packing_support

    check_packing_support(True, "4.54.0")
    check_packing_support(False, "4.46.0")  # without packing any supported version is fine
    with pytest.raises(LintseqError, match="4.54"):
        check_packing_support(True, "4.53.2")


def test_switches_and_booleans_are_parsed_in_one_place():
    assert TrainConfig.load(None, ["compile=on", "packing=Yes"]).compile == "true"
    assert TrainConfig.load(None, ["compile=off"]).compile == "false"
    with pytest.raises(LintseqError, match="compile='maybe'"):
        TrainConfig.load(None, ["compile=maybe"])
    with pytest.raises(LintseqError, match="packing='sure'"):
        TrainConfig.load(None, ["packing=sure"])
    from lintseq.experiment import ExperimentConfig
    from lintseq.cliargs import load_config

    assert load_config(ExperimentConfig, None, ["compile=on"]).train.compile == "true"
    assert load_config(ExperimentConfig, None, ["train.compile=off"]).train.compile == "false"


def test_packing_on_and_off_give_the_same_training_losses(seqs, tmp_path):
    small = tmp_path / "small.jsonl"  # the 12 shortest records: several fit in one row
    lines = sorted(open(seqs).readlines(), key=lambda l: len(json.loads(l)["prompt"] + json.loads(l)["completion"]))
    small.write_text("".join(lines[:12]))
    # one global batch = the whole file, so each step sees the same examples packed or not;
    # a mean loss (over label tokens) makes the two runs' objectives identical
    off = train(_cfg(str(small), tmp_path / "off", global_batch=12, micro_batch=4, loss="mean", max_seq_len=512))
    from lintseq.train.models import load_model_and_tokenizer
    from lintseq.train.loop import _texts

    _, tok = load_model_and_tokenizer("tiny", _texts(str(small), "editseq"), 1)
    add_diff_token(tok)
    enc, _ = encode_file(str(small), tok, "editseq", 512, False, "none")
    n_rows = len(rows(enc, 512, packing=True))
    assert n_rows < 12  # something was packed
    on = train(_cfg(str(small), tmp_path / "on", global_batch=n_rows, micro_batch=n_rows, loss="mean", packing="true",
                    max_seq_len=512))
    assert on["rows"] == n_rows and off["rows"] == 12
    assert on["losses"] == pytest.approx(off["losses"], rel=1e-4)


@pytest.mark.parametrize("packing", ["false", "true"])
def test_compile_on_and_off_give_the_same_losses(seqs, tmp_path, packing):
    kw = dict(packing=packing, max_seq_len=512, max_steps=3)  # rows of 512: several examples fit in one
    eager = train(_cfg(seqs, tmp_path / "eager", compile="false", **kw))
    graph = train(_cfg(seqs, tmp_path / "graph", compile="true", compile_backend="aot_eager", **kw))
    assert (graph["rows"] < graph["examples"]) == (packing == "true")  # packed rows: the block-mask path
    assert graph["losses"] == pytest.approx(eager["losses"], rel=1e-4)


@pytest.mark.slow
def test_inductor_compile_gives_the_same_losses(seqs, tmp_path):
    eager = train(_cfg(seqs, tmp_path / "eager", compile="false", max_steps=3))
    graph = train(_cfg(seqs, tmp_path / "graph", compile="true", compile_backend="inductor", max_steps=3))
    assert graph["losses"] == pytest.approx(eager["losses"], rel=1e-3)


def test_max_seq_len_reaches_a_model_built_from_a_config(seqs, tmp_path):
    train(_cfg(seqs, tmp_path / "ctx", max_seq_len=192, max_steps=1))
    assert json.load(open(tmp_path / "ctx" / "final" / "config.json"))["max_position_embeddings"] == 192


