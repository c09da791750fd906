"""One way to build every workflow's config: a typed dataclass read from YAML and ``key=value``
overrides, values typed by the fields' defaults and validated here, in one place.

A dataclass may declare, as class variables:

* ``CHOICES = {field: allowed values}``: anything else is refused, naming the allowed values;
* ``SWITCHES = (field, ...)``: ``auto`` / ``true`` / ``false`` fields (any boolean spelling);
* ``ALIASES = {old key: path or (paths, ...)}``: keys a config may still use for nested ones;
* ``MANAGED = {path: who sets it}``: nested fields the owner fills in itself (refused as keys).

A field whose default is itself such a dataclass is a section: ``train.lr=5e-5`` as an override,
``train: {lr: 5e-5}`` in YAML (litgpt's and TRL's nesting).

    >>> from dataclasses import dataclass, field
    >>> @dataclass
    ... class Inner:
    ...     CHOICES = {"mode": ("a", "b")}
    ...     lr: float = 1e-3
    ...     mode: str = "a"
    >>> @dataclass
    ... class Outer:
    ...     ALIASES = {"lr": "inner.lr"}
    ...     inner: Inner = field(default_factory=Inner)
    ...     quiet: bool = False
    >>> load_config(Outer, None, ["inner.mode=b", "lr=0.5", "quiet=on"])
    Outer(inner=Inner(lr=0.5, mode='b'), quiet=True)
"""

from __future__ import annotations

import dataclasses
import math
import re

from .errors import LintseqError

TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
# sizes and counts that must be at least 1 wherever a config has them (other numbers: >= 0)
AT_LEAST_ONE = {"global_batch", "micro_batch", "max_seq_len", "max_new_tokens", "n", "workers", "samples",
                "samples_per_program", "log_every", "chunk_size"}


def parse_bool(key: str, raw) -> bool:
    """The one boolean parser of every config: true/false, on/off, yes/no, 1/0 (any case), or a
    YAML boolean; anything else is a LintseqError naming the key.

        >>> parse_bool("packing", "On"), parse_bool("packing", False)
        (True, False)
    """
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


def is_section(value) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def _flatten(values: dict, prefix: str = "") -> dict:
    """YAML's nested mappings as dotted keys (``{"train": {"lr": 1}}`` -> ``{"train.lr": 1}``)."""
    flat = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def keys(cls_or_cfg, prefix: str = "", managed: dict | None = None) -> list[str]:
    """Every settable key of a config, sections expanded, managed ones left out (what ``--help``
    and errors list)."""
    cfg = cls_or_cfg() if isinstance(cls_or_cfg, type) else cls_or_cfg
    managed = getattr(type(cfg), "MANAGED", {}) if managed is None else managed
    out = []
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if is_section(value):
            out += keys(value, f"{prefix}{f.name}.", managed)
        elif prefix + f.name not in managed:
            out.append(prefix + f.name)
    return out


def convert(cfg, key: str, raw, path: str):
    """``raw`` typed and checked for field ``key`` of ``cfg`` (``path`` names it in errors)."""
    cls = type(cfg)
    default = getattr(cfg, key)
    try:
        if key in getattr(cls, "SWITCHES", ()):
            value = parse_switch(path, raw)
        elif isinstance(default, bool):
            value = parse_bool(path, raw)
        elif isinstance(default, tuple):
            items = raw.split(",") if isinstance(raw, str) else list(raw if isinstance(raw, (list, tuple)) else [raw])
            value = tuple(type(default[0])(x) if default else x for x in items if str(x).strip())
        elif isinstance(raw, str) and default is not None and not isinstance(default, str):
            value = type(default)(raw)
        elif isinstance(default, float) and isinstance(raw, int) and not isinstance(raw, bool):
            value = float(raw)
        elif default is not None and (isinstance(raw, bool) or not isinstance(raw, type(default))):
            # a YAML value of another type (steps: 1.5, seed: true, an empty lr:); a number where
            # text is expected is its text (output_dir: 2024)
            if not (isinstance(default, str) and isinstance(raw, (int, float)) and not isinstance(raw, bool)):
                raise ValueError
            value = str(raw)
        else:
            value = raw
    except ValueError:
        raise LintseqError(f"config key {path}={raw!r}: expected {type(default).__name__}",
                           fix=f"set {path}= a value of that type") from None
    allowed = getattr(cls, "CHOICES", {}).get(key)
    if allowed and value not in allowed:
        raise LintseqError(f"config key {path}={raw!r}: not one of {', '.join(map(str, allowed))}")
    for item in value if isinstance(value, tuple) else (value,):
        if not isinstance(item, bool) and isinstance(item, (int, float)):
            low = 1 if key in AT_LEAST_ONE or isinstance(value, tuple) else 0
            if not math.isfinite(item) or item < low:
                raise LintseqError(f"config key {path}={raw!r}: expected a number >= {low}",
                                   fix=f"set {path}= a {'positive' if low else 'non-negative'} number")
    return value


