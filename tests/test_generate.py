import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import run_cli, write_jsonl
from lintseq.errors import LintseqError
from lintseq.generate import GenerateConfig, ResumeMismatch, generate, side_path
from lintseq.generate.verify import verify_file

GOOD = "def add(a, b):\n    total = a + b\n    return total"


def read(path):
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def keyed(path):
    return {(r["source_id"], r["sample"]): r for r in read(path)}


def test_record_format(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"instruction": "Add two numbers.", "response": GOOD, "id": "t1"}])
    out = str(tmp_path / "out.jsonl")
    s = generate(GenerateConfig(output=out, input=src, samples=3, seed=4, progress=False))
    recs = read(out)
    assert [r["id"] for r in recs] == ["0-0", "0-1", "0-2"] and s["sequences_out"] == 3
    r = recs[0]
    assert r["prompt"] == "Add two numbers.\n<|diff|>"
    assert r["completion"] == "\n<|diff|>".join(r["edits"]) + "\n<|diff|>\n<|diff|>"
    assert r["program"] == GOOD and r["input_id"] == "t1" and r["linter"] == "hybrid" and r["seed"] == 4
    assert json.load(open(side_path(out, "summary.json")))["programs_in"] == 1


def test_bad_inputs_each_get_a_reason_and_nothing_else_is_lost(tmp_path):
    five_k = "\n".join(f"x{i} = {i}" for i in range(5000))
    rows = [
        {"instruction": "crlf", "response": "def f(x):\r\n    return x\r\n"},               # 0 ok
        {"instruction": "tabs", "response": "def f(x):\n\tif x:\n\t\treturn 1\n\treturn 2"},  # 1 ok
        {"instruction": "mixed", "response": "def f(x):\n    if x:\n\treturn 1"},              # 2 syntax_error
        {"instruction": "unicode", "response": "def größe(λ):\n    return λ * 2\n\nprint(größe(2))"},  # 3 ok
        {"instruction": "syntax", "response": "def f(:\n    pass"},                         # 4 syntax_error
        {"instruction": "empty", "response": "  \n\n"},                                     # 5 empty
        {"instruction": "comments", "response": "# nothing\n# here"},                       # 6 comment_only
        {"instruction": "big", "response": five_k},                                         # 7 too_large
        '{"instruction": "broken json", ',                                                  # 8 bad_record
        {"instruction": "no code field"},                                                   # 9 bad_record
        {"instruction": "nul", "response": "x = 1\x00\x01\x02"},                            # 10 syntax_error
        {"instruction": "surrogate", "response": "x = '\udcff'"},                         # 11 not_utf8
        {"instruction": "fenced", "response": "Sure!\n```python\n" + GOOD + "\n```\nHope it helps."},  # 12 ok
    ]
    path = tmp_path / "in.jsonl"
    write_jsonl(path, rows)
    with open(path, "ab") as fh:  # 13: a line of invalid UTF-8 bytes
        fh.write(b'{"instruction": "x", "response": "\xff\xfe"}\n')
    out = str(tmp_path / "out.jsonl")
    s = generate(GenerateConfig(output=out, input=str(path), samples=2, progress=False))
    rejects = {r["source_id"]: r for r in read(side_path(out, "rejects.jsonl"))}
    want = {2: "syntax_error", 4: "syntax_error", 5: "empty", 6: "comment_only", 7: "too_large",
            8: "bad_record", 9: "bad_record", 10: "syntax_error", 11: "not_utf8", 13: "not_utf8"}
    assert {k: v["reason"] for k, v in rejects.items()} == want
    assert all(v["detail"] for v in rejects.values())
    assert "line 3" in rejects[2]["detail"] and "5000 lines" in rejects[7]["detail"]
    recs = read(out)
    assert sorted({r["source_id"] for r in recs}) == [0, 1, 3, 12]
    by_src = {r["source_id"]: r for r in recs}
    assert by_src[0]["program"] == "def f(x):\n    return x"      # CRLF -> LF, trailing newline gone
    assert by_src[12]["program"] == GOOD                          # prose around the fence dropped
    assert s["programs_in"] == 14 and s["rejected"] == 10
    assert verify_file(out)["ok"]


