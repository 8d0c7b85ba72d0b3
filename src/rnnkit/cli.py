"""``rnnkit <command>``: train, sample and evaluate character language models, classify texts,
forecast series, run the course's experiments (``rnnkit lab``) and the NumPy engine (``rnnkit
scratch``). Bad input ends in one line, ``error: ...``, and exit code 2.

Torch is imported inside the commands that need it, so ``rnnkit scratch`` stays NumPy-only.
"""

from __future__ import annotations

import argparse
import importlib
import math
import signal
import sys
from dataclasses import asdict

from rnnkit.cli_args import (
    RnnkitParser, add_config_arguments, count, fraction, given, non_negative_float, number, output_file,
    positive_int, seed,
)
from rnnkit import __version__
from rnnkit.errors import RnnkitError, run_command
from rnnkit.train.config import RESUMABLE, ModelConfig, TrainConfig


#: Modules that add their own commands: each has ``register(subparsers)``, imports torch lazily, and
#: sets ``func=handler(args)`` on its parsers.
COMMAND_MODULES = [
    "rnnkit.lab.cli",
    "rnnkit.scratch.cli",
]


#: Tasks whose commands are generated from their declaration (``rnnkit.tasks.<name>.task.TASK``).
TASK_COMMANDS = ["classify", "forecast", "speech", "tag", "translate", "caption"]


def cmd_train(args) -> int:
    from rnnkit.tasks.lm.char_lm import check_configs, saved_configs, train_lm
    from rnnkit.tasks.supervised import store_absolute_paths

    model_given, train_given = given(args, ModelConfig), given(args, TrainConfig)
    store_absolute_paths(train_given)  # --corpus: a checkpoint names its text wherever it is used from
    if train_given.get("resume"):
        model_config, train_config = saved_configs(train_given.get("out"))
        for name, value in {**model_given, **train_given}.items():
            saved = getattr(model_config, name, getattr(train_config, name, None))
            if name not in RESUMABLE and value != saved:
                raise RnnkitError(
                    f"--{name.replace('_', '-')} cannot change when resuming (the run used {saved!r}); "
                    f"only these may: {', '.join('--' + n.replace('_', '-') for n in sorted(RESUMABLE))}"
                )
        train_config = TrainConfig(**{**asdict(train_config), **train_given})
    else:
        model_config, train_config = ModelConfig(**model_given), TrainConfig(**train_given)
    check_configs(model_config, train_config)
    train_lm(model_config, train_config)
    return 0


def cmd_sample(args) -> int:
    from rnnkit.tasks.lm.char_lm import load_lm
    from rnnkit.tasks.lm.generate import generate

    model, vocab, _ = load_lm(args.checkpoint, args.device)
    prime = args.prime if args.prime is not None else ("\n" if "\n" in vocab.index else vocab.chars[0])
    text = generate(model, vocab, prime, args.length, temperature=args.temperature, top_k=args.top_k,
                    top_p=args.top_p, beam=args.beam, seed=args.seed, repetition_penalty=args.repetition_penalty,
                    no_repeat_ngram=args.no_repeat_ngram, progress=True)
    print(text)
    return 0


def same_corpus(a: str | None, b: str | None) -> bool:
    """Whether two ``--corpus`` values name the same text (``None``: the embedded corpus)."""
    from pathlib import Path

    if a is None or b is None:
        return a is None and b is None
    return Path(a).resolve() == Path(b).resolve()


