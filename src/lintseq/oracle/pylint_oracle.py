"""The paper's oracle: pylint with the authors' flags, run in process on strings.

The authors call ``pylint.run_pylint`` once per candidate deletion on a fresh temporary file,
paying pylint's start-up (option parsing, plugin loading, checker set-up) each time. Here one
``PyLinter`` is configured once with the same flags and each state is checked from memory.

Counting rule (the authors' ``file_linter``): every message counts except W (warning)
messages other than W0311 (bad-indentation) and W0231 (super-init-not-called); C and R are
disabled. For E0001 whose text contains "on line", the line is the number before the last "(".

Install with the ``[pylint]`` extra, which pins the authors' pylint 3.2.6 / astroid 3.2.4.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing.util
import os
import re
import shutil
import tempfile

from . import LintMessage
from .astroid_cache import _PARTIAL, cache_mutations_undone, own_attribute_assignments, stdlib_only
from ..stop import on_term

AUTHOR_FLAGS = (
    "--disable=C,R",
    "--reports=n",
    "--score=n",
    "--unsafe-load-any-extension=y",
    "--generated-members=cv2.*",
    "--msg-template={C}|{msg_id}|{line}|{column}|{msg}",
)
COUNTED_WARNINGS = frozenset({"W0311", "W0231"})
# The same counted messages with the other warnings off: pylint then skips the checkers (and
# visit methods) that can only emit uncounted warnings. What it reports, filtered by the
# counting rule, is what AUTHOR_FLAGS gives (test_counted_flags_report_what_author_flags_do).
COUNTED_FLAGS = ("--disable=C,R,W", "--enable=W0311,W0231", *AUTHOR_FLAGS[1:])


@functools.cache
def _unicode_trigger() -> re.Pattern:
    """What pylint's unicode checker reports on: its bidirectional and invalid characters, a
    byte-order mark, and a coding declaration (a codec other than UTF-8)."""
    from pylint.checkers.unicode import BAD_CHARS, BIDI_UNICODE

    chars = [*BIDI_UNICODE, *(c.unescaped for c in BAD_CHARS), "\ufeff"]
    return re.compile("|".join([*(re.escape(c) for c in chars), "coding"]))


# Messages whose verdict depends on what is installed where the linter runs (DESIGN.md).
ENVIRONMENT_DEPENDENT = frozenset({"E0401", "E0402", "E0611"})


def environment_dependent(msg_id: str, text: str) -> bool:
    """Whether a message's verdict depends on the installed packages, not on the state: import
    errors (E0401, E0402, E0611) and E1101 on a module ("Module 'x' has no 'y' member").

        >>> environment_dependent("E1101", "Module 'numpy' has no 'foo' member")
        True
        >>> environment_dependent("E1101", "Instance of 'A' has no 'size' member")
        False
    """
    return msg_id in ENVIRONMENT_DEPENDENT or (msg_id == "E1101" and text.startswith("Module "))


def _author_line(msg_id: str, line: int | None, text: str) -> int:
    """The line the authors' parser takes for a message (see module docstring)."""
    if msg_id == "E0001" and "on line" in text:
        word = text[: text.rfind("(")].rstrip().split(" ")[-1]
        try:
            return int(word)
        except ValueError:
            pass
    return int(line or 0)


