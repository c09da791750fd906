"""Command-line flags generated from a config dataclass: one flag per field, its help text the
field's docstring, its default shown; the CLI then builds the dataclass from the parsed flags.

    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Demo:
    ...     path: str
    ...     n: int = 1
    ...     '''Samples per prompt.'''
    ...     quiet: bool = False
    >>> import argparse; p = argparse.ArgumentParser(prog="demo")
    >>> add_fields(p, Demo, required=("path",))
    >>> from_args(Demo, p.parse_args(["--path", "x", "-n", "3"]))
    Demo(path='x', n=3, quiet=False)
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import functools
import inspect
import math
import textwrap

# the config tree (typing, checking, nesting) lives in config.py; re-exported for the callers here
from .config import load_config, parse_bool, parse_switch  # noqa: F401


class Parser(argparse.ArgumentParser):
    """argparse with the project's one-line errors: ``PROG: error: WHAT (fix: ...)``, exit 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (fix: see {self.prog} --help)\n")


def number(kind=int, low: float | None = None, high: float | None = None, above: bool = False):
    """An argparse ``type``: a ``kind`` number >= ``low`` (> when ``above``) and <= ``high``.

    >>> number(int, 1)("3"), number(float, 0, above=True)("0.5")
    (3, 0.5)
    >>> number(int, 1)("-3")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected an integer >= 1, got '-3'
    """
    name = "an integer" if kind is int else "a number"
    bound = " and ".join(b for b in ((f"> {low:g}" if above else f">= {low:g}") if low is not None else "",
                                     f"<= {high:g}" if high is not None else "") if b)
    want = f"{name} {bound}".strip()

    def parse(text: str):
        try:
            value = kind(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"expected {want}, got {text!r}") from None
        if (isinstance(value, float) and not math.isfinite(value)) or (low is not None and (value <= low if above else value < low)) \
                or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {want}, got {text!r}")
        return value

    parse.__name__ = want  # what argparse names in its own messages
    return parse


def k_list(text: str) -> tuple[int, ...]:
    """``--k 1,10,100``: positive integers, comma-separated.

    >>> k_list("1, 10")
    (1, 10)
    """
    parse = number(int, 1)
    try:
        ks = tuple(parse(part.strip()) for part in text.split(",") if part.strip())
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers >= 1 (e.g. 1,10,100), got {text!r}") from None
    if not ks:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers >= 1 (e.g. 1,10,100), got {text!r}")
    return ks


@functools.lru_cache(maxsize=None)
def field_docs(cls) -> dict[str, str]:
    """The docstring written under each field of a dataclass (its source, parsed)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError, SyntaxError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node, nxt in zip(body, body[1:]):
            if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and isinstance(nxt, ast.Expr)
                    and isinstance(nxt.value, ast.Constant) and isinstance(nxt.value.value, str)):
                docs[node.target.id] = " ".join(nxt.value.value.replace("``", "").split())
    return docs


def add_fields(parser: argparse.ArgumentParser, cls, skip=(), required=(), short: dict | None = None,
               choices: dict | None = None, types: dict | None = None, positional=(), aliases: dict | None = None) -> None:
    """Add ``--field-name`` for every field of ``cls`` not in ``skip``: its help is the field's
    docstring, its choices ``cls.CHOICES`` (or ``choices``), its type the default's (or ``types``:
    a parser per field, e.g. ``number(int, 1)``). Fields in ``positional`` become positional
    arguments (optional unless also ``required``); ``aliases`` adds flag names (the CLI's established ones)."""
    docs, short, types, aliases = field_docs(cls), short or {}, types or {}, aliases or {}
    choices = {**getattr(cls, "CHOICES", {}), **(choices or {})}
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        doc = docs.get(f.name, f.name.replace("_", " "))
        default = f.default if f.default is not dataclasses.MISSING else None
        kind = types.get(f.name) or (type(default) if default is not None and not isinstance(default, (tuple, list)) else str)
        if f.name in positional:
            parser.add_argument(f.name, nargs=None if f.name in required else "?", type=kind, default=default,
                                choices=choices.get(f.name), help=doc)
            continue
        # an alias comes first: argparse names an option in its errors by its first flag
        names = ([short[f.name]] if f.name in short else []) + [*aliases.get(f.name, ()), f"--{f.name.replace('_', '-')}"]
        if len(f.name) == 1:
            names = [f"-{f.name}"]
        if isinstance(default, bool):
            flags = [*aliases.get(f.name, ()), f"--{'no-' if default else ''}{f.name.replace('_', '-')}"]
            parser.add_argument(*flags, dest=f.name, action="store_false" if default else "store_true",
                                help=doc + (" (on by default; this turns it off)" if default else
                                            "" if "(default" in doc else " (default: off)"))
            continue
        parser.add_argument(*names, dest=f.name, type=kind, default=default, required=f.name in required,
                            choices=choices.get(f.name),
                            help=doc + ("" if f.name in required or "(default" in doc else " (default: %(default)s)"))


def from_args(cls, args: argparse.Namespace, **extra):
    """Build ``cls`` from parsed flags (fields absent from ``args`` keep their defaults)."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)}
    return cls(**{**values, **extra})

