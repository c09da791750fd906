r"""Which deletions can change what pylint infers: the hybrid oracle's second gate.

The sampler's states are line deletions of one text, and the state before (the baseline) was
judged clean. pylint's inference-only errors (no-member, argument counts of imported callables,
super-init-not-called, ...) sit on lines that remain; a deletion can only create one by removing
something a remaining line leans on: a name or attribute the deleted lines bind or mention, or
the body of a function that a remaining line calls. So a state needs pylint only when a word of
the deleted lines, or the name of a function a deleted line sat in, is still referenced in the
state (a ``def``/``class`` line naming itself does not count), or when the deleted lines touch
what pylint checks about a class as a whole (``__init__``/``super`` calls, abstract methods) or
change how the rest is read (a decorator, a ``def`` under a decorator that stays, a
``from __future__`` import, a triple quote of a string that stays).

    >>> base = "import yaml\ndef f(x):\n    y = yaml.load(x)\n    print(x)\n    return y"
    >>> touched(base.split("\n"), "import yaml\ndef f(x):\n    y = yaml.load(x)\n    return y".split("\n"))
    False
    >>> touched(base.split("\n"), "import yaml\ndef f(x):\n    print(x)\n    return y".split("\n"))
    True
"""

from __future__ import annotations

import ast
import keyword
import re
from collections import Counter

_WORD = re.compile(r"[A-Za-z_]\w*")
_DEF = re.compile(r"^[ \t]*(?:async[ \t]+)?(def|class)[ \t]+([A-Za-z_]\w*)")
# words that every deletion mentions and that bind nothing a remaining line could lean on
_NEUTRAL = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | {"self", "cls"}
# deleted lines mentioning these change what pylint checks about the class as a whole
# (W0231 super-init-not-called, E0110 abstract-class-instantiated): always ask
_CLASS_WIDE = frozenset({"__init__", "super", "__new__", "abstractmethod", "NotImplementedError", "ABC", "ABCMeta"})


def deleted(baseline: list[str], state: list[str]) -> list[int] | None:
    """Indices of ``baseline`` lines that ``state`` lacks, when ``state`` is ``baseline`` with
    some lines deleted (order kept); None when it is not. Matching is greedy from the top: with
    repeated lines another choice of deleted copies is possible, but the copies' words are the
    same and only the enclosing function may differ."""
    if len(state) > len(baseline):
        return None
    gone, j = [], 0
    for i, line in enumerate(baseline):
        if j < len(state) and state[j] == line:
            j += 1
        else:
            gone.append(i)
    return gone if j == len(state) else None


def _enclosing_function(lines: list[str], i: int) -> str | None:
    """Name of the innermost ``def`` whose block holds line ``i`` (by indentation)."""
    text = lines[i]
    depth = len(text) - len(text.lstrip())
    for k in range(i - 1, -1, -1):
        line = lines[k]
        stripped = line.lstrip()
        if not stripped or stripped[0] == "#":
            continue
        lead = len(line) - len(stripped)
        if lead < depth:
            m = _DEF.match(line)
            if m and m.group(1) == "def":
                return m.group(2)
            if m:  # a class body line: no function around it
                return None
            depth = lead
    return None


def _line_effects(line: str) -> tuple[set[str], bool] | None:
    """(names the line binds, whether it returns/yields/raises) for one line parsed alone;
    None when it does not parse alone (part of a multi-line statement: take all its words)."""
    text = line.strip()
    for attempt in (text, text + "\n pass"):
        try:
            tree = ast.parse(attempt)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        bound: set[str] = set()
        effect = False
        for n in ast.walk(tree):
            if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
                bound.add(n.id)
            elif isinstance(n, ast.Attribute) and not isinstance(n.ctx, ast.Load):
                bound.add(n.attr)
            elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                bound.add(n.name)
            elif isinstance(n, ast.arg):
                bound.add(n.arg)
            elif isinstance(n, ast.alias):
                bound.add((n.asname or n.name).split(".")[0])
            elif isinstance(n, (ast.Global, ast.Nonlocal)):
                bound.update(n.names)
            elif isinstance(n, ast.ExceptHandler) and n.name:
                bound.add(n.name)
            elif isinstance(n, (ast.MatchAs, ast.MatchStar)) and n.name:
                bound.add(n.name)
            elif isinstance(n, (ast.Return, ast.Yield, ast.YieldFrom, ast.Raise, ast.Await)):
                effect = True
        return bound, effect
    return None


_HEADER_FIELDS = {  # the parts of a compound statement on its header lines
    ast.If: ("test",), ast.While: ("test",), ast.For: ("target", "iter"), ast.AsyncFor: ("target", "iter"),
    ast.With: ("items",), ast.AsyncWith: ("items",), ast.Match: ("subject",),
}
_EFFECTS = (ast.Return, ast.Raise, ast.Yield, ast.YieldFrom, ast.Await)


