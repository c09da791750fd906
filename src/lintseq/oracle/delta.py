r"""Which deletions can change what pylint infers: the hybrid oracle's second gate.

The sampler's states are line deletions of one text, and the state before (the baseline) was
judged clean. pylint's inference-only errors (no-member, argument counts of imported callables,
super-init-not-called, ...) sit on lines that remain; a deletion can only create one by changing
something a remaining line leans on. :func:`changed_names` says what a deletion changes: the
names its lines bind (or that a multi-line statement they were part of binds or calls), the
functions whose bodies lost a ``return``/``yield``/``raise``, and names whose flow changed (a
binding gone, or a compound statement that lost an exit); or that pylint must look whatever the
names (a decorator that changes a method's kind, a ``def`` under a decorator that stays, a
``from __future__`` import, a triple quote of a string that stays, a cut ``def``/``class``
header, ``__init__``/``super``/abstract methods, names the language reads implicitly such as
``__getitem__``). :func:`touched` then asks :mod:`lintseq.oracle.reach` whether any remaining
use of those names can carry a counted message; :func:`inert` is the stronger case where no
word of the state names them at all (no check of any kind can newly fire).

    >>> base = "import yaml\ndef f(x):\n    y = yaml.load(x)\n    print(x)\n    return y"
    >>> touched(base.split("\n"), "import yaml\ndef f(x):\n    y = yaml.load(x)\n    return y".split("\n"))
    False
    >>> touched(base.split("\n"), "import yaml\ndef f(x):\n    print(x)\n    return y".split("\n"))
    True
"""

from __future__ import annotations

import ast
import functools
import keyword
import re

from .astutil import stmts, walk
from .reach import reaches

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


def _enclosing_definition(lines: list[str], i: int) -> tuple[str, str] | None:
    """(``def`` or ``class``, name) of the innermost definition whose block holds line ``i``
    (by indentation); None at module level."""
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
            if m:
                return m.group(1), m.group(2)
            depth = lead
    return None


def _enclosing_function(lines: list[str], i: int) -> str | None:
    """Name of the innermost ``def`` whose block holds line ``i`` (None in a class body)."""
    found = _enclosing_definition(lines, i)
    return found[1] if found and found[0] == "def" else None


@functools.lru_cache(maxsize=1 << 16)  # a program's lines come back in state after state
def _line_effects(line: str) -> tuple[frozenset[str], frozenset[str], bool, bool] | None:
    """(names the line binds, those of them bound as variables rather than attributes,
    whether it returns/yields/raises, whether it may leave its block: a ``return``, ``raise``,
    ``break``, ``continue`` or a call that may never return) for one line parsed alone; None
    when it does not parse alone (part of a multi-line statement: take all its words)."""
    text = line.strip()
    for attempt in (text, text + "\n pass"):
        try:
            tree = ast.parse(attempt)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        bound: set[str] = set()
        attributes: set[str] = set()
        effect = False
        for n in ast.walk(tree):
            if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
                bound.add(n.id)
            elif isinstance(n, ast.Attribute) and not isinstance(n.ctx, ast.Load):
                attributes.add(n.attr)
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
        first = tree.body[0] if tree.body else None
        exits = isinstance(first, (ast.Return, ast.Raise, ast.Break, ast.Continue)) or (
            isinstance(first, ast.Expr) and isinstance(first.value, ast.Call))
        return frozenset(bound | attributes), frozenset(bound), effect, exits
    return None


_HEADER_FIELDS = {  # the parts of a compound statement on its header lines
    ast.If: ("test",), ast.While: ("test",), ast.For: ("target", "iter"), ast.AsyncFor: ("target", "iter"),
    ast.With: ("items",), ast.AsyncWith: ("items",), ast.Match: ("subject",),
}
_EFFECTS = (ast.Return, ast.Raise, ast.Yield, ast.YieldFrom, ast.Await)


