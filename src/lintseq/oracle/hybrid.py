"""The hybrid oracle (the default): the fast oracle first; pylint (in process) only for the
states the fast checks accept, that hold what only inference can judge, and whose deletion from
their base (the clean state the sampler deletes from) can change what pylint infers.

The fast oracle models pylint's structural rules exactly, but some of pylint's errors need type
inference across modules: members of instances whose class comes from an installed package
(E1101), argument counts of imported callables (E1120/E1121/E1123/E1125), subscripting and
iterating inferred values (E1136/E1133), and the like. The caller may name a ``base``: a state
this linter called clean of which the state is a line deletion (the sampler's current state:
each candidate is it minus some lines). A state that is its base minus whole statements that
nothing left mentions (:func:`~lintseq.oracle.delta.inert`) is clean once it parses, with no
check at all (``inert_skips``). Otherwise three gates keep pylint off most states:

1. the fast checks and the import checks (:mod:`lintseq.oracle.imports`: E0401/E0402 without
   building any module) must call the state clean;
2. it must define a class or import something outside the standard library (what inference-only
   errors need to arise): HumanEval-like code never gets further, so it costs the fast oracle;
3. the delta gate (``delta=True``, the default): when no remaining use of what the deleted
   lines changed can carry a counted message (:mod:`lintseq.oracle.delta`,
   :mod:`lintseq.oracle.reach`), pylint would say on the state what it said on the base, and
   the state is clean. The verdict is a function of (base, state): ``lintseq verify`` passes
   each state's successor as its base and reaches the sampler's verdicts.

pylint then runs with only the counted messages enabled (its other checkers skip the state) and
with its own import checks off (gate 1 did them: pylint's build every imported module, which was
most of its time on real code); imported modules are still built when inference reaches them,
once per process (astroid's cache), without the attribute assignments they make on names they
import (:func:`~lintseq.oracle.astroid_cache.own_attribute_assignments`). ``installed=False`` keeps inference to the standard library
(much faster on code with many third-party imports, less faithful: see the README).

    >>> from lintseq.oracle import get_linter
    >>> hybrid = get_linter("hybrid")
    >>> hybrid.error_lines("def f(x):\\n    return x")     # no class, no third-party import: fast only
    []
    >>> hybrid.pylint_calls
    0
    >>> base = "import yaml\\nclass A:\\n    def f(self):\\n        x = yaml.dump(1)\\n        x = 2\\n        return x"
    >>> hybrid.error_lines(base.replace("\\n        x = 2", ""), base=base)  # x is still read: pylint
    []
    >>> hybrid.pylint_calls
    1
    >>> hybrid.error_lines(base.replace("\\n        x = 2", "\\n        print(x)"), base=base)  # not a deletion
    []
    >>> hybrid.pylint_calls
    2
    >>> base = base.replace("\\n        x = 2", "\\n        print(x)")
    >>> hybrid.error_lines(base.replace("\\n        print(x)", ""), base=base)  # binds nothing: no check
    []
    >>> hybrid.pylint_calls, hybrid.inert_skips
    (2, 1)
    >>> hybrid.error_lines(base.replace("\\n        return x", ""), base=base)  # f: named, never called
    []
    >>> hybrid.pylint_calls, hybrid.delta_skips
    (2, 1)
"""

from __future__ import annotations

import ast
import re
import sys

from . import LintMessage
from .astutil import stmts
from .delta import inert, statement_spans, touched
from .fast import FastLinter
from .imports import import_messages

_STDLIB = frozenset(sys.stdlib_module_names) | {"__future__", "builtins"}


def needs_inference(source: str, tree: ast.Module | None = None) -> bool:
    """Whether ``source`` defines a class or imports a module outside the standard library
    (relative imports included): what pylint's inference-only errors need to arise.

        >>> needs_inference("import os\\nx = os.sep"), needs_inference("import yaml")
        (False, True)
        >>> needs_inference("class A:\\n    pass")
        True
    """
    has_class = "class" in source
    if not has_class:  # no class: only imports matter, read off the text (no walk of the tree)
        return "import" in source and any(
            level or name.split(".")[0] not in _STDLIB
            for level, name in _imported(source))
    if tree is None:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            return False
    for node in stmts(tree.body):  # statements only: imports and classes are statements
        # any class: gating only classes with bases from elsewhere measured 97.6% clean on the
        # real-world set (instances, attributes and constructors inferred inside the file)
        if isinstance(node, ast.ClassDef):
            return True
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] not in _STDLIB for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0] not in _STDLIB):
            return True
    return False