def cmd_eval(args) -> int:
    """By default the run's own validation protocol: the held-out tail of its corpus (``--val-fraction``),
    ``--eval-windows`` windows of ``--eval-window`` characters from a zero state, the same windows as
    in training; so it reproduces the run's validation loss. Each flag given replaces one part."""
    import torch

    from rnnkit.data.batching import random_windows
    from rnnkit.data.corpus import read_corpus
    from rnnkit.tasks.lm.char_lm import load_lm, stream_loss, window_loss
    from rnnkit.train.checkpoint import saved_config
    from rnnkit.train.config import TrainConfig

    model, vocab, meta = load_lm(args.checkpoint, args.device)
    run = asdict(saved_config(TrainConfig, meta, "train_config", where=args.checkpoint)  # checked, as data
                 if "train_config" in meta else TrainConfig())  # the run's settings (defaults if absent)
    corpus = args.corpus if args.corpus is not None else run["corpus"]
    if args.corpus is None and corpus is not None:  # a path from the checkpoint: said before it is read
        print(f"--corpus not given: reading {corpus}, the corpus named in the checkpoint", file=sys.stderr)
    own = same_corpus(corpus, run["corpus"])
    last = args.last if args.last is not None else (run["val_fraction"] if own else None)
    windows = args.windows if args.windows is not None else run["eval_windows"]
    window = args.window if args.window is not None else run["eval_window"]
    if last is not None and not 0 < last <= 1:
        raise RnnkitError(f"--last must be a fraction in (0, 1], got {last}")
    text = read_corpus(corpus, min_chars=2)
    what = corpus or "the embedded corpus"
    if last is not None and last < 1:
        n = max(1, int(len(text) * last))  # as training splits it: the last n characters are held out
        what += f", its last {last:g} ({n:,} characters)"
        text = text[len(text) - n:]
    ids = torch.tensor(vocab.encode(text, "the evaluation corpus"), dtype=torch.long)
    if len(ids) < 2:
        raise RnnkitError(f"{what} has {len(ids)} character(s); scoring needs at least 2 (a longer text or a larger --last)")
    if windows:
        window = min(window, len(ids) - 1)
        how = f"{windows} random {window}-character windows, each from a zero state"
        if own and last == run["val_fraction"] and windows == run["eval_windows"] and args.seed == 1234 \
                and window == min(run["eval_window"], len(ids) - 1):
            how += ": the run's validation protocol"
        print(f"scoring {what}: {how}", file=sys.stderr)
        loss = window_loss(model, random_windows(ids, windows, window, seed=args.seed), progress=True)
    else:
        how = f"the whole text, {len(ids):,} characters, state carried"
        print(f"scoring {what}: {how}", file=sys.stderr)
        loss = stream_loss(model, ids, args.batch_size, progress=True)
    print(f"loss {loss:.4f} nats/char, {loss / math.log(2):.2f} bpc ({what}; {how})")
    return 0


def cmd_inspect(args) -> int:
    from pathlib import Path

    from rnnkit.data.corpus import read_corpus
    from rnnkit.tasks.lm.char_lm import load_lm
    from rnnkit.tasks.lm.inspect import activations, rank_units, render_html, render_terminal

    model, vocab, _ = load_lm(args.checkpoint, "cpu")
    text = args.text if args.text is not None else read_corpus(args.file, min_chars=2)[: args.chars]
    acts = activations(model, vocab.encode(text, "the text to inspect"))
    if args.rank:
        print(f"units whose activation best follows {args.rank!r} (Pearson r over {len(text)} characters):")
        for layer, unit, r in rank_units(acts, text, args.rank, args.top):
            print(f"  layer {layer} unit {unit}: r = {r:+.3f}")
        layer, unit, _ = rank_units(acts, text, args.rank, 1)[0]
    else:
        layer, unit = args.layer, args.unit
    if not (0 <= layer < len(acts) and 0 <= unit < acts[layer].shape[1]):
        raise RnnkitError(f"no unit {unit} in layer {layer}: the model has {len(acts)} layer(s) of {acts[0].shape[1]} units")
    values = acts[layer][:, unit]
    print(f"layer {layer} unit {unit} over the text (blue negative, red positive):")
    print(render_terminal(text, values))
    if args.html:
        from rnnkit.train.files import write_text

        write_text(args.html, render_html(text, values, f"layer {layer} unit {unit}"))
        print(f"wrote {args.html}")
    return 0


