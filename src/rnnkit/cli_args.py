"""CLI flags generated from configuration dataclasses, one flag per field (``seq_len`` -> ``--seq-len``),
and the typed argument helpers that every hand-written flag uses (``positive_int``, ``fraction``, ...).

Every numeric flag is checked while the command line is parsed, by the range its field declares
(``rnnkit.schema.Spec``): a bad value ends in exit code 2 and one line naming the flag, the value and
what is valid. Floats must be finite everywhere (``nan``, ``inf`` are refused). ``RnnkitParser`` is the parser class of every rnnkit command: its subcommands inherit it,
a bare ``type=float`` is finite-checked, and its errors are that one line without the usage block:
``error: --batch-size must be an integer >= 1, got '0' (see rnnkit train --help)``.

Flags default to "not given", so a caller can tell what the user set (a resumed run keeps its saved
configuration and only accepts changes to the settings that may change).
"""

from __future__ import annotations

import argparse
import contextlib
import os

from rnnkit.schema import Spec, field_spec, flat_fields


class RnnkitParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (``error: ... (see prog --help)``, exit code 2)."""

    _raising = False  # True inside ``raising()``: errors raise RnnkitError instead of exiting

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register("type", float, finite_float)

    @classmethod
    @contextlib.contextmanager
    def raising(cls):
        """Parse for Python callers (``rnnkit.tasks.train``): a bad value raises ``RnnkitError`` with the
        same one-line message instead of exiting."""
        before, cls._raising = cls._raising, True
        try:
            yield
        finally:
            cls._raising = before

    def error(self, message):
        if message.startswith("argument ") and ": " in message:  # "argument --x: must be" -> "--x must be"
            flag, rest = message[len("argument "):].split(": ", 1)
            flag = flag.split("/")[-1]
            message = f"{flag} {rest}" if flag.startswith("-") else f"{flag}: {rest}"
        if RnnkitParser._raising:
            from rnnkit.errors import RnnkitError

            raise RnnkitError(message)
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def typed(spec: Spec, name: str):
    """An argparse ``type`` that parses and checks a value against ``spec`` (``.spec`` holds it)."""

    def convert(text: str):
        try:
            return spec.parse(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    convert.__name__, convert.spec = name, spec
    return convert


def number(kind=float, **limits):
    """A typed helper for a hand-written flag: ``number(int, low=1)``, ``number(float, above=0)``."""
    spec = Spec(kind=kind, **limits)
    return typed(spec, f"{kind.__name__} {spec.describe()}")


positive_int = number(int, low=1)                       # counts, sizes, steps
count = number(int, low=0)                              # 0 allowed (often "off" or "all")
finite_float = number(float)                            # any finite number (a seed-like offset, a bias)
positive_float = number(float, above=0)                 # learning rates, temperatures, time constants
non_negative_float = number(float, low=0)               # penalties, clipping thresholds (0: off)
fraction = number(float, above=0, high=1)               # (0, 1]: a share of the data
probability = number(float, low=0, high=1)              # [0, 1]
seed = number(int, low=0, high=2**32 - 1)              # random seeds


def output_file(text: str) -> str:
    """An argparse ``type`` for a file to write (``--html``, ``--plot``, ``--json``): its folder must
    exist and the path must not be a folder, so a long run never fails at its last write."""
    folder = os.path.dirname(text) or "."
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"must be a file name, got the folder {text!r}")
    if not os.path.isdir(folder):
        raise argparse.ArgumentTypeError(f"cannot be written: the folder {folder!r} does not exist; create it first")
    if not os.access(folder, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot be written: no permission to write into {folder!r}")
    return text


def help_with_default(text: str, default, valid: str = "") -> str:
    """``text (default: X; valid)``, the default said once: a help that states its own default
    (``... (default: runs/lm-<time>)``), or a default of None, gets none added."""
    if "(default" in text or default is None:
        return f"{text} ({valid.removeprefix('; ')})" if valid else text
    return f"{text} (default: {default}{valid})"


def add_config_arguments(parser: argparse.ArgumentParser, cls, title: str) -> None:
    """One flag per setting of ``cls`` (a nested ``section``'s settings under their own names)."""
    group = parser.add_argument_group(title)
    for flat in flat_fields(cls):
        f = flat.field
        flag = "--" + f.name.replace("_", "-")
        spec = field_spec(f)
        valid = f"; {spec.describe()}" if spec is not None and spec.choices is None else ""
        help_text = help_with_default(flat.help, flat.default, valid)
        aliases = [flag] + ["--" + a for a in f.metadata.get("aliases", ())]
        if isinstance(flat.default, bool):
            group.add_argument(*aliases, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS,
                               help=help_text)
        elif spec is not None and (spec.choices is None or not callable(spec.choices)):
            group.add_argument(*aliases, type=typed(spec, spec.describe()), default=argparse.SUPPRESS,
                               metavar=f.name.upper(), help=help_text)
        else:  # strings, paths and names checked later against a registry that needs torch
            group.add_argument(*aliases, type=str, default=argparse.SUPPRESS, metavar=f.name.upper(), help=help_text)


def add_config_groups(parser: argparse.ArgumentParser, classes: dict) -> None:
    """A task's ``train`` flags: one group per config class, ``classes["data"]``, ``["model"]``, ``["train"]``."""
    for title, key in (("data", "data"), ("model", "model"), ("training", "train")):
        add_config_arguments(parser, classes[key], title)


def given(args: argparse.Namespace, cls) -> dict:
    """The fields of ``cls`` that the user set on the command line."""
    names = {f.name for f in flat_fields(cls)}
    return {k: v for k, v in vars(args).items() if k in names}

