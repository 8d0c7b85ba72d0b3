"""The character-level language model task: read a corpus, split it, train, evaluate, reload.

Validation follows nanoGPT's protocol: the last ``val_fraction`` of the text is held out, and the
validation loss is the mean next-character cross-entropy (nats per character) over random windows
of ``eval_window`` characters, each starting from a zero state.
"""

from __future__ import annotations

import math
import sys
from dataclasses import asdict

import torch
from torch.nn import functional as F

from rnnkit.data.batching import StreamBatches, random_windows, split_streams
from rnnkit.data.corpus import read_corpus
from rnnkit.data.vocab import CharVocab
from rnnkit.errors import RnnkitError
from rnnkit.models.language_model import CharLM
from rnnkit.train.checkpoint import load_checkpoint, load_weights, run_folder, saved_config, saved_vocab
from rnnkit.train.config import ModelConfig, TrainConfig
from rnnkit.train.files import lock_run
from rnnkit.train.memory import ACTIVATION_FLOATS_PER_UNIT, build_within_memory
from rnnkit.train.trainer import Trainer, resolve_device
from rnnkit.runtime import set_threads

TASK = "char-lm"


@torch.no_grad()
def window_loss(model: CharLM, windows: torch.Tensor, batch_size: int = 64, progress: bool = False) -> float:
    """Mean cross-entropy (nats/char) of ``windows (N, L + 1)``, each scored from a zero state;
    ``progress``: a bar in characters/s on a terminal."""
    from rnnkit.runtime import progress as progress_bar

    device = next(model.parameters()).device
    total, count = 0.0, 0
    with progress_bar(total=windows[:, 1:].numel(), unit="char", desc="windows", enabled=progress) as bar:
        for chunk in windows.split(batch_size):
            chunk = chunk.to(device)
            logits, _, _ = model(chunk[:, :-1])  # (b, L, V)
            total += float(F.cross_entropy(logits.flatten(0, 1).float(), chunk[:, 1:].flatten(), reduction="sum"))
            count += chunk[:, 1:].numel()
            bar.update(chunk[:, 1:].numel())
    return total / count


@torch.no_grad()
def stream_loss(model: CharLM, ids: torch.Tensor, batch_size: int = 16, seq_len: int = 256,
                progress: bool = False) -> float:
    """Mean cross-entropy of a whole text, read as ``batch_size`` streams with the state carried;
    ``progress``: a bar in characters/s on a terminal."""
    from rnnkit.runtime import progress as progress_bar

    device = next(model.parameters()).device
    streams = split_streams(ids, batch_size).to(device)  # (B, N)
    state, total, count = None, 0.0, 0
    with progress_bar(total=streams[:, 1:].numel(), unit="char", desc="text", enabled=progress) as bar:
        for start in range(0, streams.shape[1] - 1, seq_len):
            inputs = streams[:, start : start + seq_len]
            targets = streams[:, start + 1 : start + seq_len + 1]
            inputs = inputs[:, : targets.shape[1]]
            logits, _, state = model(inputs, state=state)
            total += float(F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten(), reduction="sum"))
            count += targets.numel()
            bar.update(targets.numel())
    return total / count


def split_corpus(text: str, vocab: CharVocab, val_fraction: float) -> tuple[torch.Tensor, torch.Tensor]:
    if not 0.0 < val_fraction < 1.0:
        raise RnnkitError(f"--val-fraction must be between 0 and 1, got {val_fraction}")
    ids = torch.tensor(vocab.encode(text, "corpus"), dtype=torch.long)
    n_val = max(1, int(len(ids) * val_fraction))
    return ids[:-n_val], ids[-n_val:]  # first 90% train, last 10% validation