def test_binary_input_file(tmp_path):
    path = tmp_path / "blob.jsonl"
    path.write_bytes(bytes(range(256)) * 8 + b"\n" + b"\x89PNG\r\n\x1a\n\x00\x00")
    out = str(tmp_path / "out.jsonl")
    with pytest.raises(LintseqError, match=r"none produced a sequence \(rejected: (bad_record|not_utf8)"):
        generate(GenerateConfig(output=out, input=str(path), progress=False))
    assert sorted(os.listdir(tmp_path)) == ["blob.jsonl"]  # nothing half-written left behind


def test_unreadable_input_exits_2(tmp_path):
    proc = run_cli("generate", tmp_path / "missing.jsonl", "-o", tmp_path / "o.jsonl", check=False)
    assert proc.returncode == 2 and "cannot read INPUT" in proc.stderr


def test_parquet_and_hf_dataset_inputs(tmp_path):
    import datasets

    rows = [{"instruction": f"task {i}", "response": GOOD.replace("add", f"add{i}")} for i in range(4)]
    ds = datasets.Dataset.from_list(rows)
    ds.to_parquet(str(tmp_path / "in.parquet"))
    ds.save_to_disk(str(tmp_path / "hfdir"))
    a = generate(GenerateConfig(output=str(tmp_path / "a.jsonl"), input=str(tmp_path / "in.parquet"), samples=2, progress=False))
    b = generate(GenerateConfig(output=str(tmp_path / "b.jsonl"), input=str(tmp_path / "hfdir"), samples=2, progress=False))
    assert a["sequences_out"] == b["sequences_out"] == 8
    assert keyed(tmp_path / "a.jsonl") == keyed(tmp_path / "b.jsonl")
    c = generate(GenerateConfig(output=str(tmp_path / "c.jsonl"), input=str(tmp_path / "in.parquet"), samples=2,
                                parquet=True, progress=False))
    back = datasets.Dataset.from_parquet(c["parquet"]).to_list()
    assert {(r["source_id"], r["sample"]): r["edits"] for r in back} == {k: r["edits"] for k, r in keyed(tmp_path / "a.jsonl").items()}


def _stdlib_like(tmp_path, n=150):
    from lintseq.data.corpus import stdlib_pairs

    return write_jsonl(tmp_path / "in.jsonl", list(stdlib_pairs(limit=n)))


