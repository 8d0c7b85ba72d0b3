"""Valid values of settings, declared once and checked in one place.

A config field declares its range next to its default and help (``opt``)::

    batch_size: int = opt(32, "parallel streams per batch", low=1)
    dropout: float = opt(0.0, "dropout ...", low=0, below=1)
    clip: float = opt(1.0, "clip the gradient's norm (0: off)", above=0, allow_zero=True)

``Spec`` is that declaration: ``low <= v <= high``, ``above < v < below``, ``allow_zero`` (0 also valid,
meaning "off"), ``choices`` (names, or a function returning them, so torch-only registries are read
lazily). Floats must always be finite. ``Spec.problem(value)`` says what is wrong in words a user
reads ("must be an integer >= 1, got 0"); the CLI (``rnnkit.cli_args``) turns it into argparse types,
and ``check_config`` applies it to a config read from a checkpoint. Pure Python, no torch.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field

from rnnkit.errors import RnnkitError

RANGE_KEYS = ("low", "high", "above", "below", "allow_zero", "choices")


def opt(default, help: str, *, low=None, high=None, above=None, below=None, allow_zero=False, choices=None,
        **meta):
    """A config field: its default, its help text and its valid values, checked by one validator
    (``Spec``) on the command line, for a config built in Python and when a checkpoint's config is read:
    ``low <= v <= high``, ``above < v < below``, ``allow_zero`` (0 is valid too: "off"), ``choices``
    (names, or a function returning them). Float fields must be finite."""
    limits = dict(low=low, high=high, above=above, below=below, choices=choices)
    meta.update({k: v for k, v in limits.items() if v is not None})
    if allow_zero:
        meta["allow_zero"] = True
    return field(default=default, metadata={"help": help, **meta})


def registry(module: str, name: str):
    """Choices read from a registry only when checked (``registry("rnnkit.cells", "CELLS")``), so
    building the CLI never imports torch."""

    def names():
        import importlib

        return tuple(getattr(importlib.import_module(module), name))

    return names


def section(cls, *, omit: tuple = (), help: dict | None = None, **defaults):
    """A config nested whole in another (``rnn: RNNConfig = section(RNNConfig, hidden=64)``): its fields
    are flags and stored settings of the outer config under their own names (``--hidden``), with this
    config's ``defaults`` and ``help`` texts where they differ; ``omit``: fields not offered (they keep
    their defaults)."""
    unknown = (set(defaults) | set(omit) | set(help or {})) - {f.name for f in dataclasses.fields(cls)}
    if unknown:
        raise TypeError(f"{cls.__name__} has no field(s) {sorted(unknown)}")
    return field(default_factory=lambda: cls(**defaults),
                 metadata={"section": cls, "omit": tuple(omit), "defaults": defaults, "help": help or {}})


@dataclass(frozen=True)
class FlatField:
    """One setting of a (possibly nested) config, as a flag and a stored value see it."""

    name: str
    field: dataclasses.Field
    default: object
    help: str
    offered: bool = True  # False: a section's omitted field (stored, not a flag)


def flat_fields(cls, all_fields: bool = False) -> list[FlatField]:
    """The settings of config ``cls`` in order, a ``section``'s fields in its place (omitted ones only
    with ``all_fields``); names are unique across sections."""
    out = []
    for f in dataclasses.fields(cls):
        sec = f.metadata.get("section")
        if sec is None:
            out.append(FlatField(f.name, f, f.default, f.metadata.get("help", "")))
            continue
        for inner in flat_fields(sec, all_fields=True):
            offered = inner.offered and inner.name not in f.metadata["omit"]
            if offered or all_fields:
                out.append(FlatField(inner.name, inner.field, f.metadata["defaults"].get(inner.name, inner.default),
                                     f.metadata["help"].get(inner.name, inner.help), offered))
    names = [x.name for x in out]
    if len(set(names)) != len(names):
        raise TypeError(f"{cls.__name__}: a nested setting repeats a name ({names})")
    return out


def to_flat(config) -> dict:
    """``asdict`` with each section's settings in its place: ``{"cell": ..., "hidden": ..., "embedding": ...}``
    (the form of the flags and of a checkpoint's stored config)."""
    out = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if f.metadata.get("section") is not None:
            out.update(to_flat(value))
        else:
            out[f.name] = value
    return out


def from_flat(cls, values: dict):
    """``cls`` from flat settings (``to_flat``'s form); missing ones take the declared defaults."""
    kwargs = {}
    for f in dataclasses.fields(cls):
        sec = f.metadata.get("section")
        if sec is None:
            if f.name in values:
                kwargs[f.name] = values[f.name]
            continue
        names = {x.name for x in flat_fields(sec, all_fields=True)}
        kwargs[f.name] = from_flat(sec, {**f.metadata["defaults"], **{k: v for k, v in values.items() if k in names}})
    return cls(**kwargs)


@dataclass(frozen=True)
class Spec:
    kind: type = float
    low: float | None = None
    high: float | None = None
    above: float | None = None
    below: float | None = None
    allow_zero: bool = False
    choices: tuple | typing.Callable | None = None

    def names(self):
        return tuple(self.choices() if callable(self.choices) else self.choices)

    def describe(self) -> str:
        """``an integer >= 1``, ``a number in [0, 1)``, ``one of: a, b``."""
        if self.choices is not None:
            return "one of: " + ", ".join(sorted(map(str, self.names())))
        noun = "an integer" if self.kind is int else "a finite number"
        lo = (f"[{_fmt(self.low)}" if self.low is not None else f"({_fmt(self.above)}" if self.above is not None else None)
        hi = (f"{_fmt(self.high)}]" if self.high is not None else f"{_fmt(self.below)})" if self.below is not None else None)
        if lo and hi:
            text = f"{noun} in {lo}, {hi}"
        elif lo:
            text = f"{noun} {'>=' if lo[0] == '[' else '>'} {lo[1:]}"
        elif hi:
            text = f"{noun} {'<=' if hi[-1] == ']' else '<'} {hi[:-1]}"
        else:
            text = noun
        return text + (", or 0" if self.allow_zero else "")

    def problem(self, value) -> str | None:
        """None when ``value`` is valid, else ``must be ..., got ...``."""
        wrong = f"must be {self.describe()}, got {value!r}"
        if self.choices is not None:
            return None if value in self.names() else wrong
        if self.kind is int and (not isinstance(value, int) or isinstance(value, bool)):
            return wrong
        if self.kind is float and (not isinstance(value, (int, float)) or isinstance(value, bool)):
            return wrong
        if self.kind is float and not math.isfinite(value):
            return wrong
        if self.allow_zero and value == 0:
            return None
        if ((self.low is not None and value < self.low) or (self.high is not None and value > self.high)
                or (self.above is not None and value <= self.above) or (self.below is not None and value >= self.below)):
            return wrong
        return None

    def parse(self, text: str):
        """The value of a command-line string, or ValueError with the ``problem``."""
        if self.choices is not None:
            value = text
        else:
            try:
                value = self.kind(text)
            except ValueError:
                raise ValueError(f"must be {self.describe()}, got {text!r}") from None
        why = self.problem(value)
        if why:
            raise ValueError(why.rsplit(", got", 1)[0] + f", got {text!r}")
        return value


def _fmt(x) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def field_kind(f: dataclasses.Field):
    """``int``, ``float``, ``bool``, ``str`` or ``None`` (unknown) of a field, ``X | None`` unwrapped."""
    if f.default is not None and not isinstance(f.default, dataclasses._MISSING_TYPE):
        return type(f.default)
    hint = f.type if not isinstance(f.type, str) else f.type.replace(" ", "")
    if isinstance(hint, str):
        for name, kind in (("int", int), ("float", float), ("bool", bool), ("str", str)):
            if hint in (name, f"{name}|None", f"None|{name}"):
                return kind
        return None
    args = [a for a in typing.get_args(hint) if a is not type(None)] if isinstance(hint, types.UnionType) else [hint]
    return args[0] if len(args) == 1 else None


def field_spec(f: dataclasses.Field) -> Spec | None:
    """The declared range of a config field (None: a string or flag with no declared range)."""
    meta = {k: f.metadata[k] for k in RANGE_KEYS if k in f.metadata}
    kind = field_kind(f)
    if kind in (int, float) or meta.get("choices") is not None:
        return Spec(kind=kind if kind in (int, float) else str, **meta)
    return None


def check_config(cls, data, where: str):
    """``cls(**data)`` for a config read from a file, every field checked: types, ranges, names.

    Fields missing from ``data`` take their defaults (an older checkpoint), unknown ones are ignored
    (a newer one). Any problem is one ``RnnkitError`` line naming ``where`` and the field."""
    if not isinstance(data, dict):
        raise RnnkitError(f"{where}: expected a JSON object of settings, got {type(data).__name__}")
    values = {}
    for flat in flat_fields(cls, all_fields=True):
        f = flat.field
        if f.name not in data:
            continue
        value, kind, spec = data[f.name], field_kind(f), field_spec(f)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if value is None and (f.default is None or "None" in str(f.type)):
            pass
        elif kind is not None and not (isinstance(value, kind) and (kind is bool or not isinstance(value, bool))):
            raise RnnkitError(f"{where}: {f.name} must be {_kind_name(kind)}, got {value!r}")
        elif spec is not None and (why := spec.problem(value)):
            raise RnnkitError(f"{where}: {f.name} {why}")
        values[f.name] = value
    return from_flat(cls, values)


def check_fields(config) -> None:
    """Every field of a config object built in Python (not read from a file) within its declared range or
    choices; the first problem is one ``RnnkitError`` line naming the field as its flag (``--min-freq``)."""
    values = to_flat(config)
    for flat in flat_fields(type(config), all_fields=True):
        f = flat.field
        spec, value = field_spec(f), values[f.name]
        if spec is not None and value is not None and (why := spec.problem(value)):
            raise RnnkitError(f"--{f.name.replace('_', '-')} {why}")


def _kind_name(kind) -> str:
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(kind, kind.__name__)
