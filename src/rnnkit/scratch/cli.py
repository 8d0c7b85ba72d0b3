"""``rnnkit scratch ...``: the NumPy engine's commands, gradcheck, train, sweep and bille (no torch).

``register(subparsers)`` adds them to a parser; the caller runs ``args.func(args)`` and turns a
RnnkitError into ``error: <message>`` and exit code 2 (``python -m rnnkit.scratch`` does the same).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

from rnnkit.cli_args import help_with_default, positive_float, positive_int, seed, typed
from rnnkit.errors import RnnkitError
from rnnkit.schema import RANGE_KEYS, Spec
from rnnkit.scratch.train import FLAG_NAMES, TrainConfig


def flags_for(name: str) -> list[str]:
    """``["--hidden"]`` for ``hidden_size``, ``["--seq-len"]`` for ``seq_len``."""
    return ["--" + FLAG_NAMES.get(name, name).replace("_", "-")]


def add_config_flags(parser: argparse.ArgumentParser, cls, skip=(), defaults=None) -> None:
    """One flag per dataclass field (``seq_len`` -> ``--seq-len``), help and type from the field;
    ``defaults`` overrides some of the dataclass's defaults for this command."""
    defaults = defaults or {}
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        default = defaults.get(f.name, f.default)
        kind, limits = f.metadata["type"], {k: f.metadata[k] for k in RANGE_KEYS if k in f.metadata}
        if kind in (int, float):  # checked while parsing, like every rnnkit flag (rnnkit.cli_args)
            kind = typed(Spec(kind=kind, **limits), kind.__name__)
        parser.add_argument(*flags_for(f.name), dest=f.name, type=kind, default=default,
                            metavar=FLAG_NAMES.get(f.name, f.name).upper(), help=help_with_default(f.metadata["help"], default))


def config_from(args, cls):
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in vars(args).items() if k in names})