class PylintLinter:
    """pylint as the paper runs it, configured once and reused for every state."""

    name = "pylint"

    def __init__(self, flags: tuple[str, ...] = AUTHOR_FLAGS, stdlib_only: bool = False,
                 own_attributes_only: bool = False) -> None:
        try:
            from pylint.lint import PyLinter
            from pylint.lint.run import _config_initialization
            from pylint.reporters import CollectingReporter
        except ImportError as exc:  # pragma: no cover - depends on the extra
            raise ImportError(
                "--linter pylint needs pylint: pip install 'lintseq[pylint]' "
                "(pins pylint==3.2.6 astroid==3.2.4, the authors' versions)"
            ) from exc

        self.stdlib_only = stdlib_only  # see stdlib_only(); the hybrid oracle's pylint
        self.own_attributes_only = own_attributes_only  # see own_attribute_assignments(); the hybrid's too
        self._dir = tempfile.mkdtemp(prefix="lintseq-pylint-")
        # removed when the linter goes or its process exits (pool workers too, where atexit does not run)
        multiprocessing.util.Finalize(self, shutil.rmtree, args=(self._dir, True), exitpriority=0)
        on_term(shutil.rmtree, self._dir, True)  # a worker stopped by SIGTERM (its parent gone)
        self._modname = "lintseq_state"
        self._path = os.path.join(self._dir, self._modname + ".py")
        with open(self._path, "w", encoding="utf-8"):
            pass  # pylint resolves sibling imports from the file's folder, as for a temp file
        from astroid import MANAGER

        from .transforms import index_transforms

        index_transforms(MANAGER)  # the same transforms, fewer predicate calls (transforms.py)
        self.reporter = CollectingReporter()
        self.linter = PyLinter(reporter=self.reporter)
        self.linter.load_default_plugins()
        _config_initialization(self.linter, [*flags, self._path], self.reporter)
        self.linter.initialize()
        self.linter.open()
        self._checker = self._module_checker()
        self._skip_uncounted_checks()

    def _module_checker(self):
        """pylint's ``_astroid_module_checker`` set-up, done once instead of once per state.

        pylint sorts and filters its checkers and registers every enabled ``visit_*`` method
        with an AST walker each time it is asked to check files: on small states that set-up was
        over half of the time per state. Neither depends on the state (only on the flags, fixed
        here), so the walker is built once; each state still gets every checker's ``open()`` and
        ``close()`` so no checker carries per-module data from one state into the next.
        """
        from pylint import checkers
        from pylint.utils import ASTWalker

        walker = ASTWalker(self.linter)
        self._checkers = self.linter.prepare_checkers()
        for checker in self._checkers:
            walker.add_checker(checker)
        raw = [c for c in self._checkers if isinstance(c, checkers.BaseRawFileChecker)]
        check = functools.partial(
            self.linter.check_astroid_module, walker=walker,
            tokencheckers=[c for c in self._checkers if isinstance(c, checkers.BaseTokenChecker)], rawcheckers=raw)
        # the unicode checker reads the file again, line by line, for characters and codec
        # declarations most states never hold: it runs only on the states that hold one
        self._plain_checker = functools.partial(check, rawcheckers=[c for c in raw if c.name != "unicode_checker"])
        return check

    def _skip_uncounted_checks(self) -> None:
        """Skip a check that infers, and builds modules, only for warnings the counted flags
        turn off (the hybrid's pylint). pylint's variables checker runs its import check when
        it leaves the module (for the undefined-variable family it also serves), and that check
        builds the module of every ``from x import y`` left unused, to see whether ``y`` came
        from ``__future__`` there; it reports only unused-import (W0611) and
        unused-wildcard-import (W0614). Nothing else infers through an unused import: on the
        400 real-world programs that building was a quarter of all module building (333
        modules built with it, 279 without; every message of the 921 pylint calls the same).
        Skipped only when both warnings are off; the exact oracle (``--disable=C,R``) keeps
        it. (The type checker's inference of ``isinstance``'s second argument, for W1116 alone,
        was tried too: it built one module fewer, since the attribute checks infer the same.)"""
        enabled = self.linter.is_message_enabled
        if enabled("unused-import") or enabled("unused-wildcard-import"):
            return
        for checker in self._checkers:
            if checker.name == "variables" and hasattr(checker, "_check_imports"):
                checker._check_imports = lambda not_consumed: None

    def raw_messages(self, source: str) -> list[tuple[str, str, int, str]]:
        """Every message pylint emits for ``source``: (category, msg_id, line, text)."""
        from astroid import MANAGER
        from pylint.typing import FileItem

        self.reporter.messages.clear()
        if _PARTIAL and not (self.own_attributes_only or self.stdlib_only):
            from astroid.inference_tip import clear_inference_tip_cache

            for name in _PARTIAL:  # built for the hybrid without what they set on others: rebuilt
                MANAGER.astroid_cache.pop(name, None)
            _PARTIAL.clear()
            clear_inference_tip_cache()
        MANAGER.astroid_cache.pop(self._modname, None)
        lint = self.linter
        get_ast = functools.partial(lint.get_ast, data=source)
        item = FileItem(self._modname, self._path, self._path)
        for checker in self._checkers:
            checker.open()
        with contextlib.ExitStack() as modes:
            if self.stdlib_only:
                modes.enter_context(stdlib_only(self._modname))
            if self.own_attributes_only:
                modes.enter_context(own_attribute_assignments(self._modname))
            modes.enter_context(cache_mutations_undone(self._modname))
            lint._check_file(get_ast, self._checker if _unicode_trigger().search(source) else self._plain_checker, item)
        for checker in reversed(self._checkers):
            checker.close()
        MANAGER.astroid_cache.pop(self._modname, None)
        return [(m.C, m.msg_id, m.line, m.msg) for m in self.reporter.messages]

    def messages(self, source: str) -> list[LintMessage]:
        out = []
        for cat, msg_id, line, text in self.raw_messages(source):
            if cat == "W" and msg_id not in COUNTED_WARNINGS:
                continue
            out.append(LintMessage(_author_line(msg_id, line, text), msg_id, text))
        return out

    def error_lines(self, source: str) -> list[int]:
        return sorted({m.line for m in self.messages(source)})
