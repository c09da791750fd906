import json
import os

import pytest

from lintseq.data.corpus import build_corpus, module_pairs
from lintseq.data.decontam import near_duplicates, ngrams, tokens
from lintseq.tasks import load_benchmark
from lintseq.oracle import get_linter



@pytest.fixture(scope="module")
def corpus_data():
    """Corpus building decontaminates against every benchmark: it needs their data."""
    from helpers import data_dir, need

    need("data", data_dir() is not None, "benchmark data missing: set LINTSEQ_DATA_DIR")
    return data_dir()


@pytest.fixture(scope="module")
def corpus(corpus_data):
    return build_corpus(["more_itertools"] if _installed("more_itertools") else [], corpus_data, seed=3)


def _installed(name):
    import importlib.util

    return importlib.util.find_spec(name) is not None


def test_pairs_are_self_contained_programs(corpus):
    pairs, counts = corpus
    fast = get_linter("fast")
    assert counts["kept"] == len(pairs) > 1000
    for p in pairs:
        assert set(p) == {"id", "source", "instruction", "response", "split"}
        assert "`" in p["instruction"]  # the signature is named in the instruction
        undefined = [m for m in fast.messages(p["response"]) if m.code in ("E0602", "E0001")]
        assert not undefined, (p["id"], undefined)


def test_decontaminated_against_humaneval_and_mbpp(corpus, corpus_data):
    pairs, counts = corpus
    bench = set()
    for name in ("humaneval", "mbpp"):
        for t in load_benchmark(name, corpus_data).values():
            bench |= ngrams(tokens(t.instruction), 13) | ngrams(tokens(t.reference), 13)
    for p in pairs:
        assert bench.isdisjoint(ngrams(tokens(p["response"]), 13)), p["id"]
        assert bench.isdisjoint(ngrams(tokens(p["instruction"]), 13)), p["id"]
    assert counts["dropped_contaminated_13gram"] > 0


def test_mbpp_train_ids_used_by_evaluation_sets_are_dropped(corpus, corpus_data):
    pairs, counts = corpus
    plus = {int(t.split("/")[1]) for t in load_benchmark("mbppplus", corpus_data)}
    sanitized = {json_id for json_id in (r["task_id"] for r in json.load(open(os.path.join(corpus_data, "mbpp", "sanitized-mbpp.json"))))}
    overlap = {i for i in range(601, 975)} & (plus | sanitized)
    assert counts["dropped_mbpp_train_ids_used_by_mbppplus_or_sanitized"] == len(overlap)
    mbpp_ids = {int(p["id"].split("/")[1]) for p in pairs if p["source"] == "mbpp-train"}
    assert mbpp_ids and not mbpp_ids & overlap and all(601 <= i <= 974 for i in mbpp_ids)


@pytest.mark.slow  # a second whole corpus build (~15 s on 2 cores)
def test_split_is_seeded(corpus, corpus_data):
    pairs, _ = corpus
    again, _ = build_corpus([], corpus_data, seed=3, stdlib=True)
    split = {p["id"]: p["split"] for p in pairs}
    assert all(split[p["id"]] == p["split"] for p in again if p["id"] in split)
    assert 0 < sum(p["split"] == "validation" for p in pairs) < 0.15 * len(pairs)


def test_near_duplicates():
    base = "def total(values):\n    result = 0\n    for v in values:\n        result += v\n    return result\n" * 3
    near = base.replace("result", "result", 1) + "# done"
    other = "import os\n\ndef listing(path):\n    return sorted(os.listdir(path))\n" * 3
    assert near_duplicates([base, near, other]) == {1}


def test_module_pairs_bind_free_names_with_imports():
    pairs = {p["id"]: p for p in module_pairs("textwrap")}
    # dedent reads two module-level regexes and `re`: each bound by an added import, nothing else added
    dedent = pairs["textwrap.dedent"]["response"]
    head = dedent.split("\n\n\n")[0].split("\n")
    assert head == ["from textwrap import _leading_whitespace_re", "from textwrap import _whitespace_only_re", "import re"]
    assert dedent.split("\n\n\n", 1)[1].startswith("def dedent(text):")
    # indent needs nothing: no import line is added
    assert pairs["textwrap.indent"]["response"].startswith("def indent(text, prefix, predicate=None):")
    assert pairs["textwrap.indent"]["instruction"].startswith("Write a Python function `indent(text, prefix, predicate=None)`")


def test_dotted_imports_stay_whole_so_the_programs_run(corpus):
    """``import urllib.parse`` was written as ``import urllib``: pyflakes is content, but the
    program fails with AttributeError when run. Each pair that imports a dotted module now names
    it whole, and those imports run in a fresh interpreter."""
    import subprocess
    import sys

    pairs, _ = corpus
    dotted = [p for p in pairs if any(line.startswith("import ") and "." in line.split(" as ")[0]
                                      for line in p["response"].splitlines())]
    assert len(dotted) > 10  # none before: every one was cut to its top package
    heads = sorted({line for p in dotted for line in p["response"].splitlines() if line.startswith("import ")})
    # each whole import runs (one this Python was built without, such as curses, may be missing)
    script = "".join(f"try:\n    {h}\nexcept ImportError:\n    pass\n" for h in heads)
    subprocess.run([sys.executable, "-I", "-c", script], check=True, timeout=60)