_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+(\.*)([\w.]*)[ \t]+import\b|import[ \t]+([\w.]+(?:[ \t]*(?:as[ \t]+\w+)?"
                     r"[ \t]*,[ \t]*[\w.]+)*))", re.M)


def _imported(source: str):
    """(relative level, module) of each import statement that starts a line."""
    for m in _IMPORT.finditer(source):
        if m.group(3) is not None:
            for part in m.group(3).split(","):
                yield 0, part.split()[0]
        else:
            yield len(m.group(1)), m.group(2)


class HybridLinter:
    """Fast checks; pylint confirms the accepted states that need inference and whose deletion
    from the given clean ``base`` can change what pylint infers (pylint is loaded on first need,
    so runs that never need it never pay its start-up).

    Counters (for benchmarks and tests): ``states`` asked, ``pylint_calls`` that went to
    pylint, ``delta_skips`` that needed inference but whose deletion from their base touched
    nothing a remaining line leans on (:mod:`lintseq.oracle.delta`).

    ``gate``: which fast-clean states may need pylint: ``thirdparty`` (default: a class or an
    import beyond the standard library), ``import`` (a class or any import: also catches errors
    in calls of standard-library functions, but sends HumanEval's ``typing`` imports to pylint),
    ``class``. ``installed=False`` is ``hybrid-stdlib``. ``delta=False`` ignores ``base`` (every
    gated state goes to pylint: a verdict of the text alone, ~2x the pylint calls on real code)."""

    name = "hybrid"
    takes_base = True  # error_lines/messages accept base= (the sampler and verify pass it)

    def __init__(self, delta: bool = True, gate: str = "thirdparty", installed: bool = True) -> None:
        self.fast = FastLinter()
        self.installed = installed
        self.name = "hybrid" if installed else "hybrid-stdlib"
        self.gate = gate
        self._pylint = None
        self.delta = delta
        self._base: tuple[str, list[str], dict] | None = None  # the last base, its lines and spans
        self._parsed: tuple[str, ast.Module] | None = None  # the last state parsed, and its tree
        self.states = self.pylint_calls = self.delta_skips = self.inert_skips = 0

    def _gated(self, source: str) -> bool:
        if self.gate == "thirdparty":
            return needs_inference(source, self.fast.last_tree)
        if self.gate == "import" and "import" in source and _IMPORT.search(source):
            return True
        return "class" in source and any(isinstance(n, ast.ClassDef) for n in stmts(self.fast.last_tree.body))

    def _explained(self, source: str, base: str | None) -> bool:
        """Whether ``source`` is the clean ``base`` minus lines that nothing left leans on."""
        if not self.delta or base is None or len(base) < len(source):
            return False
        lines, spans = self._base_lines(base)
        return touched(lines, source.split("\n"), spans, self.fast.last_tree) is False

    def _base_lines(self, base: str) -> tuple[list[str], dict]:
        if self._base is None or self._base[0] is not base and self._base[0] != base:
            lines = base.split("\n")  # one base serves all its candidates: split and parsed once
            # the base is the state the sampler just heard was clean: its tree is usually at hand
            parsed = self._parsed
            tree = parsed[1] if parsed is not None and (parsed[0] is base or parsed[0] == base) else None
            self._base = (base, lines, statement_spans(lines, tree))
        return self._base[1], self._base[2]

    def _inert(self, source: str, base: str | None) -> bool:
        """Whether ``source`` is the clean ``base`` minus statements nothing left mentions
        (:func:`~lintseq.oracle.delta.inert`) and parses: clean without any check."""
        if not self.delta or base is None or len(base) < len(source):
            return False
        lines, spans = self._base_lines(base)
        if not inert(lines, source.split("\n"), spans):
            return False
        try:
            self._parsed = (source, ast.parse(source))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False  # the fast oracle says which line
        return True

    def messages(self, source: str, base: str | None = None) -> list[LintMessage]:
        """Messages for ``source``; ``base``: a state this linter called clean, of which
        ``source`` is a line deletion (ignored when it is not one)."""
        self.states += 1
        if self._inert(source, base):
            self.inert_skips += 1
            return []
        out = self.fast.messages(source)
        if out:
            return out
        self._parsed = (source, self.fast.last_tree)
        if "import" in source:
            out = import_messages(self.fast.last_tree)
            if out:
                return out
        if self._gated(source):
            if self._explained(source, base):
                self.delta_skips += 1
            else:
                self.pylint_calls += 1
                out = self._pylint_linter().messages(source)
        return out

    def _pylint_linter(self):
        if self._pylint is None:
            try:
                from .pylint_oracle import COUNTED_FLAGS, PylintLinter

                # import errors were judged by imports.py; pylint's own import checks build
                # every imported module, whether or not anything is inferred through it.
                # W0311 (bad-indentation) was judged by the fast oracle, which models it
                # exactly: without it pylint's format checker does not run at all
                self._pylint = PylintLinter((*COUNTED_FLAGS, "--disable=E0401,E0402,E0611,W0311"),
                                            stdlib_only=not self.installed,
                                            own_attributes_only=True)
            except ImportError:
                from ..errors import LintseqError

                raise LintseqError(
                    "the hybrid linter needs pylint for states with classes or third-party imports",
                    fix="pip install 'lintseq[pylint]' (pylint 3.2.6, astroid 3.2.4), or pass --linter fast") from None
        return self._pylint

    def error_lines(self, source: str, base: str | None = None) -> list[int]:
        return sorted({m.line for m in self.messages(source, base)})
