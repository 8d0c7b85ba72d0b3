"""The course's lab program in NumPy: train a character-level language model with truncated BPTT,
printing the smoothed loss, the speed, and a generated sample as it goes (course-notes §3).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from rnnkit.data.corpus import read_corpus
from rnnkit.data.vocab import CharVocab
from rnnkit.errors import RnnkitError, unknown_choice
from rnnkit.scratch.batching import StreamBatches
from rnnkit.scratch.model import CELLS, CharRNN
from rnnkit.scratch.optim import OPTIMIZERS, clip_by_norm, clip_by_value, make_optimizer

DTYPES = {"float64": np.float64, "float32": np.float32}


def option(default, help: str, type=None, **limits):
    """A config field whose help text (and, where the default is None, type) the CLI flag reuses;
    ``limits`` are its valid values (``low=1``, ``above=0``, ... as in ``rnnkit.train.config.opt``)."""
    return field(default=default, metadata={"help": help, "type": type or type_of(default), **limits})


def type_of(default):
    return str if default is None else type(default)


#: The CLI flag of a field where it differs from the field's name: ``--hidden``, as in every rnnkit command.
FLAG_NAMES = {"hidden_size": "hidden"}


@dataclass
class TrainConfig:
    """The lab program's settings; ``rnnkit scratch train`` has one flag per field (``seq_len`` -> ``--seq-len``)."""

    corpus: str | None = option(None, "UTF-8 text file to learn (default: the embedded corpus, Python's stdlib source)")
    cell: str = option("elman", f"recurrent cell: {', '.join(CELLS)}")
    hidden_size: int = option(100, "hidden units H (min-char-rnn: 100)", low=1)
    seq_len: int = option(25, "characters per stream per update: the chunk, state carried across chunks (min-char-rnn: 25)",
                          low=1)
    bptt: int | None = option(None, "backpropagate at most k steps back, 1 = Elman's SRN (default: the whole chunk)", int,
                              low=1)
    batch_size: int = option(32, "parallel streams B (min-char-rnn: 1)", low=1)
    optimizer: str = option("adam", f"{', '.join(OPTIMIZERS)} (min-char-rnn: adagrad, lr 0.1)")
    lr: float = option(0.01, "learning rate", above=0.0)
    clip_value: float | None = option(5.0, "clip each gradient element to [-v, v], 0 = off (min-char-rnn: 5)",
                                        low=0.0)
    clip_norm: float | None = option(None, "rescale the gradients when their global norm exceeds this (default: off)",
                                       float, low=0.0)
    iters: int = option(2000, "parameter updates", low=1)
    print_every: int = option(100, "iterations between progress lines (smoothed loss, speed); 0 = none", low=0)
    sample_every: int = option(500, "iterations between generated samples; 0 = none", low=0)
    sample_length: int = option(200, "characters per sample", low=1)
    temperature: float = option(1.0, "sampling temperature; 0 = greedy (argmax)", low=0.0)
    val_fraction: float = option(0.1, "tail of the corpus held out for the validation loss; 0 = none", low=0.0,
                                 below=1.0)
    val_chars: int = option(20_000, "at most this many held-out characters are scored", low=1)
    dtype: str = option("float32", "float32 (about 2.5x faster here) or float64 (what the gradient check uses)")
    seed: int = option(0, "seed of the weights and of the samples", low=0, high=2**32 - 1)

    def check(self) -> None:
        if self.cell not in CELLS:
            raise unknown_choice("cell", self.cell, CELLS)
        if self.optimizer not in OPTIMIZERS:
            raise unknown_choice("optimizer", self.optimizer, OPTIMIZERS)
        if self.dtype not in DTYPES:
            raise unknown_choice("dtype", self.dtype, DTYPES)
        for name in ("hidden_size", "seq_len", "batch_size", "iters", "sample_length", "val_chars"):
            if getattr(self, name) < 1:
                raise RnnkitError(f"--{FLAG_NAMES.get(name, name).replace('_', '-')} must be a positive integer, got {getattr(self, name)}")
        for name in ("print_every", "sample_every"):
            if getattr(self, name) < 0:
                raise RnnkitError(f"--{name.replace('_', '-')} must be >= 0 (0 turns it off), got {getattr(self, name)}")
        if self.bptt is not None and self.bptt < 1:
            raise RnnkitError(f"--bptt must be a positive integer (1 = Elman's SRN), got {self.bptt}")
        if not self.lr > 0:
            raise RnnkitError(f"--lr must be positive, got {self.lr}")
        if not 0 <= self.val_fraction < 1:
            raise RnnkitError(f"--val-fraction must lie in [0, 1), got {self.val_fraction}")
        if self.temperature < 0:
            raise RnnkitError(f"--temperature must be >= 0 (0 is greedy), got {self.temperature}")
        for name in ("clip_value", "clip_norm"):  # None or 0: off
            if getattr(self, name) is not None and getattr(self, name) < 0:
                raise RnnkitError(f"--{name.replace('_', '-')} must be positive (0 = off), got {getattr(self, name)}")