@pytest.mark.slow  # over 10 s on 2 shared cores
def test_resume_after_kill_9_equals_uninterrupted_run(tmp_path):
    src = _stdlib_like(tmp_path)
    ref = str(tmp_path / "ref.jsonl")
    generate(GenerateConfig(output=ref, input=src, samples=3, seed=1, workers=2, progress=False))
    out = str(tmp_path / "out.jsonl")
    cmd = [sys.executable, "-m", "lintseq.cli", "generate", src, "-o", out, "-s", "3", "--seed", "1", "--workers", "2", "-q"]
    for _ in range(2):  # kill it twice at different points
        proc = subprocess.Popen(cmd, start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline and (not os.path.exists(out) or os.path.getsize(out) < 40_000 * (_ + 1)):
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    with open(out, "a") as fh:
        fh.write('{"id": "torn')  # a torn trailing line, as a kill mid-write leaves
    assert 0 < len(read_ok(out)) < len(read(ref))
    run_cli(*cmd[3:])
    assert keyed(out) == keyed(ref)
    assert len(read(out)) == len(read(ref))  # no duplicates


def test_resume_after_kill_9_small(tmp_path):
    """The default run's version of the kill -9 test above: 40 programs, one kill, a torn line."""
    src = _stdlib_like(tmp_path, n=40)
    ref = str(tmp_path / "ref.jsonl")
    generate(GenerateConfig(output=ref, input=src, samples=2, seed=1, linter="fast", progress=False))
    out = str(tmp_path / "out.jsonl")
    cmd = [sys.executable, "-m", "lintseq.cli", "generate", src, "-o", out, "-s", "2", "--seed", "1", "--linter", "fast", "-q"]
    proc = subprocess.Popen(cmd, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline and (not os.path.exists(out) or os.path.getsize(out) < 5_000):
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    with open(out, "a") as fh:
        fh.write('{"id": "torn')
    assert 0 < len(read_ok(out)) < len(read(ref))
    run_cli(*cmd[3:])
    assert keyed(out) == keyed(ref) and len(read(out)) == len(read(ref))


def read_ok(path):
    good = []
    for line in open(path, encoding="utf-8"):
        try:
            good.append(json.loads(line))
        except ValueError:
            pass
    return good


def test_resume_refuses_different_settings(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"instruction": "a", "response": GOOD}])
    out = str(tmp_path / "out.jsonl")
    generate(GenerateConfig(output=out, input=src, samples=2, progress=False))
    with pytest.raises(ResumeMismatch):
        generate(GenerateConfig(output=out, input=src, samples=2, seed=9, progress=False))
    proc = run_cli("generate", src, "-o", out, "-s", "3", check=False)
    assert proc.returncode == 2 and "different settings (job.samples: 2 -> 3)" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "'seed'" not in proc.stderr  # only the field that differs, not two whole dicts
    s = generate(GenerateConfig(output=out, input=src, samples=3, overwrite=True, progress=False))
    assert s["sequences_out"] == 3


@pytest.mark.slow  # over 10 s on 2 shared cores
def test_ray_engine_matches_local(tmp_path):
    src = _stdlib_like(tmp_path, n=40)
    a, b = str(tmp_path / "local.jsonl"), str(tmp_path / "ray.jsonl")
    generate(GenerateConfig(output=a, input=src, samples=2, seed=5, workers=2, progress=False))
    generate(GenerateConfig(output=b, input=src, samples=2, seed=5, workers=2, engine="ray", progress=False))
    assert keyed(a) == keyed(b) and len(keyed(a)) == 80


def test_randseq_and_pylint_linters(tmp_path, humaneval):
    src = write_jsonl(tmp_path / "he.jsonl", [{"instruction": f"p{i}", "response": p} for i, p in enumerate(humaneval[:15])])
    out = str(tmp_path / "rand.jsonl")
    generate(GenerateConfig(output=out, input=src, samples=2, sampler="randseq", progress=False))
    assert all(r["linter"] is None and r["sampler"] == "randseq" for r in read(out))
    assert verify_file(out)["ok"] and verify_file(out)["states"] == 0
    out = str(tmp_path / "pylint.jsonl")
    generate(GenerateConfig(output=out, input=src, samples=2, linter="pylint", progress=False))
    rep = verify_file(out)  # each record's own linter: pylint
    assert rep["ok"] and rep["states"] > 0 and rep["clean_states"] == rep["states"]


def test_humaneval_all_164_verify_100_percent(tmp_path, humaneval):
    src = write_jsonl(tmp_path / "he.jsonl", [{"instruction": f"p{i}", "response": p} for i, p in enumerate(humaneval)])
    out = tmp_path / "he_out.jsonl"
    run_cli("generate", src, "-o", out, "-s", 5, "--workers", 2, "-q")
    rep = json.loads(run_cli("verify", out, "--json").stdout)
    assert rep["sequences"] == rep["roundtrip_ok"] == 820
    assert rep["states"] > 0 and rep["clean_states"] == rep["states"]


@pytest.mark.slow  # over 10 s on 2 shared cores
def test_stdlib_default_1000_programs_verify_100_percent(tmp_path):
    out = tmp_path / "std.jsonl"
    proc = run_cli("generate", "-o", out, "--workers", 2, cwd=tmp_path)
    assert "sequences out    5000" in proc.stdout and "example sequence" in proc.stdout
    rep = json.loads(run_cli("verify", out, "--json").stdout)
    assert rep["sequences"] == rep["roundtrip_ok"] == 5000 and rep["ok"]
    assert rep["clean_states"] == rep["states"] > 10_000


