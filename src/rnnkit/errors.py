"""The one exception type that rnnkit raises for bad input.

The CLI turns it into a single line, ``error: <message>``, and a non-zero exit code, so a user never
sees a traceback for a mistake they can fix. A message names what was wrong and what would be valid.
"""


class RnnkitError(Exception):
    """Bad input or an unrecoverable condition, described for the user in one line."""


def run_command(args) -> int:
    """Run a parsed CLI command (``args.func(args)``) the way every rnnkit entry point does: bad input
    ends in one line, ``error: <message>``, and exit code 2; Ctrl-C in exit code 130."""
    import sys

    try:
        return args.func(args) or 0
    except RnnkitError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as e:  # a disk fault no writer caught (full disk, read-only, permission): still one line
        from rnnkit.train.files import DISK_ERRNOS, disk_reason

        if e.errno not in DISK_ERRNOS:
            raise
        print(f"error: {e.filename or 'a file'}: {disk_reason(e)}", file=sys.stderr)
        return 2


def unknown_choice(kind: str, name: str, choices) -> RnnkitError:
    """``unknown cell 'lstn'; choose one of: elman, gru, lstm``."""
    return RnnkitError(f"unknown {kind} {name!r}; choose one of: {', '.join(sorted(choices))}")
