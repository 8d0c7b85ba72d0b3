"""The lab's question, "what does each parameter change?": short trainings over hidden size, sequence
length and learning rate, one parameter at a time around a base configuration, with a table and a plot
of the final loss against each parameter.

Every run trains on the same number of characters (so a shorter sequence gets more updates, as it would
in the same time), from the same seed, on the same text.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from rnnkit.data.corpus import read_corpus
from rnnkit.errors import RnnkitError, unknown_choice
from rnnkit.train.files import make_folder
from rnnkit.scratch.train import TrainConfig, train

#: the parameters a sweep may vary -> label on the plot
PARAMETERS = {"hidden_size": "hidden size H", "seq_len": "sequence length T", "lr": "learning rate"}


@dataclass
class SweepRow:
    parameter: str
    value: float
    iters: int
    chars: int
    seconds: float
    train_loss: float  # nats/char, mean over the last 10% of the updates
    val_loss: float | None  # nats/char on the held-out tail


def sweep(base: TrainConfig, grid: dict[str, list], chars: int, log=print, text: str | None = None) -> list[SweepRow]:
    """Train ``base`` with each value of each parameter in ``grid`` (the others at their base value)."""
    for name, values in grid.items():
        if name not in PARAMETERS:
            raise unknown_choice("sweep parameter", name, PARAMETERS)
        if not values:
            raise RnnkitError(f"the sweep over {name} has no values")
    if chars < 1:
        raise RnnkitError(f"--chars must be a positive integer, got {chars}")
    base.check()
    if text is None:
        longest = max([base.seq_len, *grid.get("seq_len", [])])
        text = read_corpus(base.corpus, min_chars=longest + 1)
    done: dict[tuple, SweepRow] = {}  # the base configuration appears once per parameter: train it once
    rows = []
    for name, values in grid.items():
        for value in values:
            config = replace(base, **{name: value}, print_every=0, sample_every=0)
            config.iters = max(1, chars // (config.batch_size * config.seq_len))
            key = tuple(sorted(asdict(config).items()))
            if key not in done:
                r = train(config, log=lambda *_: None, text=text)
                done[key] = SweepRow(name, value, r.iters, r.chars, r.seconds, r.final_train_loss, r.val_loss)
            row = replace(done[key], parameter=name, value=value)
            rows.append(row)
            log(format_row(row))
    return rows


def table_header() -> str:
    return (f"{'parameter':12s} {'value':>8s} {'iters':>6s} {'chars':>10s} {'seconds':>7s} "
            f"{'train loss':>10s} {'held-out':>9s}")


def format_row(row: SweepRow) -> str:
    val = f"{row.val_loss:.4f}" if row.val_loss is not None else "-"
    return (f"{row.parameter:12s} {row.value:>8g} {row.iters:6d} {row.chars:10,d} {row.seconds:7.1f} "
            f"{row.train_loss:10.4f} {val:>9s}")


def plot(rows: list[SweepRow], path: Path, title: str = "") -> None:
    """One panel per parameter: final training and held-out loss against its value."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(r.parameter for r in rows))
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.4), squeeze=False, sharey=True)
    for ax, name in zip(axes[0], names):
        sel = sorted((r for r in rows if r.parameter == name), key=lambda r: r.value)
        xs = [r.value for r in sel]
        ax.plot(xs, [r.train_loss for r in sel], "s--", label="training")
        if all(r.val_loss is not None for r in sel):
            ax.plot(xs, [r.val_loss for r in sel], "o-", label="held-out")
        if name in ("lr", "hidden_size"):
            ax.set_xscale("log")
        ax.set_xticks(xs, [f"{x:g}" for x in xs])
        ax.minorticks_off()
        ax.set_xlabel(PARAMETERS[name])
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("final loss (nats/char)")
    axes[0][0].legend()
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    from rnnkit.train.files import save_figure

    save_figure(fig, path, dpi=80)  # atomic: no 0-byte file on a full disk


def write_outputs(rows: list[SweepRow], base: TrainConfig, chars: int, out: Path) -> tuple[Path, Path]:
    """``sweep.txt`` (the printed table), ``sweep.json`` (base configuration and rows) and ``sweep.png``."""
    make_folder(out)
    from rnnkit.train.files import write_text

    write_text(out / "sweep.txt", "\n".join([table_header(), *map(format_row, rows)]) + "\n")
    table = out / "sweep.json"
    unused = ("iters", "print_every", "sample_every", "sample_length", "temperature")  # set per run, or unused
    settings = {k: v for k, v in asdict(base).items() if k not in unused}
    write_text(table, json.dumps({"base": settings, "chars_per_run": chars, "rows": [asdict(r) for r in rows]},
                                 indent=1))
    figure = out / "sweep.png"
    plot(rows, figure, f"{base.cell}, B={base.batch_size}, {base.optimizer}; base H={base.hidden_size}, "
                       f"T={base.seq_len}, lr={base.lr}; {chars:,} characters per run")
    return table, figure