def _statement_words(node: ast.stmt) -> tuple[set[str], bool]:
    """(what deleting a line of a multi-line statement can change, whether it returns, yields
    or raises). For a ``def``/``class`` header: its name (a parameter the body still reads is
    an undefined name the fast oracle reports; one it does not read matters only to callers).
    Otherwise: the names it
    binds and the callables it calls (a call that loses an argument line is what pylint then
    judges); names merely read, and string contents (a docstring), change nothing elsewhere."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}, False
    fields = _HEADER_FIELDS.get(type(node))
    if fields is None and hasattr(node, "body"):
        return set(), False  # try:, else: ... headers hold no names
    roots = [node] if fields is None else [v for f in fields for v in
                                           (getattr(node, f) if isinstance(getattr(node, f), list) else [getattr(node, f)])
                                           if isinstance(v, ast.AST)]
    out: set[str] = set()
    effect = isinstance(node, _EFFECTS)
    for root in roots:
        for n in ast.walk(root):
            if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
                out.add(n.id)
            elif isinstance(n, ast.Attribute) and not isinstance(n.ctx, ast.Load):
                out.add(n.attr)
            elif isinstance(n, ast.Call):
                f = n.func
                out.add(f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", ""))
            elif isinstance(n, _EFFECTS):
                effect = True
    out.discard("")
    return out, effect


def statement_spans(lines: list[str]) -> dict[int, tuple[set[str], bool]]:
    """0-based line -> :func:`_statement_words` of the statement (or compound-statement header,
    decorators included) it is part of, for statements spanning more than one line."""
    try:
        tree = ast.parse("\n".join(lines))
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # unknown: every word counts
        return {i: (set(_WORD.findall(line)), True) for i, line in enumerate(lines)}
    spans: dict[int, set[str]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt):
            continue
        body = getattr(node, "body", None)
        last = body[0].lineno - 1 if isinstance(body, list) and body else node.end_lineno
        first = node.lineno
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.decorator_list:
            first = min(d.lineno for d in node.decorator_list)
        if last > first:
            words = _statement_words(node)
            for k in range(first - 1, last):
                spans[k] = words
    return spans


def _changes_kind(baseline: list[str], i: int, gone: set[int]) -> bool:
    """Whether deleting line ``i`` changes what a remaining definition is, or how the whole
    file is read: a decorator (``@dataclass`` makes ``field()`` legal, ``@property`` makes a
    member a value), a ``def``/``class`` line whose decorators remain (they now decorate the
    next definition), or a ``from __future__`` import (annotations evaluated or not)."""
    stripped = baseline[i].lstrip()
    if stripped.startswith("@") or stripped.startswith("from __future__"):
        return True
    if _DEF.match(baseline[i]):
        k = i - 1
        while k >= 0 and not baseline[k].strip():
            k -= 1
        return k >= 0 and k not in gone and baseline[k].lstrip().startswith("@")
    return False


def _splits_string(baseline: list[str], i: int, gone: set[int], spans: dict) -> bool:
    """Whether line ``i`` holds a triple quote of a multi-line statement that does not go
    whole: the quotes that remain pair up anew, and code and text trade places."""
    line = baseline[i]
    if '"""' not in line and "'''" not in line or i not in spans:
        return False
    span = spans[i]
    return any(spans.get(k) is span and k not in gone for k in range(len(baseline)))


def touched(baseline: list[str], state: list[str], spans: dict | None = None) -> bool | None:
    """Whether deleting ``baseline`` lines to get ``state`` can change pylint's inference on what
    remains (see the module docstring); None when ``state`` is no deletion of ``baseline``.
    ``spans`` is :func:`statement_spans` of ``baseline`` when the caller keeps it."""
    gone = deleted(baseline, state)
    if gone is None:
        return None
    if spans is None:
        spans = statement_spans(baseline)
    words: set[str] = set()
    gone_set = set(gone)
    for i in gone:
        line = baseline[i]
        if _changes_kind(baseline, i, gone_set) or _splits_string(baseline, i, gone_set, spans):
            return True
        every = set(_WORD.findall(line))
        if i in spans:  # part of a multi-line statement (decorated definitions included)
            span_words, effect = spans[i]
            if (span_words | every) & _CLASS_WIDE:
                return True
            words |= span_words
            fn = _enclosing_function(baseline, i) if effect else None
            if fn is not None:
                words.add(fn)
            continue
        if every & _CLASS_WIDE:
            return True
        effects = _line_effects(line)
        if effects is None:  # part of a multi-line statement: every word may bind
            words |= every
            effect = True
        else:
            bound, effect = effects
            words |= bound
        if effect or effects is None:
            fn = _enclosing_function(baseline, i)
            if fn is not None:
                words.add(fn)
    words -= _NEUTRAL
    if not words:
        return False
    refs = Counter(w for w in _WORD.findall("\n".join(state)) if w in words)
    for line in state:  # a def/class line names itself: no reference
        m = _DEF.match(line)
        if m and m.group(2) in refs:
            refs[m.group(2)] -= 1
    return any(n > 0 for n in refs.values())
