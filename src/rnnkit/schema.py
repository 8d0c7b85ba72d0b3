"""Valid values of settings, declared once and checked in one place.

A config field declares its range next to its default and help (``rnnkit.train.config.opt``)::

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
from dataclasses import dataclass

from rnnkit.errors import RnnkitError

RANGE_KEYS = ("low", "high", "above", "below", "allow_zero", "choices")


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
    for f in dataclasses.fields(cls):
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
    return cls(**values)


def check_fields(config) -> None:
    """Every field of a config object built in Python (not read from a file) within its declared range or
    choices; the first problem is one ``RnnkitError`` line naming the field as its flag (``--min-freq``)."""
    for f in dataclasses.fields(config):
        spec, value = field_spec(f), getattr(config, f.name)
        if spec is not None and value is not None and (why := spec.problem(value)):
            raise RnnkitError(f"--{f.name.replace('_', '-')} {why}")


def _kind_name(kind) -> str:
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(kind, kind.__name__)