def cmd_cells(args) -> int:
    from rnnkit.cells.equations import describe_cells

    print(describe_cells())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = RnnkitParser(prog="rnnkit", description=__doc__.split("\n\n")[0].replace("``", ""))
    parser.add_argument("--version", action="version", version=f"rnnkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="command")

    p = sub.add_parser("train", help="train a character-level language model (no flags: an LSTM on Python's own source)",
                       description="Train a character-level language model with truncated BPTT. With no flags: a "
                       "2-layer LSTM on the embedded corpus (Python's standard-library source).")
    add_config_arguments(p, ModelConfig, "model")
    add_config_arguments(p, TrainConfig, "training")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("sample", help="generate text from a trained language model",
                       description="Generate text from a trained language model. For open-ended text, sample "
                       "(the default; e.g. --temperature 0.8 --top-p 0.95). Greedy decoding (--temperature 0) and beam "
                       "search (--beam 5) look for the most probable continuation, which on a character model loops "
                       "(self._file.self._file...) or fills up with spaces; --no-repeat-ngram 12 stops that.")
    p.add_argument("--checkpoint", required=True, help="run folder or checkpoint folder")
    p.add_argument("--prime", default=None, help="text to start from (default: a newline)")
    p.add_argument("--length", type=positive_int, default=500, help="characters to generate (default: 500)")
    p.add_argument("--temperature", type=non_negative_float, default=1.0,
                   help="sampling temperature: below 1 more conservative, above 1 more varied; 0 always takes the most "
                   "probable character (greedy decoding) (default: 1.0)")
    p.add_argument("--top-k", type=positive_int, default=None, help="sample only among the k most probable characters")
    p.add_argument("--top-p", type=fraction, default=None,
                   help="nucleus sampling: only the smallest set of characters whose probability reaches p")
    p.add_argument("--repetition-penalty", type=number(float, low=1), default=1.0,
                   help="multiply the log-probability of every character already in the text by this (CTRL's "
                   "penalty; 1: off); on characters it mostly flattens the distribution (default: 1.0)")
    p.add_argument("--no-repeat-ngram", type=count, default=0,
                   help="never repeat a run of N characters already in the text (the prime included): stops the "
                   "loops of greedy and beam search; 8 to 20 suits code and prose (default: 0, off)")
    p.add_argument("--beam", type=positive_int, default=1, help="beam width; above 1 runs beam search instead of sampling")
    p.add_argument("--seed", type=seed, default=None, help="random seed, for a reproducible sample")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (default: cpu)")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("eval", help="loss and bits per character of a trained model on a text",
                       description="Loss and bits per character of a trained language model. With no flags it repeats "
                       "the run's validation: the held-out tail of its corpus, in the run's random windows.")
    p.add_argument("--checkpoint", required=True, help="run folder or checkpoint folder")
    p.add_argument("--corpus", default=None, help="UTF-8 text file to score (default: the run's own corpus)")
    p.add_argument("--windows", type=count, default=None,
                   help="score N random windows, each from a zero state (nanoGPT's protocol); 0 scores the whole "
                   "text with the state carried (default: the run's --eval-windows)")
    p.add_argument("--window", type=positive_int, default=None,
                   help="characters per window with --windows (default: the run's --eval-window)")
    p.add_argument("--last", type=fraction, default=None,
                   help="score only the last fraction of the text; 1: all of it (default: on the run's own corpus its "
                   "--val-fraction, the held-out validation split; on another text 1)")
    p.add_argument("--batch-size", type=positive_int, default=16, help="parallel streams when scoring the whole text")
    p.add_argument("--seed", type=seed, default=1234, help="seed of the window positions (default: 1234)")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (default: cpu)")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("inspect", help="show what one cell of a trained language model responds to",
                       description="Colour a text by the activation of one unit (the memory cell c_t of an LSTM), "
                       "or find the units that best follow a property of the text (course-notes §9).")
    p.add_argument("--checkpoint", required=True, help="run folder or checkpoint folder")
    p.add_argument("--text", default=None, help="text to read (default: the start of --file)")
    p.add_argument("--file", default=None, help="text file to read from (default: the embedded corpus)")
    p.add_argument("--chars", type=number(int, low=1, high=10_000_000), default=2000, help="characters of --file to read (default: 2000)")
    p.add_argument("--layer", type=count, default=0, help="layer of the unit to show (default: 0)")
    p.add_argument("--unit", type=count, default=0, help="unit to show (default: 0)")
    p.add_argument("--rank", default=None,
                   help="find the units that follow a property instead: quotes, single-quotes, parentheses, "
                   "brackets, line-position")
    p.add_argument("--top", type=positive_int, default=5, help="units to list with --rank (default: 5)")
    p.add_argument("--html", type=output_file, default=None, help="also write the coloured text to this HTML file")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("cells", help="list the recurrent cells and their equations")
    p.set_defaults(func=cmd_cells)

    from rnnkit.tasks.cli import register_task
    from rnnkit.tasks.runner import get_task

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
