"""The one exception type that rnnkit raises for bad input.

The CLI turns it into a single line, ``error: <message>``, and a non-zero exit code, so a user never
sees a traceback for a mistake they can fix. A message names what was wrong and what would be valid.
"""


class RnnkitError(Exception):
    """Bad input or an unrecoverable condition, described for the user in one line."""


def unknown_choice(kind: str, name: str, choices) -> RnnkitError:
    """``unknown cell 'lstn'; choose one of: elman, gru, lstm``."""
    return RnnkitError(f"unknown {kind} {name!r}; choose one of: {', '.join(sorted(choices))}")
