"""CLI flags generated from configuration dataclasses, one flag per field (``seq_len`` -> ``--seq-len``).

Flags default to "not given", so a caller can tell what the user set (a resumed run keeps its saved
configuration and only accepts changes to the settings that may change).
"""

from __future__ import annotations

import argparse
import dataclasses


def add_config_arguments(parser: argparse.ArgumentParser, cls, title: str) -> None:
    group = parser.add_argument_group(title)
    for f in dataclasses.fields(cls):
        flag = "--" + f.name.replace("_", "-")
        help_text = f"{f.metadata.get('help', '')} (default: {f.default})"
        if isinstance(f.default, bool):
            group.add_argument(flag, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=help_text)
        else:
            kind = type(f.default) if f.default is not None else str
            group.add_argument(flag, type=kind, default=argparse.SUPPRESS, metavar=f.name.upper(), help=help_text)


def given(args: argparse.Namespace, cls) -> dict:
    """The fields of ``cls`` that the user set on the command line."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in vars(args).items() if k in names}