def _statement_words(node: ast.stmt) -> tuple[set[str], bool, bool]:
    """(what deleting a line of a multi-line statement can change, whether it returns, yields
    or raises, whether it is a bare string: a docstring, whose inner lines are only text).
    For a ``def``/``class`` header: its name (a parameter the body still reads is
    an undefined name the fast oracle reports; one it does not read matters only to callers).
    Otherwise: the names it
    binds and the callables it calls (a call that loses an argument line is what pylint then
    judges); names merely read, and string contents (a docstring), change nothing elsewhere."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}, False, False
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
        return set(), False, True
    fields = _HEADER_FIELDS.get(type(node))
    if fields is None and hasattr(node, "body"):
        return set(), False, False  # try:, else: ... headers hold no names
    roots = [node] if fields is None else [v for f in fields for v in
                                           (getattr(node, f) if isinstance(getattr(node, f), list) else [getattr(node, f)])
                                           if isinstance(v, ast.AST)]
    out: set[str] = set()
    effect = isinstance(node, _EFFECTS)
    for root in roots:
        for n in walk(root):
            if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
                out.add(n.id)
            elif isinstance(n, ast.Attribute) and not isinstance(n.ctx, ast.Load):
                out.add(n.attr)
            elif isinstance(n, ast.alias):  # a multi-line import binds its names
                out.add((n.asname or n.name).split(".")[0])
            elif isinstance(n, ast.Call):
                f = n.func
                out.add(f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", ""))
            elif isinstance(n, _EFFECTS):
                effect = True
    out.discard("")
    return out, effect, False


def statement_spans(lines: list[str], tree: ast.Module | None = None) -> dict[int, tuple[set[str], bool, bool]]:
    """0-based line -> :func:`_statement_words` of the statement (or compound-statement header,
    decorators included) it is part of, for statements spanning more than one line. ``tree``:
    the parsed text of ``lines``, when the caller has it."""
    if tree is None:
        try:
            tree = ast.parse("\n".join(lines))
        except (SyntaxError, ValueError, RecursionError, MemoryError):  # unknown: every word counts
            return {i: (set(_WORD.findall(line)), True, False) for i, line in enumerate(lines)}
    spans: dict[int, tuple[set[str], bool, bool]] = {}
    for node in stmts(tree.body):  # spans never overlap: the order of the walk does not matter
        if not isinstance(node, ast.stmt):
            continue  # except handlers and match cases: their statements come next
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


_BRANCH = re.compile(r"^[ \t]*(elif|else|except|finally)\b")
# special names the language reads without naming them (x[k], for, with, in, calls, operators,
# attribute fallbacks, slots, hashing, reversed(), __all__): deleting one needs pylint
_OPERATORS = ("add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "divmod", "pow", "lshift", "rshift",
              "and", "xor", "or")
_IMPLICIT = frozenset(
    {f"__{n}__" for n in ("getitem", "setitem", "delitem", "class_getitem", "missing", "iter", "aiter", "next",
                          "anext", "reversed", "len", "contains", "call", "enter", "exit", "aenter", "aexit",
                          "await", "getattr", "getattribute", "setattr", "delattr", "slots", "all", "index",
                          "get", "set", "delete", "set_name", "mro_entries", "hash", "eq", "neg", "pos",
                          "invert", "abs", "init_subclass", "metaclass")}
    | {f"__{p}{op}__" for op in _OPERATORS for p in ("", "r", "i")})
_KIND_DECORATORS = re.compile(r"staticmethod|classmethod|property|setter|getter|deleter|overload|abstract"
                              r"|singledispatch|register")


def _changes_kind(baseline: list[str], i: int, gone: set[int]) -> bool | str | None:
    """What deleting line ``i`` does to a remaining definition or to how the file is read:
    True where pylint must look (a ``from __future__`` import: annotations evaluated or not; a
    decorator of a class, or one that makes a method static, a class method, a property, an
    overload or abstract: ``self`` and the callers read it anew; a ``def``/``class`` line whose
    decorators remain: they now decorate the next definition); the decorated function's name
    where another decorator goes (its value changed: :mod:`lintseq.oracle.reach` follows
    it); None otherwise."""
    stripped = baseline[i].lstrip()
    if stripped.startswith("from __future__"):
        return True
    if stripped.startswith("@"):
        k = i + 1
        while k < len(baseline) and (not baseline[k].strip() or baseline[k].lstrip()[:1] in "@#"):
            k += 1
        m = _DEF.match(baseline[k]) if k < len(baseline) else None
        if m is None or m.group(1) == "class" or _KIND_DECORATORS.search(stripped):
            return True
        return None if k in gone else m.group(2)  # a definition deleted whole changes no kind
    if _DEF.match(baseline[i]):
        k = i - 1
        while k >= 0 and not baseline[k].strip():
            k -= 1
        return True if k >= 0 and k not in gone and baseline[k].lstrip().startswith("@") else None
    return None


def _splits_string(baseline: list[str], i: int, gone: set[int], spans: dict) -> bool:
    """Whether line ``i`` holds a triple quote of a multi-line statement whose other non-blank
    lines do not all go: the quotes that remain pair up anew, and code and text trade places.
    (A blank line left behind is nothing either way: the greedy match of :func:`deleted` keeps
    a string's blank line where the blank line after it went.)"""
    line = baseline[i]
    if '"""' not in line and "'''" not in line or i not in spans:
        return False
    span = spans[i]
    return any(spans.get(k) is span and k not in gone and baseline[k].strip() for k in range(len(baseline)))


def _statement_around(baseline: list[str], i: int) -> range | None:
    """The lines of the outermost compound statement of its function (or module) body that
    holds line ``i`` (with its ``elif``/``else``/``except``/``finally`` branches); None when
    line ``i`` sits directly in a function, class or module body. A ``return``, ``raise``,
    ``break``, ``continue`` or a call that never returns (pylint's ``is_terminating_func``:
    ``sys.exit``, functions annotated ``NoReturn``) deleted inside it lets the names it binds
    reach the code after it, which pylint's used-before-assignment checks (E0601/E0606) judge
    by flow."""
    depth = len(baseline[i]) - len(baseline[i].lstrip())
    top = None
    for k in range(i - 1, -1, -1):
        stripped = baseline[k].lstrip()
        lead = len(baseline[k]) - len(stripped)
        if not stripped or stripped[0] == "#" or lead >= depth:
            continue
        if _DEF.match(baseline[k]):
            break
        top, depth = k, lead
        if lead == 0:
            break
    if top is None:
        return None
    while top > 0 and _BRANCH.match(baseline[top]):  # an elif/else/except/finally: its `if`/`try`
        k = top - 1
        while k > 0 and (not baseline[k].strip() or len(baseline[k]) - len(baseline[k].lstrip()) > depth):
            k -= 1
        top = k
    end = top + 1
    while end < len(baseline):
        stripped = baseline[end].lstrip()
        if stripped and stripped[0] != "#" and len(baseline[end]) - len(stripped) <= depth \
                and not _BRANCH.match(baseline[end]):
            break
        end += 1
    return range(top, end)


def _bound_in(baseline: list[str], lines: range) -> set[str]:
    """Names the lines bind as variables (every word of a line that does not parse alone)."""
    out: set[str] = set()
    for k in lines:
        effects = _line_effects(baseline[k])
        out |= set(_WORD.findall(baseline[k])) if effects is None else effects[1]
    return out - _NEUTRAL


def _deleted_constructors(baseline: list[str], gone: set[int], spans: dict) -> set[int]:
    """Lines of ``__init__``/``__new__`` definitions deleted whole (header and block): what
    they mention of ``super`` or ``__init__`` no longer matters to W0231, which needs an
    ``__init__`` to report on."""
    out: set[int] = set()
    for i in gone:
        m = _DEF.match(baseline[i])
        if not m or m.group(2) not in ("__init__", "__new__"):
            continue
        depth = len(baseline[i]) - len(baseline[i].lstrip())
        header = spans.get(i)
        block = [i] + [k for k in range(i + 1, len(baseline)) if header is not None and spans.get(k) is header]
        for k in range(block[-1] + 1, len(baseline)):
            stripped = baseline[k].lstrip()
            if stripped and stripped[0] != "#" and len(baseline[k]) - len(stripped) <= depth:
                break
            block.append(k)
        if gone.issuperset(block):
            out.update(block)
    return out


def _cuts_header(baseline: list[str], i: int, gone: set[int], spans: dict) -> bool:
    """Whether line ``i`` is a line of a multi-line ``def``/``class`` header (decorators,
    parameters, bases) whose ``def``/``class`` line stays: the definition itself changed (a
    base gone takes its members with it, a call in a base or a default loses an argument),
    and pylint judges it where it stands (real case: a ``namedtuple(...)`` base that lost its
    first argument, E1120 on the class line)."""
    span = spans[i]
    return any(spans.get(k) is span and k not in gone and _DEF.match(baseline[k]) for k in range(len(baseline)))


def _class_wide(words: set[str], baseline: list[str], i: int) -> bool:
    """Whether line ``i`` (with ``words``) touches what pylint checks about a class as a whole:
    ``__init__``, abstract methods, or ``super`` inside an ``__init__`` (W0231)."""
    hit = words & _CLASS_WIDE
    if hit == {"super"}:
        return _enclosing_function(baseline, i) in ("__init__", "__new__")
    return bool(hit)


def changed_names(baseline: list[str], gone: list[int], spans: dict) -> tuple[set, set, dict] | None:
    """What deleting lines ``gone`` of ``baseline`` changes: (``value`` names the lines bound or
    a multi-line statement they were part of bound or called, ``result`` functions whose body
    lost a line that returns, yields or raises, and for each name bound as a variable the
    functions where, by name, None at module or class level); None where the deletion changes
    how the rest is read (see :func:`_changes_kind`, :func:`_splits_string`) or what pylint
    checks about a class as a whole (``super``/``__init__`` calls, abstract methods)."""
    gone_set = set(gone)
    constructors = _deleted_constructors(baseline, gone_set, spans)
    value: set[str] = set()
    result: set[str] = set()
    flow: dict[str, set] = {}
    for i in gone:
        line = baseline[i]
        kind = _changes_kind(baseline, i, gone_set)
        if kind is True or _splits_string(baseline, i, gone_set, spans):
            return None
        if kind:
            value.add(kind)
        every = set(_WORD.findall(line))
        class_wide = i not in constructors
        if i in constructors and _DEF.match(line):
            owner = _enclosing_definition(baseline, i)
            value.add(_DEF.match(line).group(2))
            if owner and owner[0] == "class":
                value.add(owner[1])  # its instantiations: E1120/E1121 against another __init__
        if i in spans:  # part of a multi-line statement (decorated definitions included)
            span_words, effect, _ = spans[i]
            if class_wide and _class_wide(span_words | every, baseline, i):
                return None
            if kind is None and _cuts_header(baseline, i, gone_set, spans):
                return None  # (a decorator line: _changes_kind said what it changes)
            bound = variables = span_words
        else:
            if class_wide and _class_wide(every, baseline, i):
                return None
            effects = _line_effects(line)
            if effects is None:  # part of a multi-line statement: every word may bind
                bound = variables = every
                effect = True
            else:
                bound, variables, effect, exits = effects
                top = _statement_around(baseline, i) if exits else None
                if top is not None:  # its branch's names now reach what follows
                    fn = _enclosing_function(baseline, i)
                    for name in _bound_in(baseline, top):
                        flow.setdefault(name, set()).add(fn)
        value |= bound
        fn = _enclosing_function(baseline, i) if variables or effect else None
        for name in variables:
            flow.setdefault(name, set()).add(fn)
        if effect and fn is not None:
            result.add(fn)
    value -= _NEUTRAL
    result -= _NEUTRAL
    if not value.isdisjoint(_IMPLICIT):
        return None
    return value, result, flow


def inert(baseline: list[str], state: list[str], spans: dict) -> bool:
    r"""Whether ``state`` is ``baseline`` minus whole statements (or inner lines of a docstring)
    whose changed names (:func:`changed_names`) nothing in the state mentions: not a word of it
    anywhere, comments and strings included. Then no rule of the fast oracle, no import check
    and no pylint message can newly fire on what remains (each needs a name the deletion
    changed, or a statement it cut short), and a clean ``baseline`` means a clean state, once it
    parses (a deleted ``try:`` leaves its ``except:`` behind, a syntax error).

        >>> base = "import os\n\ndef f():\n    x = 1\n    print(os.sep)".split("\n")
        >>> inert(base, base[:3] + base[4:], statement_spans(base))   # x = 1: x is read nowhere
        True
        >>> inert(base, base[:4], statement_spans(base))              # print(...): x still there
        True
        >>> inert(base, base[1:], statement_spans(base))              # import os: os is read
        False
    """
    gone = deleted(baseline, state)
    if gone is None:
        return False
    gone_set = set(gone)
    for i in gone:
        span = spans.get(i)
        if span is not None and not span[2] and any(
                spans.get(k) is span and k not in gone_set and baseline[k].strip() for k in range(len(baseline))):
            return False  # a statement cut short: what is left of it is another statement
    changed = changed_names(baseline, gone, spans)
    if changed is None:
        return False
    names = changed[0] | changed[1] | set(changed[2])
    return not names or names.isdisjoint(_WORD.findall("\n".join(state)))


def touched(baseline: list[str], state: list[str], spans: dict | None = None,
            tree: ast.Module | None = None) -> bool | None:
    """Whether deleting ``baseline`` lines to get ``state`` can change a counted message of
    pylint on what remains (see the module docstring); None when ``state`` is no deletion of
    ``baseline``. ``spans`` is :func:`statement_spans` of ``baseline`` and ``tree`` the parsed
    ``state`` when the caller has them."""
    gone = deleted(baseline, state)
    if gone is None:
        return None
    if spans is None:
        spans = statement_spans(baseline)
    changed = changed_names(baseline, gone, spans)
    if changed is None:
        return True
    value, result, flow = changed
    names = value | result | set(flow)
    text = "\n".join(state)
    if not names or names.isdisjoint(_WORD.findall(text)):
        return False
    if tree is None:
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return True
    return reaches(tree, value, result, flow)
