r"""Import rules for the hybrid oracle, after pylint 3.2.6's ``ImportsChecker`` without building
the imported modules: E0401 import-error (astroid cannot find the module: its file lookup, no
import is executed) and E0402 relative-beyond-top-level (a relative import in the state, which
is a top-level module as the authors lint it: a lone temporary file). Both are skipped where
pylint skips them: under a ``try`` whose handler names ``ImportError``, or under an ``if``
testing ``TYPE_CHECKING`` or ``sys.version_info``. Their verdicts depend on what is installed
where the linter runs (DESIGN.md calls them environment-dependent). E0611 (no-name-in-module)
needs the module's contents and is checked only for ``from . import x``, which pylint reports
as a name missing from the nameless top-level package.

    >>> import ast
    >>> src = "from .a import x\nimport no_such_module_here\ntry:\n    import other_missing\nexcept ImportError:\n    pass"
    >>> [(m.line, m.code) for m in import_messages(ast.parse(src))]
    [(1, 'E0402'), (2, 'E0401')]
"""

from __future__ import annotations

import ast
import functools

from . import LintMessage
from .astutil import BLOCK_FIELDS
from .astroid_cache import STDLIB


@functools.lru_cache(maxsize=4096)
def findable(modname: str) -> bool:
    """Whether astroid finds module ``modname`` (a file or builtin; nothing is imported)."""
    if modname.split(".")[0] in STDLIB and "." not in modname:
        return True
    from astroid import MANAGER
    from astroid.exceptions import AstroidBuildingError

    try:
        MANAGER.file_from_module_name(modname, None)
    except AstroidBuildingError:
        return False
    except Exception:  # noqa: BLE001 - a finder failing on odd paths: leave it to pylint
        return True
    return True


def _guarded(chain: tuple[ast.AST, ...]) -> bool:
    for node in chain:
        if isinstance(node, ast.Try) and any(
                h.type is not None and any(isinstance(n, ast.Name) and n.id == "ImportError" or
                                           isinstance(n, ast.Attribute) and n.attr == "ImportError"
                                           for n in ast.walk(h.type)) for h in node.handlers):
            return True
        if isinstance(node, ast.If) and any(
                isinstance(n, ast.Name) and n.id == "TYPE_CHECKING" or isinstance(n, ast.Attribute)
                and n.attr in ("TYPE_CHECKING", "version_info") for n in ast.walk(node.test)):
            return True
    return False


def import_messages(tree: ast.Module) -> list[LintMessage]:
    """E0401 and E0402 for every import statement of ``tree`` (see the module docstring)."""
    out: list[LintMessage] = []
    stack: list[tuple[ast.AST, tuple]] = [(n, ()) for n in reversed(tree.body)]
    while stack:
        node, chain = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)) and not _guarded(chain):
            if isinstance(node, ast.ImportFrom) and node.level == 1 and not node.module:
                # "from . import x": astroid resolves "." to the (nameless) top-level package
                out += [LintMessage(node.lineno, "E0611", f"No name {a.name!r} in module ''") for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level:
                out.append(LintMessage(node.lineno, "E0402", "Attempted relative import beyond top-level package"))
            else:
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                out += [LintMessage(node.lineno, "E0401", f"Unable to import {n!r}") for n in names
                        if n and n != "__future__" and not findable(n)]
        inner = (*chain, node) if isinstance(node, (ast.Try, ast.If)) else chain
        for field in BLOCK_FIELDS:
            for child in reversed(getattr(node, field, None) or []):
                # the handlers and else of a try are not guarded by it
                stack.append((child, inner if field == "body" or not isinstance(node, ast.Try) else chain))
    return out
