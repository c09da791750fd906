"""The fast oracle: compile() + pyflakes + pylint's structural rules, in process, no pylint.

What it reports (each as the error line the sampler deletes):

* syntax and indentation errors, and everything ``compile()`` rejects after parsing: ``return``,
  ``yield`` or ``await`` outside a function, ``break``/``continue`` outside a loop, ``nonlocal``
  without a binding, duplicate arguments (blamed as pylint blames E0001: "on line N" wins);
* from pyflakes: undefined names (pylint E0602), use of a local before assignment (E0601),
  a bare ``except:`` not last, starred-assignment
  errors, and %-/``str.format`` argument mismatches (E1300-E1310);
* of our own, each modelled on pylint 3.2.6's code where no inference is needed:
  :mod:`~lintseq.oracle.exports` (E0603-E0605 ``__all__``, on each string's line),
  :mod:`~lintseq.oracle.definitions` (E0102 redefinitions, E1111/E1128 no-return assignments),
  :mod:`~lintseq.oracle.attributes` (E1101 on ``self``, W0231 with a local base), :mod:`~lintseq.oracle.unbound` (E0606, E0602 for
  ``global`` names bound nowhere), :mod:`~lintseq.oracle.methods` (E0211/E0213 method
  arguments, E0302 dunder signatures, E0301/E0303-E0311 dunder returns, E0100/E0101,
  E1102 on ``self(...)``), :mod:`~lintseq.oracle.members` (E0203 member order, E1101 on
  instances of local classes), :mod:`~lintseq.oracle.calls` (E1120/E1121/E1123/E1124/E1125
  against local signatures) and :mod:`~lintseq.oracle.indentation` (W0311).

What it leaves to pylint (the ``hybrid`` oracle asks pylint where these can arise; measured
by ``benchmarks/fidelity.py``): what only inference across modules decides (members and
signatures of imported classes and functions, E1136/E1133 on inferred values, W0231 with an
imported base), and import errors (E0401/E0611, which depend on what is installed).

    >>> FastLinter().error_lines("class A:\\n    def f(x):\\n        return x")
    [2]
"""

from __future__ import annotations

import ast
import warnings

from pyflakes import checker as pyflakes_checker
from pyflakes import messages as pm

from . import LintMessage, syntax_error_line
from .dispatch import custom_messages
from .indentation import indentation_messages

# pyflakes messages that pylint (--disable=C,R) reports as errors (E*), by pylint id.
PYFLAKES_ERRORS: dict[type, str] = {
    pm.UndefinedName: "E0602",
    pm.UndefinedLocal: "E0601",
    pm.DuplicateArgument: "E0108",
    pm.ReturnOutsideFunction: "E0104",
    pm.YieldOutsideFunction: "E0105",
    pm.ContinueOutsideLoop: "E0103",
    pm.BreakOutsideLoop: "E0103",
    pm.DefaultExceptNotLast: "E0701",
    pm.TwoStarredExpressions: "E0112",
    pm.TooManyExpressionsInStarredAssignment: "E0633",
    pm.PercentFormatUnsupportedFormatCharacter: "E1300",
    pm.PercentFormatPositionalCountMismatch: "E1306",
    pm.PercentFormatMissingArgument: "E1304",
    pm.PercentFormatExpectedMapping: "E1303",
    pm.PercentFormatMixedPositionalAndNamed: "E1302",
    pm.StringDotFormatMissingArgument: "E1306",
}


class _Checker(pyflakes_checker.Checker):
    """pyflakes without re-binding ~160 builtins into every module scope (a third of its
    time on small states); undefined-name reports for builtins are dropped afterwards.

    It also keeps, for every call of a plain name, the binding pyflakes resolves the name to
    there: the argument checks of :mod:`lintseq.oracle.calls` then need no walk of their own."""

    builtIns: set[str] = set()

    def __init__(self, *args, **kwargs):
        self.name_calls: list[tuple[ast.Call, object]] = []
        super().__init__(*args, **kwargs)  # pyflakes checks the whole tree in its constructor

    def CALL(self, node):
        if isinstance(node.func, ast.Name):
            name, binding = node.func.id, None
            for scope in self.scopeStack[-1::-1]:  # as pyflakes' handleNodeLoad looks names up
                if isinstance(scope, pyflakes_checker.ClassScope) and scope is not self.scope:
                    continue
                binding = scope.get(name)
                if binding is not None:
                    break
            self.name_calls.append((node, binding))
        super().CALL(node)


_BUILTIN_NAMES = frozenset(pyflakes_checker.Checker.builtIns)


def _counts(m) -> bool:
    if type(m) not in PYFLAKES_ERRORS:
        return False
    return not (type(m) is pm.UndefinedName and m.message_args[0] in _BUILTIN_NAMES)


def _parsed(source: str) -> tuple[ast.Module | None, list[LintMessage]]:
    """(tree, []) for a state that compiles, else (None, its E0001)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarning for odd escapes etc. is not an error
        try:
            tree = ast.parse(source, "<state>", "exec", type_comments=False)
            compile(tree, "<state>", "exec", dont_inherit=True)
        except SyntaxError as exc:
            return None, [LintMessage(syntax_error_line(exc.lineno, str(exc.msg)), "E0001", str(exc.msg))]
        except (ValueError, MemoryError, RecursionError) as exc:  # NUL bytes, deep nesting
            return None, [LintMessage(0, "E0001", str(exc))]
    return tree, []


def _flakes(tree: ast.Module) -> tuple[_Checker, list[LintMessage]]:
    flakes = _Checker(tree, filename="<state>")
    return flakes, [LintMessage(m.lineno, PYFLAKES_ERRORS[type(m)], m.message % m.message_args)
                    for m in flakes.messages if _counts(m)]


def undefined_names(source: str) -> list[LintMessage]:
    """What :class:`FastLinter` reports of E0001 (does not compile), E0602 (undefined name) and
    E0603 (undefined name in ``__all__``), and nothing else: whether a program is self-contained,
    without the other rules' cost (the corpus builder asks this of every candidate function).

        >>> [(m.line, m.code) for m in undefined_names("import os\\n__all__ = ['f']\\nx = os.sep + y")]
        [(3, 'E0602'), (2, 'E0603')]
    """
    from .exports import export_messages
    from .unbound import undefined_globals

    tree, syntax = _parsed(source)
    if tree is None:
        return syntax
    wanted = ("E0602", "E0603")
    out = [m for m in _flakes(tree)[1] if m.code in wanted]
    return out + [m for m in (*undefined_globals(tree), *export_messages(tree)) if m.code in wanted]


class FastLinter:
    """compile() + pyflakes + lintseq's own checks; one instance serves many states."""

    name = "fast"

    def messages(self, source: str) -> list[LintMessage]:
        tree, syntax = _parsed(source)
        if tree is None:
            return syntax
        self.last_tree = tree  # the hybrid oracle reads it instead of parsing again
        lines = source.split("\n")
        flakes, out = _flakes(tree)
        out += custom_messages(tree, source, flakes.name_calls)
        out += indentation_messages(source, lines, tree)
        return out

    def error_lines(self, source: str) -> list[int]:
        return sorted({m.line for m in self.messages(source)})
