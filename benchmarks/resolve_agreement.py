"""Our ``authors`` rule against the authors' own ``resolve_edit_path``, on many model-like outputs.

The outputs are HumanEval programs written as LintSeq edit sequences (our generator, fast linter),
then damaged the ways a small model damages them (a ``+`` missing, context and ``-`` lines, blank
lines, header text, edits after the empty edit, truncation, wrong counts, EOS text, fences ...).
Each goes through their function (imported from a checkout of upiterbarg/lintseq: nothing of it is
copied here) and through ours; every difference is printed.

    python benchmarks/resolve_agreement.py --authors-repo /path/to/lintseq [--cases 3000]
    python benchmarks/resolve_agreement.py --authors-repo ... --write-fixture tests/fixtures/authors_resolve.jsonl

``--authors-repo`` is a work tree (``src/utils.py``) or a bare git directory (read with
``git show HEAD:src/utils.py``). Their module is run twice: as released, and with its
``rstrip("<|endoftext|>")`` character-set strip neutralised after the EOS text itself is removed
(the one difference we keep on purpose). Ours must equal the second on every case.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from common import humaneval_pairs  # noqa: E402

from lintseq.diffs import EOS_TEXT, apply_authors  # noqa: E402
from lintseq.formats import editseq_completion  # noqa: E402
from lintseq.oracle import get_linter  # noqa: E402
from lintseq.backward_sampling import lintseq_sample, rng_for  # noqa: E402

EOS_CHARS = set(EOS_TEXT)


def load_authors(repo: str):
    """Their ``src/utils.py`` as a module (it imports torch and pylint, both installed here)."""
    path = os.path.join(repo, "src", "utils.py")
    if not os.path.isfile(path):
        text = subprocess.run(["git", "--git-dir", repo, "show", "HEAD:src/utils.py"], check=True,
                              capture_output=True, text=True).stdout
        path = os.path.join(tempfile.mkdtemp(prefix="authors-utils-"), "utils.py")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    spec = importlib.util.spec_from_file_location("authors_utils", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# -- damage a completion the ways model output is damaged -----------------------------------------

def _lines_op(text, rng, fn):
    lines = text.split("\n")
    body = [i for i, ln in enumerate(lines) if ln.startswith("+")]
    if body:
        i = rng.choice(body)
        lines[i:i + 1] = fn(lines[i], rng)
    return "\n".join(lines)


SOUP = ["@@", " ", "\n", "+", "-", "<|diff|>", "\n<|diff|>", "0", "1", "3", ",", "x", "    ", "\t", "@", EOS_TEXT, "e"]


def _headers(text):
    return [i for i, ln in enumerate(text.split("\n")) if ln.startswith("@@")]


def _header_op(text, rng, fn):
    lines = text.split("\n")
    heads = [i for i, ln in enumerate(lines) if ln.startswith("@@")]
    if heads:
        i = rng.choice(heads)
        lines[i] = fn(lines[i], rng)
    return "\n".join(lines)


def _after_stop(text, rng):
    stop = "\n<|diff|>\n<|diff|>"
    extra = rng.choice(["@@ -0,0 +1 @@\n+# trailing edit", "@@ -2,0 +3 @@\n+    pass", "junk", "@@ -1,0 +2,2 @@\n+x = 1\n+y = 2"])
    return text + extra + rng.choice(["", stop, "\n<|diff|>"])


DAMAGE = {
    "clean": lambda t, r: t,
    "no_plus": lambda t, r: _lines_op(t, r, lambda ln, r: [ln[1:]]),
    "context_line": lambda t, r: _lines_op(t, r, lambda ln, r: [ln, " " + ln[1:]]),
    "minus_line": lambda t, r: _lines_op(t, r, lambda ln, r: [ln, "-" + ln[1:]]),
    "blank_line": lambda t, r: _lines_op(t, r, lambda ln, r: [ln, ""]),
    "double_plus": lambda t, r: _lines_op(t, r, lambda ln, r: ["+" + ln]),
    "plus_minus": lambda t, r: _lines_op(t, r, lambda ln, r: ["-+" + ln[1:]]),
    "at_in_body": lambda t, r: _lines_op(t, r, lambda ln, r: [ln + "  # @@ note"]),
    "header_text": lambda t, r: _header_op(t, r, lambda h, r: h + r.choice([" def f(x):", " class A:", "x"])),
    "header_space": lambda t, r: _header_op(t, r, lambda h, r: h + r.choice([" ", "  ", "\t"])),
    "header_inner_space": lambda t, r: _header_op(t, r, lambda h, r: h.replace(" +", "  +", 1)),
    "header_bad": lambda t, r: _header_op(t, r, lambda h, r: r.choice(["@@ -0,0 +a @@", "@@ +1 @@", "@@ -0,0 +1,2,3 @@",
                                                                          "@@ @@", "@@ -0,0 +1", "@@@ -0,0 +1 @@"])),
    "header_zero_neg": lambda t, r: _header_op(t, r, lambda h, r: f"@@ -0,0 +{r.choice(['0', '-1', '-3', '00', '1_0'])} @@"),
    "wrong_count": lambda t, r: _header_op(t, r, lambda h, r: re.sub(r"\+(\d+)(,\d+)? @@", lambda m: f"+{m.group(1)},{r.randint(0, 6)} @@", h)),
    "missing_header": lambda t, r: "\n".join(ln for i, ln in enumerate(t.split("\n")) if i != (_headers(t) or [-1])[-1]),
    "after_stop": _after_stop,
    "truncated": lambda t, r: t[: r.randint(1, max(1, len(t) - 1))],
    "eos_suffix": lambda t, r: t + EOS_TEXT,
    "eos_after_code": lambda t, r: t[: t.rfind("\n<|diff|>\n<|diff|>")] + r.choice(["\n+print('done')", "\n+x = cnt", ""]) + EOS_TEXT,
    "fence": lambda t, r: r.choice(["```python\n", "```\n", "Here it is:\n```python\n"]) + t + r.choice(["\n```", "\n```\nDone.", ""]),
    "prose_first": lambda t, r: r.choice(["Sure! Here are the edits:\n", "<|diff|>", "\n"]) + t,
    "crlf": lambda t, r: t.replace("\n", "\r\n", r.randint(1, 5)),
    "soup": lambda t, r: "".join(r.choice(SOUP) for _ in range(r.randint(1, 40))),
    "empty_edits": lambda t, r: t.replace("\n<|diff|>", "\n<|diff|>\n<|diff|>", 1),
}


def make_cases(n: int, seed: int = 0, max_lines: int = 30) -> list[dict]:
    """``n`` damaged completions (1-3 kinds of damage each), from HumanEval's programs."""
    linter = get_linter("fast")
    programs = [p["response"] for p in humaneval_pairs() if p["response"].count("\n") < max_lines]
    rng = random.Random(seed)
    names = sorted(DAMAGE)
    cases = []
    for i in range(n):
        pid = rng.randrange(len(programs))
        seq = lintseq_sample(programs[pid], linter, rng_for(seed, pid, i))
        text = editseq_completion(seq.edits)
        kinds = ["clean"] if i % 10 == 0 else rng.sample(names, rng.randint(1, 3))
        for kind in kinds:
            text = DAMAGE[kind](text, rng)
        cases.append({"case": "+".join(kinds), "program_index": pid, "text": text})
    return cases


