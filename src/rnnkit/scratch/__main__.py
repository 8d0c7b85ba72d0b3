"""``python -m rnnkit.scratch ...``: the same commands as ``rnnkit scratch ...``, without the rest of the CLI.

Bad input ends in one line, ``error: <message>``, and exit code 2, as in ``rnnkit``.
"""

from __future__ import annotations

import sys

from rnnkit.cli_args import RnnkitParser
from rnnkit.errors import run_command
from rnnkit.scratch.cli import register


def main(argv=None) -> int:
    parser = RnnkitParser(prog="rnnkit", description=__doc__.split("\n\n")[0])
    register(parser.add_subparsers(dest="command", metavar="command"))
    args = parser.parse_args(["scratch", *(sys.argv[1:] if argv is None else argv)])
    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