def train_lm(model_config: ModelConfig, config: TrainConfig, log=print) -> dict:
    """Train a character-level language model as configured; returns the run's summary."""
    torch.manual_seed(config.seed)
    set_threads(config.threads)  # 0: torch's default
    run_dir = run_folder(config.out, "lm", config.resume, create=False)  # made once the data is known good
    if config.resume:
        _, meta = load_checkpoint(run_dir / "checkpoint")
        vocab = CharVocab(saved_vocab(meta, "vocab", run_dir / "checkpoint", chars=True))
        if config.corpus is not None:  # a path from the checkpoint: said before it is read
            print(f"resuming: reading the corpus named in the checkpoint, {config.corpus}", file=sys.stderr)
    text = read_corpus(config.corpus, min_chars=config.seq_len + 2)
    if not config.resume:
        vocab = CharVocab.from_text(text)
    train_ids, val_ids = split_corpus(text, vocab, config.val_fraction)
    data = StreamBatches(train_ids, config.batch_size, config.seq_len, config.state_reset, config.seed)
    windows = random_windows(val_ids, config.eval_windows, min(config.eval_window, len(val_ids) - 1))
    model = build_within_memory(lambda: CharLM(len(vocab), model_config), resolve_device(config.device),
                                activations=ACTIVATION_FLOATS_PER_UNIT * config.batch_size * config.seq_len
                                * model_config.hidden * model_config.layers)
    meta = {"task": TASK, "model_config": asdict(model_config), "vocab": "".join(vocab.chars)}
    prime = "\n" if "\n" in vocab.index else vocab.chars[0]

    def show_sample(model, step):
        from rnnkit.tasks.lm.generate import generate

        text = generate(model, vocab, prime, config.sample_length, temperature=0.8, seed=config.seed + step)
        return f"--- sample at step {step} ---\n{text}\n---"

    lock_run(run_dir)  # makes the folder (one line if it cannot) and refuses a second run on it
    def evaluate(model):
        loss = window_loss(model, windows)
        return {"val_loss": loss, "val_bpc": loss / math.log(2)}

    trainer = Trainer(model, config, data, evaluate, run_dir, meta, show_sample)
    if config.resume:
        trainer.resume()
        log(f"resuming {run_dir} at step {trainer.step}")
    log(f"corpus: {config.corpus or 'embedded (Python standard library source)'}: {len(train_ids):,} training and "
        f"{len(val_ids):,} validation characters, vocabulary {len(vocab)}")
    log(f"model: {model_config.layers}-layer {model_config.cell}, hidden {model_config.hidden}, "
        f"{model.num_parameters():,} parameters, engine {model.rnn.layers[0].engine_used}, device {trainer.device}")
    summary = trainer.fit()
    summary["run_dir"] = str(run_dir)
    if summary["val_loss"] is not None:
        log(f"done ({summary['stopped']}) at step {summary['step']} after {summary['elapsed']:.0f} s: validation loss "
            f"{summary['val_loss']:.4f} nats/char ({summary['val_loss'] / math.log(2):.3f} bpc), best "
            f"{summary['best_val_loss']:.4f}; checkpoints in {run_dir}/checkpoint and {run_dir}/best")
    return summary


def load_lm(path, device: str = "cpu") -> tuple[CharLM, CharVocab, dict]:
    """A trained language model from a checkpoint (any device it was trained on), in eval mode."""
    weights, meta = load_checkpoint(path, task=TASK, what="a character language model")
    model_config = saved_config(ModelConfig, meta, "model_config", where=path)
    vocab = CharVocab(saved_vocab(meta, "vocab", path, chars=True))
    model = build_within_memory(lambda: CharLM(len(vocab), model_config), "cpu", training=False)
    load_weights(model, weights, path)
    return model.to(resolve_device(device)).eval(), vocab, meta


def check_configs(model: ModelConfig, train: TrainConfig) -> None:
    """Fail fast, before reading any data, on names and numbers that cannot work."""
    from rnnkit.cells import CELLS, INITS
    from rnnkit.errors import unknown_choice
    from rnnkit.layers import ENGINES
    from rnnkit.train.optim import OPTIMIZERS, SCHEDULES

    for kind, name, choices in (("cell", model.cell, CELLS), ("initialisation", model.init, INITS),
                                ("engine", model.engine, ENGINES), ("optimizer", train.optimizer, OPTIMIZERS),
                                ("schedule", train.schedule, SCHEDULES)):
        if name not in choices:
            raise unknown_choice(kind, name, choices)
    for name, value in (("--hidden", model.hidden), ("--layers", model.layers), ("--seq-len", train.seq_len),
                        ("--batch-size", train.batch_size), ("--steps", train.steps),
                        ("--eval-every", train.eval_every), ("--eval-windows", train.eval_windows),
                        ("--checkpoint-every", train.checkpoint_every), ("--log-every", train.log_every)):
        if value < 1:
            raise RnnkitError(f"{name} must be a positive integer, got {value}")
    if not 0 < train.lr <= 1e6:
        raise RnnkitError(f"--lr must be > 0 and at most 1e6, got {train.lr}")
    resolve_device(train.device)


def saved_configs(out: str | None) -> tuple[ModelConfig, TrainConfig]:
    """The configurations a run was started with, from its last checkpoint (for ``--resume``)."""
    if out is None:
        raise RnnkitError("--resume needs --out DIR, the run folder to continue")
    directory = run_folder(out, "lm", resume=True, create=False) / "checkpoint"
    _, meta = load_checkpoint(directory)
    return (saved_config(ModelConfig, meta, "model_config", where=directory),
            saved_config(TrainConfig, meta, "train_config", where=directory))
