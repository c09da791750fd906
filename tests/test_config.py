"""The config tree (lintseq/config.py): one typed, validated way from YAML and key=value to every
workflow's dataclass, sections nested in an experiment, old flat keys still read."""

import os

import pytest

from lintseq.config import describe, keys, load_config
from lintseq.errors import LintseqError
from lintseq.experiment import ExperimentConfig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_every_workflow_knob_is_an_experiment_key():
    import dataclasses

    from lintseq.evaluate.pipeline import EvalConfig
    from lintseq.sample import SampleConfig
    from lintseq.train.config import TrainConfig

    all_keys = set(keys(ExperimentConfig))
    for section, cls in (("train", TrainConfig), ("sample", SampleConfig), ("evaluate", EvalConfig)):
        fields = {f.name for f in dataclasses.fields(cls) if f"{section}.{f.name}" not in ExperimentConfig.MANAGED}
        assert {f"{section}.{f}" for f in fields} <= all_keys
    for knob in ("train.attn", "train.packing", "train.ce_chunk", "sample.dtype", "sample.backend", "evaluate.protocol"):
        assert knob in all_keys
    assert "train.model" not in all_keys and "sample.output" not in all_keys  # the stages set those
    assert describe(ExperimentConfig)["evaluate.ks"].endswith("(default (1, 5, 10))")


def test_nested_yaml_overrides_and_old_flat_keys(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  lr: 5.0e-5\n  packing: on\nsample:\n  n: 4\nworkers: 3\ncompile: off\n")
    cfg = load_config(ExperimentConfig, str(path), ["sample.top_k=7", "timeout=2.5", "evaluate.ks=1,2"])
    assert (cfg.train.lr, cfg.train.packing, cfg.train.compile) == (5e-5, True, "false")
    assert (cfg.sample.n, cfg.sample.top_k, cfg.evaluate.timeout, cfg.evaluate.ks) == (4, 7, 2.5, (1, 2))
    assert cfg.generate.workers == cfg.evaluate.workers == 3  # one old key, both sections it meant


@pytest.mark.parametrize("override, words", [
    ("train.lrr=1", "unknown config key 'train.lrr'"),
    ("nope=1", "unknown config key 'nope'"),
    ("sample.stop=never", "sample.stop='never': not one of eos, empty_edit"),
    ("linter=black", "generate.linter='black': not one of"),
    ("train.lr=abc", "train.lr='abc': expected float"),
    ("sample.n=0", "sample.n='0': expected a number >= 1"),
    ("train.compile=maybe", "expected a boolean"),
    ("sample.model=x", "is set by the experiment"),
    ("train=1", "is a section"),
    ("lr", "is not key=value"),
])
def test_a_bad_key_or_value_is_one_line_naming_it(override, words):
    with pytest.raises(LintseqError) as err:
        load_config(ExperimentConfig, None, [override])
    assert words in str(err.value) and "\n" not in str(err.value)


def test_the_presets_load_and_say_what_the_paper_does():
    h100 = load_config(ExperimentConfig, os.path.join(ROOT, "configs", "experiment_smollm2_h100.yaml"))
    assert (h100.train.lr, h100.sample.top_k, h100.sample.max_new_tokens, h100.sample.stop) == (5e-5, 0, 512, "eos")
    assert (h100.sample.resolve, h100.sample.extract, h100.evaluate.ks) == ("authors", "authors", (1, 5, 10))
    smoke = load_config(ExperimentConfig, os.path.join(ROOT, "configs", "experiment_smoke.yaml"))
    assert smoke.train.compile == "false" and smoke.evaluate.ks == (1, 2)


@pytest.mark.parametrize("yaml_text,key", [
    ("steps: 1.5\n", "steps"), ("seed: true\n", "seed"), ("train:\n  lr:\n", "train.lr"),
    ("generate:\n  samples: 2.5\n", "generate.samples"), ("train:\n  packing: [1]\n", "train.packing")])
def test_a_yaml_value_of_the_wrong_type_is_refused_naming_the_key(tmp_path, yaml_text, key):
    """Only key=value text was typed before: a recipe's `steps: 1.5` was taken as it was, and
    `generate: {samples: 2.5}` crashed in the worker pool."""
    path = tmp_path / "c.yaml"
    path.write_text(yaml_text)
    with pytest.raises(LintseqError, match=rf"config key {key}="):
        load_config(ExperimentConfig, str(path))


def test_a_number_where_text_is_expected_is_its_text_and_chunk_size_is_at_least_one(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("output_dir: 2024\n")
    assert load_config(ExperimentConfig, str(path)).output_dir == "2024"
    with pytest.raises(LintseqError, match=r"generate.chunk_size='0': expected a number >= 1"):
        load_config(ExperimentConfig, None, ["generate.chunk_size=0"])
