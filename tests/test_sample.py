"""Sampling with a real (tiny, quickly memorising) transformers model on the CPU: the authors'
stop (EOS) and the optional one at the empty edit on token ids, exactly the configured logits
processors (no hidden top-k), rows and meta, the authors' resolution rule, flags and errors."""

import json
import os

import pytest

torch = pytest.importorskip("torch")  # the [train] extra

from helpers import run_cli, write_jsonl  # noqa: E402
from lintseq.formats import SEP  # noqa: E402
from lintseq.sample import SampleConfig, _generated_ids, _stop_criteria, generation_config, sample  # noqa: E402

PROMPT = "Write a function f that returns 1."
# the header miscounts (1 for 2 lines), as the SmolLM2 chain's model did; garbage follows the stop
COMPLETION = "@@ -0,0 +1 @@\n+def f():\n+    return 1" + SEP + SEP + " x x x x x x x x x x x x x x"


@pytest.fixture(scope="module")
def memorised(tmp_path_factory):
    """A tiny OLMo that has memorised one prompt -> completion (no EOS after it, so only the stop
    criterion can end a row early)."""
    from lintseq.train.models import build_model
    from lintseq.train.tokens import add_diff_token, tiny_tokenizer

    torch.manual_seed(0)
    tok = tiny_tokenizer([PROMPT, COMPLETION] * 20)
    add_diff_token(tok)
    model = build_model("tiny", tok, n_ctx=128)
    text = PROMPT + SEP + COMPLETION
    ids = torch.tensor([tok(text, add_special_tokens=False)["input_ids"]])
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(150):
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
    assert loss.item() < 0.05
    path = tmp_path_factory.mktemp("model") / "m"
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return str(path), tok, model