def test_verify_fails_on_tampered_record(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"instruction": "a", "response": GOOD}])
    out = tmp_path / "out.jsonl"
    generate(GenerateConfig(output=str(out), input=src, samples=1, progress=False))
    rec = read(out)[0]
    rec["edits"][-1] = rec["edits"][-1].replace("+", "-", 1)
    write_jsonl(tmp_path / "bad.jsonl", [rec, "not json"])
    proc = run_cli("verify", tmp_path / "bad.jsonl", check=False)
    assert proc.returncode == 1 and "FAILED" in proc.stdout and "not_insertion_only" in proc.stdout


def test_show_highlights_inserted_lines(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"instruction": "a", "response": GOOD}])
    out = tmp_path / "out.jsonl"
    generate(GenerateConfig(output=str(out), input=src, samples=1, progress=False))
    text = run_cli("show", out, "--index", 0, "--color", "always").stdout
    assert "\033[32m+" in text and "state 1/" in text and "return total" in text
    assert run_cli("show", out, "--index", 5, check=False).returncode == 2  # a LintseqError: exit 2


def test_wrong_field_names_fail_naming_the_fields_and_flags(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "Add.", "code": GOOD}] * 3)
    out = tmp_path / "sub" / "out.jsonl"
    proc = run_cli("generate", src, "-o", out, "-q", check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    assert "read 3 rows" in line and "'instruction'" in line and "'response'" in line
    assert "--instruction-field" in line and "--code-field" in line
    assert not (tmp_path / "sub").exists()  # no empty outputs (nor the folder made for them)
    ok = run_cli("generate", src, "-o", out, "--instruction-field", "prompt", "--code-field", "code", "-q")
    assert ok.returncode == 0 and len(read(out)) == 15


def test_every_generate_option_has_help_with_its_default():
    import argparse

    from lintseq.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    actions = [a for a in sub.choices["generate"]._actions if not isinstance(a, argparse._HelpAction)]
    assert len(actions) >= 18
    for a in actions:
        text = (a.help or "") % {"default": a.default}
        assert "default" in text, a.dest
        if a.default not in (None, False):
            assert f"default: {a.default}" in text, a.dest
    text = " ".join(run_cli("generate", "--help").stdout.split())
    assert "field holding the instruction. (default: instruction)" in text and "(default: response)" in text


def test_summary_counts_degenerate_sequences_and_warns(tmp_path):
    """Functions leaning on names from the rest of their module (issue 10, item 6): errors in
    the original go in the first edit; the summary counts them and warns, pointing to corpus build."""
    leaning = [{"instruction": f"f{i}", "response": f"def f{i}(x):\n    y = helper(x)\n    return y + {i}"}
               for i in range(12)]
    src = write_jsonl(tmp_path / "in.jsonl", leaning)
    proc = run_cli("generate", src, "-o", tmp_path / "o.jsonl", "-s", 2, "--overwrite")
    assert "24 single-edit sequences, 12 programs with lint errors as given" in proc.stdout
    assert "1 worker," in proc.stdout and "lintseq corpus build" in proc.stderr and "warning" in proc.stderr
    s = json.load(open(side_path(str(tmp_path / "o.jsonl"), "summary.json")))
    assert s["single_edit_sequences"] == 24 and s["programs_with_original_errors"] == 12 and s["warnings"]
    assert all(r["original_errors"] == 1 for r in read(tmp_path / "o.jsonl"))
    quiet = run_cli("generate", src, "-o", tmp_path / "o.jsonl", "-s", 2, "-q")
    assert quiet.stdout == ""  # -q: no summary (the warning still goes to stderr)
    fine = write_jsonl(tmp_path / "fine.jsonl", [{"instruction": "a", "response": GOOD}] * 12)
    proc = run_cli("generate", fine, "-o", tmp_path / "f.jsonl", "-s", 2)
    assert "0 programs with lint errors" in proc.stdout and "warning" not in proc.stderr


HEAP_CHECK = r'''
import gc, sys
from lintseq.data.sources import Row
from lintseq.generate.records import JobSpec, process_row, process_rows

spec = JobSpec(samples=2)
process_rows([Row(0, "Add.", "def f(x):\n    return x + 1")], spec)
assert "astroid.manager" not in sys.modules and gc.get_freeze_count() == 0, "fast oracle only: nothing frozen"
cls = "import json\nclass A:\n    def f(self):\n        x = json.dumps(1)\n        return self.g(x)\n\n    def g(self, y):\n        return y\n"
first = process_rows([Row(1, "A.", cls)], spec)
frozen = gc.get_freeze_count()
assert frozen > 0, "pylint built modules: the survivors are frozen"
again = process_rows([Row(1, "A.", cls)], spec)
assert gc.get_freeze_count() <= frozen, "nothing new built: nothing more frozen (frozen objects still go by refcount)"
plain = process_row(Row(1, "A.", cls), spec)
assert [r.records for r in first] == [r.records for r in again] == [plain.records]
print("ok")
'''


def test_process_rows_freezes_what_astroid_built_and_the_records_do_not_change():
    """settle_heap: a fresh interpreter, so what this test session imported does not count."""
    out = subprocess.run([sys.executable, "-c", HEAP_CHECK], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


ORDER_CHECK = r'''
from lintseq.data.sources import Row
from lintseq.generate.records import JobSpec, process_rows

spec = JobSpec(samples=2)
patcher = "import logging\n\n\nclass A:\n    def m(self):\n        f = logging.Formatter()\n        f.zzz = 1\n        return f\n"
reader = "import logging\n\n\nclass B:\n    def m(self):\n        return logging.Formatter().zzz\n\n    def n(self):\n        return 1\n"
alone = process_rows([Row(1, "B.", reader)], spec)
after = process_rows([Row(0, "A.", patcher), Row(1, "B.", reader)], spec)[1:]
assert alone[0].records and [r.records for r in alone] == [r.records for r in after], "B changed after A"
print("ok")
'''


def test_a_rows_sequences_do_not_depend_on_the_rows_its_worker_saw_before():
    """Row A assigns an attribute on a class of the logging module; row B reads it, and pylint
    on B alone reports E1101. Before, A's assignment stayed in astroid's cached module and B's
    sequences changed when its worker had done A first (fresh interpreters: order matters)."""
    out = subprocess.run([sys.executable, "-c", ORDER_CHECK], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_verify_checks_the_text_training_reads(tmp_path):
    """Training reads a record's prompt/completion where it has them: a completion that no longer
    matches its edits (hand-edited, or written by another tool) fails verify, naming the field."""
    from lintseq.generate.verify import verify_records

    src = write_jsonl(tmp_path / "in.jsonl", [{"instruction": "a", "response": GOOD}])
    out = tmp_path / "out.jsonl"
    generate(GenerateConfig(output=str(out), input=src, samples=1, progress=False))
    rec = read(out)[0]
    assert "completion" in rec and verify_records([rec])["ok"]
    bad = {**rec, "completion": rec["completion"].replace("total", "totl")}
    rep = verify_records([bad])
    assert not rep["ok"] and rep["text_view_mismatches"] == 1
    assert rep["violations"][0]["check"] == "text_view" and "completion" in rep["violations"][0]["detail"]
    assert verify_records([{k: v for k, v in rec.items() if k not in ("prompt", "completion")}])["ok"]


def test_an_odd_input_id_never_stops_the_run(tmp_path):
    """A row's own id goes into its records as input_id: a lone surrogate (JSON allows the escape)
    or a Parquet timestamp used to stop the whole run at writing, and every rerun the same way."""
    import datetime

    import pyarrow as pa
    import pyarrow.parquet as pq

    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "\\ud800", "instruction": "a", "response": "y = 2\\nprint(y)"}\n'
                   '{"id": "b", "instruction": "b", "response": "z = 3\\nprint(z)"}\n')
    out = tmp_path / "out.jsonl"
    summary = generate(GenerateConfig(output=str(out), input=str(src), samples=1, linter="fast", progress=False))
    assert summary["sequences_out"] == 2 and [r["input_id"] for r in read(out)] == ["\\ud800", "b"]
    table = pa.table({"id": [datetime.datetime(2024, 1, 2)], "instruction": ["a"], "response": ["y = 2\nprint(y)"]})
    pq.write_table(table, tmp_path / "in.parquet")
    out = tmp_path / "p.jsonl"
    generate(GenerateConfig(output=str(out), input=str(tmp_path / "in.parquet"), samples=1, linter="fast", progress=False))
    assert read(out)[0]["input_id"] == "2024-01-02 00:00:00"


def test_the_output_is_in_input_order_at_any_worker_count(tmp_path):
    """Chunks that finish early wait for the ones before them: a slow first row (a long program)
    used to be written last at two workers."""
    long = "\n".join(f"x{i} = {i}\nprint(x{i})" for i in range(150))
    rows = [{"instruction": "long", "response": long}] + [
        {"instruction": f"r{i}", "response": f"y = {i}\nprint(y)"} for i in range(1, 8)]
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    ids = {}
    for workers in (1, 2):
        out = tmp_path / f"w{workers}.jsonl"
        generate(GenerateConfig(output=str(out), input=src, samples=1, linter="fast", workers=workers, chunk_size=1,
                                progress=False))
        ids[workers] = [r["id"] for r in read(out)]
    assert ids[1] == ids[2] == [f"{i}-0" for i in range(8)]


def test_the_parquet_copy_has_every_records_fields(tmp_path):
    """The Parquet copy took its columns from the first record: a field only later records have
    (input_id here) was lost, and ids of mixed types failed after the run, leaving no summary."""
    import pyarrow.parquet as pq

    rows = [{"instruction": "a", "response": "y = 2\nprint(y)"},
            {"id": 1, "instruction": "b", "response": "z = 3\nprint(z)"},
            {"id": "c", "instruction": "c", "response": "w = 4\nprint(w)"}]
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.jsonl"
    summary = generate(GenerateConfig(output=str(out), input=src, samples=1, linter="fast", parquet=True,
                                      progress=False))
    table = pq.read_table(summary["parquet"]).to_pylist()
    assert [r.get("input_id") for r in read(out)] == [None, 1, "c"]
    assert [r["input_id"] for r in table] == [None, "1", "c"]  # one column type: text
    assert [r["edits"] for r in table] == [r["edits"] for r in read(out)]
    assert os.path.exists(side_path(str(out), "summary.json"))


def test_a_rebuilt_dataset_folder_is_not_resumed_into_the_old_output(tmp_path):
    """A save_to_disk folder was known by its name alone: rebuilt with other rows, a resumed run
    mixed the two datasets. Its files (names, sizes, times) are part of the fingerprint now."""
    import shutil

    import datasets

    rows = [{"instruction": f"i{i}", "response": f"x = {i}\nprint(x)"} for i in range(3)]
    folder, out = tmp_path / "hf", tmp_path / "out.jsonl"
    datasets.Dataset.from_list(rows).save_to_disk(str(folder))
    cfg = GenerateConfig(output=str(out), input=str(folder), samples=1, linter="fast", progress=False)
    generate(cfg)
    assert generate(cfg)["resumed_programs"] == 3  # the same folder: resumed
    shutil.rmtree(folder)
    datasets.Dataset.from_list([{**r, "instruction": r["instruction"] + " changed"} for r in rows]).save_to_disk(str(folder))
    with pytest.raises(ResumeMismatch):
        generate(cfg)