def values(text: str, kind, what: str) -> list:
    try:
        out = [kind(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise RnnkitError(f"{what} must be comma-separated {kind.__name__}s, got {text!r}") from None
    if not out or any(v <= 0 for v in out):
        raise RnnkitError(f"{what} must be positive {kind.__name__}s separated by commas, got {text!r}")
    return out


def cmd_gradcheck(args) -> int:
    from rnnkit.scratch.gradcheck import check_cells, format_table
    from rnnkit.scratch.model import CELLS

    names = [n.strip() for n in args.cells.split(",")] if args.cells else list(CELLS)
    for n in ("batch", "steps", "hidden"):
        if getattr(args, n) < 1:
            raise RnnkitError(f"--{n} must be a positive integer, got {getattr(args, n)}")
    rows = check_cells(names, batch=args.batch, steps=args.steps, hidden_size=args.hidden, eps=args.eps,
                       seed=args.seed)
    print(format_table(rows))
    return 0 if all(r.passed for r in rows) else 1


def cmd_train(args) -> int:
    from rnnkit.scratch.train import train

    train(config_from(args, TrainConfig))
    return 0


def cmd_sweep(args) -> int:
    from rnnkit.scratch.sweep import sweep, table_header, write_outputs

    base = config_from(args, TrainConfig)
    grid = {"hidden_size": values(args.hidden_sizes, int, "--hidden-sizes"),
            "seq_len": values(args.seq_lens, int, "--seq-lens"),
            "lr": values(args.lrs, float, "--lrs")}
    out = Path(args.out or time.strftime("runs/scratch-sweep-%Y%m%d-%H%M%S"))
    print(f"base: {base.cell} H={base.hidden_size} T={base.seq_len} lr={base.lr} B={base.batch_size} "
          f"{base.optimizer}; {args.chars:,} characters per run; losses in nats/char")
    print(table_header())
    rows = sweep(base, grid, args.chars)
    table, figure = write_outputs(rows, base, args.chars, out)
    print(f"wrote {out / 'sweep.txt'}, {table} and {figure}")
    return 0


def cmd_bille(args) -> int:
    from rnnkit.scratch.bille import train_bille

    result = train_bille(iters=args.iters, lr=args.lr, hidden_size=args.hidden, optimizer=args.optimizer,
                         seed=args.seed, log=print)
    print(f"generated from 'b' by feeding back the argmax (vocabulary i, b, e, l; H={args.hidden}; h_0 = 0):")
    print(result.word)
    return 0 if result.word == "bille" else 1


def register(subparsers) -> None:
    """Add ``scratch`` and its sub-commands to an argparse ``subparsers`` object."""
    scratch = subparsers.add_parser(
        "scratch", help="the NumPy engine: hand-written BPTT, gradient check and the course's lab (no torch)",
        description="The from-scratch NumPy engine: Elman, LSTM and GRU with hand-written backpropagation "
        "through time, checked against finite differences, and the course's lab program.")
    sub = scratch.add_subparsers(dest="scratch_command", metavar="command")
    scratch.set_defaults(func=lambda args: scratch.print_help() or 0)

    p = sub.add_parser("gradcheck", help="check every backward pass against centred finite differences (float64)")
    p.add_argument("--cells", default=None, help="comma-separated cells to check (default: all)")
    p.add_argument("--eps", type=positive_float, default=1e-5, help="finite-difference step (default: 1e-5)")
    p.add_argument("--batch", type=positive_int, default=3, help="batch size of the random data (default: 3)")
    p.add_argument("--steps", type=positive_int, default=5, help="time steps of the random data (default: 5)")
    p.add_argument("--hidden", type=positive_int, default=5, help="hidden units (default: 5)")
    p.add_argument("--seed", type=seed, default=0, help="seed of the weights and data (default: 0)")
    p.set_defaults(func=cmd_gradcheck)

    p = sub.add_parser("train", help="the lab program: train a char-RNN in NumPy, printing loss, speed and samples",
                       description="Train a character-level language model with truncated BPTT in NumPy. "
                       "Prints the smoothed loss and iterations per second every --print-every iterations "
                       "and a generated sample every --sample-every.")
    add_config_flags(p, TrainConfig)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("sweep", help="short trainings over hidden size, sequence length and learning rate",
                       description="Vary one parameter at a time around the base configuration (the train "
                       "flags); write a table (sweep.txt, sweep.json) and a plot (sweep.png) of final loss against each.")
    p.add_argument("--hidden-sizes", default="16,32,64,128", help="hidden sizes to try (default: 16,32,64,128)")
    p.add_argument("--seq-lens", default="5,10,25,50", help="sequence lengths to try (default: 5,10,25,50)")
    p.add_argument("--lrs", default="0.001,0.003,0.01,0.03", help="learning rates to try (default: 0.001,0.003,0.01,0.03)")
    p.add_argument("--chars", type=positive_int, default=400_000, help="training characters per run (default: 400,000)")
    p.add_argument("--out", default=None, help="folder for sweep.txt, sweep.json and sweep.png (default: runs/scratch-sweep-<time>)")
    add_config_flags(p, TrainConfig, skip=("iters", "print_every", "sample_every", "sample_length", "temperature"),
                     defaults={"hidden_size": 64, "val_chars": 10_000})
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("bille", help="the course's toy: an Elman RNN with 3 hidden units learns to spell 'bille'")
    p.add_argument("--iters", type=positive_int, default=300, help="training iterations (default: 300)")
    p.add_argument("--lr", type=positive_float, default=0.1, help="learning rate (default: 0.1)")
    p.add_argument("--hidden", type=positive_int, default=3, help="hidden units (default: 3, the course's)")
    p.add_argument("--optimizer", default="adam", help="optimiser (default: adam)")
    p.add_argument("--seed", type=seed, default=0, help="seed of the initial weights (default: 0)")
    p.set_defaults(func=cmd_bille)
