"""data/decontam.py: near duplicates by shingles, and 13-gram contamination against the benchmarks."""

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


def test_pairs_copying_a_humaneval_solution_are_dropped_without_a_data_folder(monkeypatch):
    monkeypatch.delenv("LINTSEQ_DATA_DIR", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    task = load_benchmark("humaneval")["HumanEval/10"]
    pairs = [{"instruction": "Write a palindrome helper.", "response": task.reference},
             {"instruction": "Add two numbers.", "response": "def add(a, b):\n    return a + b\n"}]
    kept, dropped, against = decontaminate_pairs(pairs, None)
    assert kept == pairs[1:] and dropped == 1 and against.startswith("humaneval only")