@dataclass
class TrainResult:
    iters: int
    chars: int  # characters trained on (B * T per update)
    seconds: float
    smoothed_loss: float  # nats per character, exponential moving average of the training loss
    val_loss: float | None  # nats per character on the held-out tail
    losses: list[float] = field(default_factory=list)  # the training loss of every update
    samples: list[str] = field(default_factory=list)
    model: CharRNN | None = field(default=None, repr=False)
    vocab: CharVocab | None = field(default=None, repr=False)

    @property
    def final_train_loss(self) -> float:
        """Mean training loss over the last 10% of the updates (at least one)."""
        tail = self.losses[-max(1, len(self.losses) // 10):]
        return float(sum(tail) / len(tail))

    @property
    def chars_per_second(self) -> float:
        return self.chars / max(self.seconds, 1e-9)


def split_corpus(text: str, val_fraction: float) -> tuple[str, str]:
    n_val = int(len(text) * val_fraction)
    return (text[: len(text) - n_val], text[len(text) - n_val :]) if n_val >= 2 else (text, "")


def train(config: TrainConfig, log=print, text: str | None = None) -> TrainResult:
    """Train a CharRNN as ``config`` says; ``text`` overrides the corpus (for the sweep, read once)."""
    config.check()
    if text is None:
        text = read_corpus(config.corpus, min_chars=config.seq_len + 1)
    train_text, val_text = split_corpus(text, config.val_fraction)
    vocab = CharVocab.from_text(text)
    ids = np.array(vocab.encode(train_text), dtype=np.int64)
    batches = StreamBatches(ids, config.batch_size, config.seq_len)
    model = CharRNN(config.cell, len(vocab), config.hidden_size, seed=config.seed, dtype=DTYPES[config.dtype])
    opt = make_optimizer(config.optimizer, model.params, config.lr)
    rng = np.random.default_rng(config.seed)
    n_params = sum(p.size for p in model.params.values())
    log(f"{config.cell} H={config.hidden_size}, {n_params:,} parameters, vocabulary {len(vocab)}, {len(train_text):,} training characters; "
        f"B={config.batch_size} T={config.seq_len} bptt={config.bptt or config.seq_len} {config.optimizer} lr={config.lr}")

    smooth = math.log(len(vocab))  # the loss of a uniform guess, min-char-rnn's starting point
    losses, samples, chars = [], [], 0
    state = None
    start = last_time = time.perf_counter()
    last_iter = 0
    for it in range(1, config.iters + 1):
        inputs, targets, reset = batches.batch(it - 1)
        if reset:
            state = None  # a new epoch: the streams start again from h_0 = 0
        with np.errstate(over="ignore", invalid="ignore"):  # a divergence is reported below, in one line
            loss, grads, state = model.loss_and_grads(inputs, targets, state, bptt=config.bptt)
        if not math.isfinite(loss):
            raise RnnkitError(f"training diverged at iteration {it} (loss {loss}); lower --lr or set --clip-norm")
        if config.clip_value:
            clip_by_value(grads, config.clip_value)
        if config.clip_norm:
            clip_by_norm(grads, config.clip_norm)
        opt.step(grads)
        losses.append(loss)
        chars += inputs.size
        smooth = 0.99 * smooth + 0.01 * loss
        if config.print_every and it % config.print_every == 0:
            now = time.perf_counter()
            rate = (it - last_iter) / max(now - last_time, 1e-9)
            log(f"iter {it:6d} | loss {smooth:.4f} | {rate:7.1f} it/s | {rate * inputs.size:10,.0f} chars/s")
            last_time, last_iter = now, it
        if config.sample_every and it % config.sample_every == 0:
            # continue stream 0 from where it stands: its state, primed with its next character
            row0 = tuple(s[:1] for s in state) if model.cell.has_cell_state else state[:1]
            out = model.generate([int(targets[0, -1])], config.sample_length, rng, config.temperature, row0)
            samples.append(vocab.decode(out))
            log(f"----- sample at iteration {it} -----\n{samples[-1]}\n-----")
    seconds = time.perf_counter() - start
    val_loss = None
    if val_text:
        val_ids = np.array(vocab.encode(val_text[: config.val_chars + 1]), dtype=np.int64)
        val_loss = model.stream_loss(val_ids)
    result = TrainResult(config.iters, chars, seconds, smooth, val_loss, losses, samples, model, vocab)
    val = f", validation loss {val_loss:.4f}" if val_loss is not None else ""
    log(f"done: {config.iters} iterations, {chars:,} characters in {seconds:.1f} s "
        f"({result.chars_per_second:,.0f} chars/s); smoothed training loss {smooth:.4f}{val} nats/char")
    return result