def test_rows_stop_at_the_empty_edit_on_token_ids(memorised):
    _, tok, model = memorised
    stops, stop_ids = _stop_criteria(tok, "editseq")
    enc = tok([PROMPT + SEP] * 3, return_tensors="pt", add_special_tokens=False)
    gen = model.generate(**enc, max_new_tokens=60, stopping_criteria=stops, do_sample=False,
                         pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
    new = gen[:, enc["input_ids"].shape[1]:]
    expected = tok(COMPLETION[: COMPLETION.index(SEP + SEP) + len(SEP + SEP)], add_special_tokens=False)["input_ids"]
    assert new.shape[1] == len(expected)  # stopped right there, not after 60 tokens of garbage
    assert new[0].tolist() == expected and _generated_ids(new[0].tolist() + [5, 6], stop_ids, None) == expected
    # an empty edit right after the prompt (which ends with <|diff|>) stops the row with its first
    # tokens: those are what it generated, not the padding after them
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    first = stop_ids[1:]
    assert _generated_ids(first + [pad] * 5, stop_ids, None, prompt=[7, stop_ids[0]]) == first
    assert _generated_ids(first + [pad] * 5, stop_ids, None) == first + [pad] * 5  # the prompt unseen: all kept


def test_sample_writes_rows_meta_and_resolves_by_the_authors_rule(memorised, tmp_path):
    path, tok, _ = memorised
    prompts = write_jsonl(tmp_path / "p.jsonl", [{"task_id": "T/0", "prompt": PROMPT}, {"task_id": "T/1", "prompt": PROMPT}])
    out = str(tmp_path / "s.jsonl")
    meta = sample(SampleConfig(model=path, prompts=prompts, output=out, n=2, max_new_tokens=60, progress=False,
                               stop="empty_edit"))
    rows = [json.loads(line) for line in open(out)]
    assert [(r["task_id"], r["sample"]) for r in rows] == [("T/0", 0), ("T/0", 1), ("T/1", 0), ("T/1", 1)]
    for r in rows:
        assert r["completion"] == "def f():\n    return 1"  # the header said 1 line; the authors' rule keeps both
        assert r["raw"].endswith(SEP + SEP) and r["format"] == "editseq" and r["eos"] == tok.eos_token
        assert r["completion_tokens"] == len(tok(r["raw"], add_special_tokens=False)["input_ids"])
        assert r["resolution"]["miscounted"] == 1 and r["resolution"]["rule"] == "authors"
    assert meta["device"] == "cpu" and meta["dtype"] == "float32" and meta["samples"] == 4
    assert meta["samples_per_s"] > 0 and meta["generated_tokens_per_s"] > 0 and meta["miscounted_hunks"] == 4
    assert json.load(open(out + ".meta.json"))["generated_tokens"] == sum(r["completion_tokens"] for r in rows)
    strict = sample(SampleConfig(model=path, prompts=prompts, output=out, max_new_tokens=60, resolve="strict",
                                 stop="empty_edit", progress=False))
    assert strict["malformed_hunks"] == 2 and all(json.loads(line)["completion"] == "" for line in open(out))


def test_sampling_flags_min_p_and_plain_format(memorised, tmp_path):
    path, _, _ = memorised
    prompts = write_jsonl(tmp_path / "p.jsonl", [{"task_id": "T/0", "prompt": PROMPT}])
    out = tmp_path / "s.jsonl"
    run_cli("sample", "--model", path, "--prompts", prompts, "-o", out, "-n", 3, "--temperature", 0.8,
            "--top-p", 0.95, "--min-p", 0.05, "--max-new-tokens", 40, "--device", "cpu", "--dtype", "fp32", "-q")
    meta = json.load(open(str(out) + ".meta.json"))
    assert (meta["min_p"], meta["top_p"], meta["temperature"], meta["samples"]) == (0.05, 0.95, 0.8, 3)
    run_cli("sample", "--model", path, "--prompts", prompts, "-o", out, "--format", "plain", "--max-new-tokens", 20, "-q")
    row = json.loads(open(out).readline())
    assert row["format"] == "plain" and row["resolution"]["extraction"] in ("fence", "as_is", "from_code", "unparsed")


def test_sample_errors_are_one_line(memorised, tmp_path):
    path, _, _ = memorised
    prompts = write_jsonl(tmp_path / "p.jsonl", [{"task_id": "T/0", "prompt": PROMPT}])
    if not torch.cuda.is_available():
        proc = run_cli("sample", "--model", path, "--prompts", prompts, "--device", "cuda", check=False, timeout=120)
        assert proc.returncode == 2 and "no CUDA device" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("sample", "--model", str(tmp_path / "missing"), "--prompts", prompts, check=False, timeout=120)
    assert proc.returncode == 2 and "no such directory" in proc.stderr and "Traceback" not in proc.stderr


def test_by_default_a_sample_runs_to_eos_as_the_authors_sampled(memorised, tmp_path):
    """The memorised model writes no EOS: without the empty-edit stop it runs to max_new_tokens,
    and the text after the empty edit reaches the resolver (theirs reads it too)."""
    path, tok, _ = memorised
    prompts = write_jsonl(tmp_path / "p.jsonl", [{"task_id": "T/0", "prompt": PROMPT}])
    out = str(tmp_path / "s.jsonl")
    meta = sample(SampleConfig(model=path, prompts=prompts, output=out, max_new_tokens=40, progress=False))
    row = json.loads(open(out).readline())
    assert row["completion_tokens"] == 40 and SEP + SEP + " x x" in row["raw"]
    assert row["completion"] == "def f():\n    return 1"
    assert (meta["stop"], meta["top_k"], meta["resolve"], meta["extract"]) == ("eos", 0, "authors", "authors")


def _processors_used(model, tok, cfg):
    """The logits processors transformers really builds for ``generate`` with our config (recorded
    from the model's own method, the real one still doing the work)."""
    seen = []
    real = model._get_logits_processor

    def record(*args, **kwargs):
        procs = real(*args, **kwargs)
        seen.append([type(p).__name__ for p in procs])
        return procs

    model._get_logits_processor = record
    try:
        enc = tok([PROMPT + SEP], return_tensors="pt", add_special_tokens=False)
        model.generate(**enc, generation_config=generation_config(cfg, tok))
    finally:
        del model._get_logits_processor
    return seen[0]


def test_exactly_the_configured_processors_no_hidden_top_k(memorised):
    """transformers adds TopKLogitsWarper(50) when only temperature/top-p are passed: never here."""
    _, tok, model = memorised
    model.generation_config.top_k = 50  # a checkpoint's own default must not slip in either
    base = dict(model="m", prompts="p", output="o", max_new_tokens=4)
    used = _processors_used(model, tok, SampleConfig(**base, temperature=0.8, top_p=0.95))
    assert used == ["TemperatureLogitsWarper", "TopPLogitsWarper"]
    used = _processors_used(model, tok, SampleConfig(**base, temperature=0.8, top_p=0.95, min_p=0.05, top_k=7))
    assert sorted(used) == ["MinPLogitsWarper", "TemperatureLogitsWarper", "TopKLogitsWarper", "TopPLogitsWarper"]
    assert _processors_used(model, tok, SampleConfig(**base)) == []  # greedy: nothing
    used = _processors_used(model, tok, SampleConfig(**base, temperature=1.0, min_new_tokens=2))
    # transformers also turns min_new_tokens into min_length (the same EOS mask); no warper at T = 1
    assert "MinNewTokensLengthLogitsProcessor" in used and set(used) <= {"MinNewTokensLengthLogitsProcessor",
                                                                          "MinLengthLogitsProcessor"}


def test_a_flat_distribution_keeps_what_top_p_alone_keeps(memorised):
    """On a flat 300-token distribution top-p 0.95 keeps ~285 tokens; a hidden top_k=50 would keep 50."""
    _, tok, model = memorised
    seen = []
    real = model._get_logits_processor
    model._get_logits_processor = lambda *a, **k: seen.append(real(*a, **k)) or seen[-1]
    try:
        enc = tok([PROMPT + SEP], return_tensors="pt", add_special_tokens=False)
        cfg = SampleConfig(model="m", prompts="p", output="o", max_new_tokens=1, temperature=1.0, top_p=0.95)
        model.generate(**enc, generation_config=generation_config(cfg, tok))
    finally:
        del model._get_logits_processor
    scores = seen[0](enc["input_ids"], torch.zeros(1, 300))
    assert 280 <= int(torch.isfinite(scores).sum()) <= 290


def test_bad_sampling_values_are_one_line(memorised, tmp_path):
    path, _, _ = memorised
    prompts = write_jsonl(tmp_path / "p.jsonl", [{"task_id": "T/0", "prompt": PROMPT}])
    for flags, words in ((["--top-k", "-1"], "--top-k"), (["--stop", "never"], "--stop: invalid choice"),
                         (["--top-p", "0"], "--top-p"), (["--extract", "lenient"], "--extract: invalid choice")):
        proc = run_cli("sample", "--model", path, "--prompts", prompts, *flags, check=False, timeout=120)
        assert proc.returncode == 2 and words in proc.stderr and "Traceback" not in proc.stderr


def test_the_library_checks_values_too(tmp_path):
    from lintseq.errors import LintseqError
    from lintseq.sample import check_config

    base = dict(model="m", prompts="p", output="o")
    for bad, words in (({"top_k": -1}, "top_k=-1"), ({"stop": "never"}, "stop='never'"), ({"top_p": 0.0}, "top_p=0.0"),
                       ({"resolve": "lenient"}, "resolve='lenient'"), ({"n": 0}, "n=0")):
        with pytest.raises(LintseqError, match=words.replace("(", r"\(")):
            check_config(SampleConfig(**base, **bad))
    check_config(SampleConfig(**base, resolve="paper"))  # the old name of the authors' rule still reads


def test_an_interrupted_run_resumes_from_its_kept_batches(memorised, tmp_path):
    """What a stopped run appended to OUTPUT.partial.jsonl is reused as it is; only the rest is
    generated; a half-written last line (a kill) is skipped; other settings start over."""
    from lintseq.sample_partial import fingerprint

    path, _, _ = memorised
    prompts = write_jsonl(tmp_path / "p.jsonl", [{"task_id": f"T/{i}", "prompt": PROMPT} for i in range(3)])
    out = str(tmp_path / "s.jsonl")
    cfg = SampleConfig(model=path, prompts=prompts, output=out, n=2, max_new_tokens=30, temperature=1.0,
                       progress=False, batch_size=2)
    kept = {"task_id": "T/1", "completion": "KEPT", "raw": "kept raw", "format": "editseq", "prompt_tokens": 5,
            "completion_tokens": 7, "sample": 0, "resolution": {"hunks": 0, "malformed": 0, "miscounted": 0}}
    with open(out + ".partial.jsonl", "w") as fh:
        fh.write(json.dumps({"fingerprint": fingerprint(cfg)}) + "\n")
        fh.write(json.dumps({**kept, "_job": [1, 0]}) + "\n")
        fh.write('{"task_id": "T/2", "compl')  # cut by a kill
    meta = sample(cfg)
    rows = [json.loads(line) for line in open(out)]
    assert len(rows) == 6 and rows[2] == kept and meta["resumed_samples"] == 1
    assert [(r["task_id"], r["sample"]) for r in rows] == [(f"T/{i}", k) for i in range(3) for k in range(2)]
    assert not os.path.exists(out + ".partial.jsonl")
    with open(out + ".partial.jsonl", "w") as fh:  # kept under other settings (n=3): not reused
        fh.write(json.dumps({"fingerprint": {**fingerprint(cfg), "n": 3}}) + "\n" + json.dumps({**kept, "_job": [1, 0]}) + "\n")
    meta = sample(cfg)
    assert meta["resumed_samples"] == 0 and all(json.loads(line)["completion"] != "KEPT" for line in open(out))


def test_the_checkpoints_generation_config_does_not_change_sampling(memorised, tmp_path):
    """transformers fills settings left unset from the checkpoint's generation_config.json: a
    fine-tuned model shipped with repetition_penalty or no_repeat_ngram_size sampled with them."""
    import shutil

    path, _, _ = memorised
    shipped = tmp_path / "shipped"
    shutil.copytree(path, shipped)
    with open(shipped / "generation_config.json", "w") as fh:
        json.dump({"repetition_penalty": 1.3, "no_repeat_ngram_size": 2, "min_p": 0.5}, fh)
    prompts = write_jsonl(tmp_path / "p.jsonl", [{"task_id": "T/0", "prompt": PROMPT}])
    raws = []
    for model in (path, str(shipped)):
        out = str(tmp_path / "s.jsonl")
        sample(SampleConfig(model=model, prompts=prompts, output=out, max_new_tokens=40, progress=False))
        raws.append(json.loads(open(out).readline())["raw"])
    assert raws[0] == raws[1] and " x x x" in raws[0]  # greedy, the memorised repeats kept


def test_a_resumed_run_does_not_replay_the_samples_it_kept(tmp_path):
    """The random stream was seeded once per process: after a stop, the resumed run's first batch
    (jobs 4-7 of one prompt) drew exactly what the kept first batch (jobs 0-3) had drawn."""
    from lintseq.sample_partial import fingerprint
    from lintseq.train.models import build_model
    from lintseq.train.tokens import add_diff_token, tiny_tokenizer

    torch.manual_seed(0)
    tok = tiny_tokenizer([PROMPT, COMPLETION] * 5)
    add_diff_token(tok)
    model = build_model("tiny", tok, n_ctx=128)  # untrained: samples at T = 1 differ from one another
    model.save_pretrained(tmp_path / "m")
    tok.save_pretrained(tmp_path / "m")
    prompts = write_jsonl(tmp_path / "p.jsonl", [{"task_id": "T/0", "prompt": PROMPT}])
    out = str(tmp_path / "s.jsonl")
    cfg = SampleConfig(model=str(tmp_path / "m"), prompts=prompts, output=out, n=8, batch_size=4, temperature=1.0,
                       max_new_tokens=12, progress=False)
    sample(cfg)
    full = [json.loads(line) for line in open(out)]
    with open(out + ".partial.jsonl", "w") as fh:  # stopped after its first batch
        fh.write(json.dumps({"fingerprint": fingerprint(cfg)}) + "\n")
        for r in full[:4]:
            fh.write(json.dumps({**r, "_job": [0, r["sample"]]}) + "\n")
    assert sample(cfg)["resumed_samples"] == 4
    resumed = [json.loads(line)["raw"] for line in open(out)]
    assert resumed[:4] == [r["raw"] for r in full[:4]] and len(set(resumed)) == 8
    assert resumed == [r["raw"] for r in full]  # each batch's stream is its own: the same samples as unbroken


def test_a_checkpoint_trained_again_in_place_is_not_resumed_into(memorised, tmp_path):
    """The model was known by its path alone: rows kept from the old weights were reused after
    the folder was trained again."""
    import shutil

    from lintseq.sample_partial import fingerprint

    path, _, _ = memorised
    model = tmp_path / "m"
    shutil.copytree(path, model)
    prompts = write_jsonl(tmp_path / "p.jsonl", [{"task_id": "T/0", "prompt": PROMPT}])
    out = str(tmp_path / "s.jsonl")
    cfg = SampleConfig(model=str(model), prompts=prompts, output=out, n=2, max_new_tokens=20, progress=False)
    kept = {"task_id": "T/0", "completion": "KEPT", "raw": "kept raw", "format": "editseq", "prompt_tokens": 5,
            "completion_tokens": 7, "sample": 0, "resolution": {"hunks": 0, "malformed": 0, "miscounted": 0}}
    with open(out + ".partial.jsonl", "w") as fh:
        fh.write(json.dumps({"fingerprint": fingerprint(cfg)}) + "\n")
        fh.write(json.dumps({**kept, "_job": [0, 0]}) + "\n")
    (weights,) = [f for f in os.listdir(model) if f.endswith(".safetensors")]
    stamp = os.stat(model / weights).st_mtime_ns + 10**9
    os.utime(model / weights, ns=(stamp, stamp))  # trained again: new weights in the same folder
    assert sample(cfg)["resumed_samples"] == 0
    assert "KEPT" not in open(out).read()
