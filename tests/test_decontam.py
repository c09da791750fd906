"""data/decontam.py: near duplicates by shingles, and 13-gram contamination against the benchmarks."""

import pytest
from hypothesis import given, strategies as st

from lintseq.data.decontam import Contamination, decontaminate_pairs, near_duplicates
from lintseq.tasks import load_benchmark


def test_near_duplicates_keep_the_first_and_drop_the_reworded_copy():
    doc = " ".join(f"step{i} of the method is described here" for i in range(12))
    a = f"def add(a, b):\n    \"\"\"{doc}\"\"\"\n    return a + b\n"
    b = a.replace("step3 ", "stage3 ")  # one token of about a hundred
    c = "class Stack:\n    def __init__(self):\n        self.items = []\n    def push(self, x):\n        self.items.append(x)\n"
    assert near_duplicates([a, b, c]) == {1}


def test_thirteen_shared_tokens_contaminate_and_twelve_do_not():
    index = Contamination()
    index.add(" ".join(f"w{i}" for i in range(30)))
    assert index.hits("prefix " + " ".join(f"w{i}" for i in range(5, 18)) + " suffix")
    assert not index.hits("prefix " + " ".join(f"w{i}" for i in range(5, 17)) + " suffix")


def test_no_hit_without_a_shared_13_gram_even_where_a_32_bit_hash_collides():
    """These two 13-grams share no n-gram, but the crc32 of each joined n-gram, the hash this
    used, is the same (3347974207): an index of the first 'contained' the second. With the
    1.36 million 13-grams of every benchmark indexed, that made 78 of 1,491 standard-library
    pairs contaminated by collision alone (the slow test below counts them on the real index)."""
    import zlib

    mid = " ".join(f"w{i}" for i in range(11))
    first, second = f"a469122 {mid} b500975", f"a71894 {mid} b485890"
    assert zlib.crc32(first.replace(" ", "\x1f").encode()) == zlib.crc32(second.replace(" ", "\x1f").encode())
    index = Contamination()
    index.add(first)
    assert index.hits(first) and not index.hits(second)


@pytest.mark.slow
def test_the_benchmark_index_hits_exactly_the_pairs_that_share_a_13_gram(data):
    """On the real index (every benchmark in the data folder) and the standard library's pairs,
    a hit is a shared 13-gram, compared as text (about 1.4 million of them)."""
    from lintseq.data import decontam
    from lintseq.data.corpus import stdlib_pairs

    texts = []

    class Recording(Contamination):
        def add(self, text):
            texts.append(text)
            super().add(text)

    real = Contamination
    decontam.Contamination = Recording
    try:
        index, _ = decontam.benchmark_index(data)
    finally:
        decontam.Contamination = real

    def grams(text):
        toks = decontam.tokens(text)
        return {"\x1f".join(toks[i: i + 13]) for i in range(len(toks) - 12)}

    exact = set().union(*(grams(t) for t in texts))
    pairs = list(stdlib_pairs())
    hits = [index.hits(p["instruction"]) or index.hits(p["response"]) for p in pairs]
    shared = [not exact.isdisjoint(grams(p["instruction"]) | grams(p["response"])) for p in pairs]
    assert hits == shared and sum(shared) > 0


def test_pairs_copying_a_humaneval_solution_are_dropped_without_a_data_folder(monkeypatch):
    monkeypatch.delenv("LINTSEQ_DATA_DIR", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    task = load_benchmark("humaneval")["HumanEval/10"]
    pairs = [{"instruction": "Write a palindrome helper.", "response": task.reference},
             {"instruction": "Add two numbers.", "response": "def add(a, b):\n    return a + b\n"}]
    kept, dropped, against = decontaminate_pairs(pairs, None)
    assert kept == pairs[1:] and dropped == 1 and against.startswith("humaneval only")


@given(st.lists(st.sampled_from(["a", "b", "(", ")", "def", "x1", "é", "\x1f"]), max_size=40), st.integers(1, 14))
def test_rolled_hashes_are_each_windows_own(toks, n):
    """The rolling update gives, for every window, the hash computed on that window alone."""
    import zlib

    from lintseq.data.decontam import _BASE, _MOD, ngrams

    def alone(window):
        h = 0
        for t in window:
            h = (h * _BASE + zlib.crc32(t.encode())) % _MOD
        return h

    assert ngrams(toks, n) == {alone(toks[i: i + n]) for i in range(len(toks) - n + 1)}


def test_texts_too_short_for_a_shingle_are_dropped_only_as_exact_copies():
    texts = ["x = 1", "import os", "print(2)", "x  =  1", "def f(a, b):\n    return a + b\n"]
    assert near_duplicates(texts) == {3}