def run_authors(mod, text: str, fixed: bool) -> str:
    if fixed:
        while text.endswith(EOS_TEXT):
            text = text[: -len(EOS_TEXT)]
    saved = mod.EOS_TOKEN
    mod.EOS_TOKEN = "\x00" if fixed else saved  # rstrip("\x00") removes nothing from these texts
    try:
        return mod.resolve_edit_path(text)
    finally:
        mod.EOS_TOKEN = saved


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--authors-repo", required=True)
    ap.add_argument("--cases", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--write-fixture", default="", help="also write this many cases (--fixture-size) as a test fixture")
    ap.add_argument("--fixture-size", type=int, default=600)
    ap.add_argument("--json", default="")
    args = ap.parse_args(argv)
    mod = load_authors(args.authors_repo)
    cases = make_cases(args.cases, args.seed)
    agree = bug = 0
    by_kind: dict[str, list[int]] = {}
    for c in cases:
        c["authors"] = run_authors(mod, c["text"], fixed=False)
        c["authors_fixed"] = run_authors(mod, c["text"], fixed=True)
        ours = apply_authors(c["text"]).text
        ok = ours == c["authors_fixed"]
        agree += ok
        bug += c["authors"] != c["authors_fixed"]
        for kind in c["case"].split("+"):
            by_kind.setdefault(kind, [0, 0])[0] += ok
            by_kind[kind][1] += 1
        if not ok:
            print(f"DIFF ({c['case']}): {c['text']!r}\n  theirs {c['authors_fixed']!r}\n  ours   {ours!r}")
    report = {"cases": len(cases), "agree": agree, "agreement": agree / len(cases),
              "eos_rstrip_bug_changes": bug, "by_damage": {k: f"{a}/{n}" for k, (a, n) in sorted(by_kind.items())}}
    print(json.dumps(report, indent=1))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=1)
    if args.write_fixture:
        with open(args.write_fixture, "w", encoding="utf-8") as fh:  # authors_fixed only where it differs
            for c in cases[: args.fixture_size]:
                row = {"case": c["case"], "text": c["text"], "authors": c["authors"]}
                if c["authors_fixed"] != c["authors"]:
                    row["authors_fixed"] = c["authors_fixed"]
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return 0 if agree == len(cases) else 1


if __name__ == "__main__":
    raise SystemExit(main())