def set_key(cfg, path: str, raw, full: str | None = None, managed: dict | None = None) -> None:
    """Set dotted ``path`` (``train.lr``) on ``cfg``, typed and checked; unknown keys refused."""
    full = full or path
    managed = getattr(type(cfg), "MANAGED", {}) if managed is None else managed
    section = full[: len(full) - len(path)]  # "train." while setting "lr" of train
    owner, *rest = path.split(".", 1)
    child = getattr(cfg, owner, None) if owner in {f.name for f in dataclasses.fields(cfg)} else None
    if child is None and owner not in {f.name for f in dataclasses.fields(cfg)}:
        raise LintseqError(f"unknown config key {full!r}", fix=f"known keys: {', '.join(keys(cfg, section, managed))}")
    if rest:
        if not is_section(child):
            raise LintseqError(f"unknown config key {full!r}: {section}{owner} has no sub-keys")
        set_key(child, rest[0], raw, full, managed)
    elif is_section(child):
        raise LintseqError(f"config key {full!r} is a section", fix=f"set one of its keys, e.g. {full}.{dataclasses.fields(child)[-1].name}=...")
    else:
        setattr(cfg, owner, convert(cfg, owner, raw, full))


def describe(cls) -> dict[str, str]:
    """``{key: "its docstring (default value)"}`` for every settable key (``experiment --help``)."""
    from .cliargs import field_docs

    root = cls()
    out = {}
    for path in keys(root):
        *parents, name = path.split(".")
        owner = root
        for p in parents:
            owner = getattr(owner, p)
        # a docstring's own "(default: ...)" describes the workflow's default, which the
        # experiment may set otherwise: only the value here is said
        doc = re.sub(r"\s*\(default:[^)]*\)", "", field_docs(type(owner)).get(name, ""))
        out[path] = f"{doc} (default {getattr(owner, name)!r})".strip()
    return out


def load_config(cls, path: str | None, overrides=()):
    """``cls`` from a YAML file (optional) and ``key=value`` overrides (later wins); an unknown key,
    a managed key or a bad value is a LintseqError naming the key."""
    values: dict = {}
    if path:
        import yaml

        try:
            with open(path, encoding="utf-8") as fh:
                loaded = yaml.safe_load(fh) or {}
        except OSError as exc:
            raise LintseqError(f"cannot read config {path!r}: {exc.strerror}", fix="check the path") from None
        if not isinstance(loaded, dict):
            raise LintseqError(f"config {path!r} is not a mapping of key: value")
        values.update(_flatten(loaded))
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep:
            raise LintseqError(f"override {item!r} is not key=value", fix="write overrides as key=value, e.g. lr=1e-4")
        values[key.strip()] = raw
    cfg = cls()
    aliases, managed = getattr(cls, "ALIASES", {}), getattr(cls, "MANAGED", {})
    for key, raw in values.items():
        if key in managed:
            raise LintseqError(f"config key {key!r} is set by {managed[key]}", fix="leave it out")
        for target in (aliases[key] if isinstance(aliases.get(key), tuple) else (aliases.get(key, key),)):
            set_key(cfg, target, raw)
    return cfg


def check_choices(cfg, prefix: str = "") -> None:
    """Refuse a value outside a field's ``CHOICES`` in a config built in code (sections too)."""
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if is_section(value):
            check_choices(value, f"{prefix}{f.name}.")
        elif value not in getattr(type(cfg), "CHOICES", {}).get(f.name, (value,)):
            allowed = ", ".join(map(str, type(cfg).CHOICES[f.name]))
            raise LintseqError(f"{prefix}{f.name}={value!r} is not one of {allowed}")
