"""pylint's bad-indentation rule (W0311) for the fast oracle: four spaces per block level.

    >>> import ast
    >>> src = "def f():" + chr(10) + "  return 1"
    >>> [(m.line, m.code) for m in indentation_messages(src, src.splitlines(), ast.parse(src))]
    [(2, 'W0311')]
"""

from __future__ import annotations

import ast
import io
import tokenize

from . import LintMessage
from .astutil import stmts


def _lead(line: str) -> int:
    return len(line) - len(line.lstrip())


def _overindented_blocks(tree: ast.Module, lines: list[str]) -> list[LintMessage]:
    """W0311 for sources indented in multiples of four spaces: a block that starts on its own
    line must sit exactly four spaces deeper than its header line."""
    out = []
    for node in stmts(tree.body):
        headers = []
        if isinstance(node, (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith,
                             ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.ExceptHandler)):
            headers.append((node.lineno, node.body))
        if isinstance(node, ast.match_case):
            headers.append((node.pattern.lineno, node.body))
        for line_no, body in headers:
            first = body[0] if body else None
            if first is None or first.lineno <= line_no:
                continue
            text = lines[first.lineno - 1]
            if _lead(text) == first.col_offset and _lead(text) - _lead(lines[line_no - 1]) != 4:
                out.append(LintMessage(first.lineno, "W0311", "Bad indentation"))
    return out


def indentation_messages(source: str, lines: list[str], tree: ast.Module) -> list[LintMessage]:
    """W0311 as pylint computes it: each statement's indentation must be 4 spaces per level.

    Sources indented with multiples of four spaces only can fail just on over-indented blocks
    (checked on the AST); others are tokenized exactly as pylint's format checker does.
    """
    if all(not ln.strip() or _lead(ln) % 4 == 0 and not ln[: _lead(ln)].strip(" ") for ln in lines):
        return _overindented_blocks(tree, lines)
    out: list[LintMessage] = []

    def check(text: str, expected: int, line: int) -> None:
        level = 0
        while text.startswith("    "):
            text, level = text[4:], level + 1
        if level != expected or text[:1] in (" ", "\t"):
            out.append(LintMessage(line, "W0311", f"Bad indentation (expected {4 * expected} spaces)"))

    indents, check_equal = [0], False
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.NEWLINE:
                check_equal = True
            elif tok.type == tokenize.INDENT:
                check_equal = False
                check(tok.string, indents[-1] + 1, tok.start[0])
                indents.append(indents[-1] + 1)
            elif tok.type == tokenize.DEDENT:
                check_equal = True
                if len(indents) > 1:
                    indents.pop()
            elif tok.type not in (tokenize.NL, tokenize.COMMENT, tokenize.ENCODING) and check_equal:
                check_equal = False
                check(tok.line, indents[-1], tok.start[0])
    except (tokenize.TokenError, SyntaxError):
        pass
    return out
