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
               choices: dict | None = None, types: dict | None = None) -> None:
    """Add ``--field-name`` for every field of ``cls`` not in ``skip`` (``types``: a parser per field,
    e.g. ``number(int, 1)``, instead of the default's type)."""
    docs, short, choices, types = field_docs(cls), short or {}, choices or {}, types or {}
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        names = [f"--{f.name.replace('_', '-')}"] + ([short[f.name]] if f.name in short else [])
        if len(f.name) == 1:
            names = [f"-{f.name}"]
        doc = docs.get(f.name, f.name.replace("_", " "))
        default = f.default if f.default is not dataclasses.MISSING else None
        if isinstance(default, bool):
            flag = names[0] if not default else f"--no-{f.name.replace('_', '-')}"
            parser.add_argument(flag, dest=f.name, action="store_false" if default else "store_true",
                                help=doc + (" (on by default; this turns it off)" if default else ""))
            continue
        kind = types.get(f.name) or (type(default) if default is not None and not isinstance(default, (tuple, list)) else str)
        parser.add_argument(*names, dest=f.name, type=kind, default=default, required=f.name in required,
                            choices=choices.get(f.name), help=doc + ("" if f.name in required else " (default: %(default)s)"))


def from_args(cls, args: argparse.Namespace, **extra):
    """Build ``cls`` from parsed flags (fields absent from ``args`` keep their defaults)."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)}
    return cls(**{**values, **extra})


TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def parse_bool(key: str, raw) -> bool:
    """The one boolean parser of every config: true/false, on/off, yes/no, 1/0 (any case), or a
    YAML boolean; anything else is a LintseqError naming the key.

        >>> parse_bool("packing", "On"), parse_bool("packing", False)
        (True, False)
    """
    from .errors import LintseqError

    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in TRUE or text in FALSE:
        return text in TRUE
    raise LintseqError(f"config key {key}={raw!r}: expected a boolean", fix="one of true/false, on/off, yes/no, 1/0")


def parse_switch(key: str, raw) -> str:
    """``auto``, ``true`` or ``false`` from any boolean spelling (YAML reads ``compile: off`` as False).

        >>> parse_switch("compile", "on"), parse_switch("compile", False), parse_switch("compile", "AUTO")
        ('true', 'false', 'auto')
    """
    if str(raw).strip().lower() == "auto":
        return "auto"
    return "true" if parse_bool(key, raw) else "false"


def load_config(cls, path: str | None, overrides=()):
    """``cls`` from a YAML file (optional) and ``key=value`` overrides, values typed by the
    fields' defaults (booleans by ``parse_bool``, the fields a class lists in ``SWITCHES`` by
    ``parse_switch``); an unknown key or a bad value is a LintseqError naming the key."""
    from .errors import LintseqError

    values = {}
    if path:
        import yaml

        try:
            with open(path, encoding="utf-8") as fh:
                values = yaml.safe_load(fh) or {}
        except OSError as exc:
            raise LintseqError(f"cannot read config {path!r}: {exc.strerror}", fix="check the path") from None
        if not isinstance(values, dict):
            raise LintseqError(f"config {path!r} is not a mapping of key: value")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep:
            raise LintseqError(f"override {item!r} is not key=value", fix="write overrides as key=value, e.g. lr=1e-4")
        values[key] = raw
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise LintseqError(f"unknown config key(s) {unknown}", fix=f"known keys: {', '.join(fields)}")
    cfg = cls()
    switches = getattr(cls, "SWITCHES", ())
    for key, raw in values.items():
        default = getattr(cfg, key)
        try:
            if key in switches:
                value = parse_switch(key, raw)
            elif isinstance(default, bool):
                value = parse_bool(key, raw)
            elif isinstance(raw, str) and default is not None and not isinstance(default, str):
                value = type(default)(raw)
            else:
                value = raw
        except ValueError:
            raise LintseqError(f"config key {key}={raw!r}: expected {type(default).__name__}",
                               fix=f"set {key}= a value of that type") from None
        _check_number(key, value, raw)
        setattr(cfg, key, value)
    return cfg


# keys that must be at least 1 wherever a config has them (others: any number >= 0)
AT_LEAST_ONE = {"global_batch", "micro_batch", "max_seq_len", "max_new_tokens", "n", "workers", "samples_per_program",
                "log_every"}


def _check_number(key: str, value, raw) -> None:
    """Numbers in a config are finite and not negative; sizes and counts are at least 1."""
    from .errors import LintseqError

    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    low = 1 if key in AT_LEAST_ONE else 0
    if not math.isfinite(value) or value < low:
        raise LintseqError(f"config key {key}={raw!r}: expected a number >= {low}",
                           fix=f"set {key}= a {'positive' if low else 'non-negative'} number")
