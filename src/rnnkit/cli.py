"""``rnnkit <command>``: train, sample and evaluate recurrent networks for every task (each named in
``rnnkit --help``), run the course's experiments (``rnnkit lab``) and the NumPy engine (``rnnkit
scratch``). Bad input ends in one line, ``error: ...``, and exit code 2.

Torch is imported inside the commands that need it, so ``rnnkit scratch`` stays NumPy-only.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys

from rnnkit.cli_args import RnnkitParser, number
from rnnkit import __version__
from rnnkit.errors import run_command


#: Modules that add their own commands: each has ``register(subparsers)``, imports torch lazily, and
#: sets ``func=handler(args)`` on its parsers.
COMMAND_MODULES = [
    "rnnkit.lab.cli",
    "rnnkit.scratch.cli",
    "rnnkit.export.cli",
    "rnnkit.view.cli",
    "rnnkit.tasks.summary",
]


#: Tasks whose commands are generated from their declaration (``rnnkit.tasks.<name>.task.TASK``).
TASK_COMMANDS = ["classify", "forecast", "speech", "tag", "translate", "caption", "music", "lm"]


def cmd_cells(args) -> int:
    from rnnkit.cells.equations import describe_cells

    print(describe_cells())
    return 0


def build_parser() -> argparse.ArgumentParser:
    from rnnkit.tasks.runner import get_task

    tasks = "; ".join(f"{name}: {get_task(name).help}" for name in TASK_COMMANDS)  # every task, as registered
    parser = RnnkitParser(prog="rnnkit", description=f"rnnkit <command>: train, sample and evaluate recurrent networks for every task ({tasks}); run the "
                          "course's experiments (rnnkit lab) and the NumPy engine (rnnkit scratch). Bad input ends in "
                          "one line, error: ..., and exit code 2.")
    parser.add_argument("--version", action="version", version=f"rnnkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="command")

    from rnnkit.tasks.cli import add_eval_parser, add_train_parser, register_task
    from rnnkit.tasks.lm import cli as lm_cli

    lm = get_task("lm")  # the flagship's commands at the top level too: rnnkit train|sample|eval|inspect
    add_train_parser(sub, lm, name="train")
    lm_cli.add_sample_parser(sub)
    add_eval_parser(sub, lm, name="eval", description=lm_cli.EVAL_DESCRIPTION)
    lm_cli.add_inspect_parser(sub)

    p = sub.add_parser("cells", help="list the recurrent cells and their equations")
    p.set_defaults(func=cmd_cells)

    for name in TASK_COMMANDS:
        register_task(sub, get_task(name))
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    add_threads_flags(parser)
    from rnnkit.train.launch import attach_launcher

    attach_launcher(parser)  # --nproc and --max-restarts on every training command (torchrun)
    return parser


#: Commands that compute nothing with torch: no ``--threads``, no runtime (``scratch`` is NumPy only).
NOT_COMPUTING = {"cells", "scratch"}


def add_threads_flags(parser: argparse.ArgumentParser) -> None:
    """``--threads`` on every command that computes (every leaf parser below ``parser`` lacking one)."""
    from rnnkit.runtime import DEFAULT_THREADS

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                if name not in NOT_COMPUTING:
                    add_threads_flags(child)
            return
    if "--threads" not in parser._option_string_actions:
        parser.add_argument("--threads", type=number(int, low=0, high=4096), default=argparse.SUPPRESS,
                            help=f"CPU threads for torch (default: {DEFAULT_THREADS}; 0: torch's default, one per "
                            "core, faster only on an otherwise idle machine)")


def computing(func):
    """``func(args)`` run under ``rnnkit.runtime.cli_runtime``: ``--threads`` and denormals flushed."""

    def run(args):
        from rnnkit.runtime import cli_runtime

        with cli_runtime(getattr(args, "threads", None)):
            return func(args)

    return run


def main(argv=None) -> int:
    if hasattr(signal, "SIGPIPE"):  # `rnnkit sample | head` ends quietly
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # a bad flag: one line already written (RnnkitParser.error)
        return e.code if isinstance(e.code, int) else 2
    if not hasattr(args, "func"):
        parser.print_help()
        return 0
    if args.command not in NOT_COMPUTING:
        args.func = computing(args.func)
    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
