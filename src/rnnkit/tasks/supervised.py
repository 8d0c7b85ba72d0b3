"""Plumbing shared by the supervised tasks (``classify``, ``forecast``): shuffled mini-batches that are a
pure function of the step (so ``--resume`` continues exactly), presets, resuming, the run folder, and
the trainer's ``TrainConfig`` built from the task's training flags.
"""

from __future__ import annotations

import math
import sys
from dataclasses import asdict
from pathlib import Path

import torch

from rnnkit.cli_args import given
from rnnkit.errors import RnnkitError, unknown_choice
from rnnkit.train.config import GENERIC
from rnnkit.train.checkpoint import load_checkpoint, saved_config
from rnnkit.train.config import RESUMABLE, TrainConfig

class EpochSampler:
    """Indices of the examples in batch ``step``: epoch ``e`` visits all ``n`` examples in a random
    order seeded by ``(seed, e)``, so a batch is a pure function of the step."""

    def __init__(self, n: int, batch_size: int, seed: int):
        if n < 1:
            raise RnnkitError("no training examples")
        self.n, self.batch_size, self.seed = n, min(batch_size, n), seed
        self.steps_per_epoch = math.ceil(n / self.batch_size)
        self._epoch, self._order = -1, None

    def indices(self, step: int) -> torch.Tensor:
        epoch, i = divmod(step, self.steps_per_epoch)
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._epoch, self._order = epoch, torch.randperm(self.n, generator=g)
        return self._order[i * self.batch_size : (i + 1) * self.batch_size]


def split_indices(n: int, fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded random split of ``range(n)``: ``(kept, held_out)`` with ``fraction`` held out."""
    if not 0.0 < fraction < 1.0:
        raise RnnkitError(f"--val-fraction must be between 0 and 1, got {fraction}")
    n_out = max(1, int(round(n * fraction)))
    if n - n_out < 1:
        raise RnnkitError(f"{n} example(s) cannot be split into training and validation; give more data or --val")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return order[n_out:].sort().values, order[:n_out].sort().values


def configs_from_args(args, classes: dict, presets: dict | None = None, preset: str | None = None) -> dict:
    """One config object per entry of ``classes`` (``{"model": ModelCls, ..., "train": Flags}``):
    class defaults, then the preset's values, then the flags the user gave. With ``--resume``, the
    saved configs, where only the resumable training settings may change."""
    values = {key: given(args, cls) for key, cls in classes.items()}
    store_absolute_paths(values.get("data", {}))
    train = values["train"]
    if train.get("resume"):
        if preset:
            raise RnnkitError("--preset cannot be combined with --resume (the run keeps its saved settings)")
        saved = saved_meta(train.get("out"))
        configs = {}
        for key, cls in classes.items():
            stored = asdict(saved_config(cls, saved, "configs", key, where=train.get("out")))  # checked: data
            for name, value in values[key].items():
                if not (key == "train" and name in RESUMABLE) and value != stored.get(name):
                    raise RnnkitError(
                        f"--{name.replace('_', '-')} cannot change when resuming (the run used {stored.get(name)!r});"
                        f" only these may: {', '.join('--' + n.replace('_', '-') for n in sorted(RESUMABLE & set(GENERIC)))}")
            configs[key] = cls(**{**stored, **values[key]})
            for name in ("data", "train", "val"):  # paths from the checkpoint are said before they are read
                if key == "data" and name not in values[key] and stored.get(name) is not None:
                    print(f"resuming: reading --{name} {stored[name]}, named in the checkpoint", file=sys.stderr)
        return configs
    named = {name for part in values.values() for name in part}
    if {"steps", "epochs"} <= named:
        raise RnnkitError("--steps and --epochs both set the length of training; give only one of them")
    chosen = {}
    if preset is not None:
        if preset not in (presets or {}):
            raise unknown_choice("preset", preset, presets or {})
        chosen = presets[preset]
    if "steps" in named:  # a --steps given beats the preset's epochs, as every flag given beats the preset
        chosen = {key: {k: v for k, v in part.items() if k != "epochs"} for key, part in chosen.items()}
    return {key: cls(**{**chosen.get(key, {}), **values[key]}) for key, cls in classes.items()}


def train_from_args(args, classes: dict, train, command: str, presets: dict | None = None,
                    preset: str | None = None) -> dict:
    """A task's ``train`` command: configs from the flags (``configs_from_args``), ``train(model, data,
    train_config)``, then where the checkpoints are and how to score them."""
    c = configs_from_args(args, classes, presets, preset)
    summary = train(c["model"], c["data"], c["train"])
    run = summary["run_dir"]
    print(f"checkpoints in {run}/best and {run}/checkpoint, loss plot {run}/loss.png; "
          f"score it with: rnnkit {command} eval --checkpoint {run}")
    return summary


#: Data settings that name files: stored as absolute paths, so a run's checkpoint works from any folder.
PATH_FIELDS = ("corpus", "data", "train", "val", "test")


def store_absolute_paths(values: dict) -> None:
    """Make the file names among ``values`` (flags given) absolute, in place."""
    import os

    for name in PATH_FIELDS:
        if isinstance(values.get(name), str):
            values[name] = os.path.abspath(os.path.expanduser(values[name]))


def saved_meta(out) -> dict:
    if out is None:
        raise RnnkitError("--resume needs --out DIR, the run folder to continue")
    directory = Path(out) / "checkpoint"
    if not directory.exists() and not directory.with_name("checkpoint.old").exists():
        raise RnnkitError(f"nothing to resume in {out}: it has no checkpoint; drop --resume to start a run")
    _, meta = load_checkpoint(directory)
    if "configs" not in meta:
        raise RnnkitError(f"{out} was not written by this command; it cannot be resumed here")
    return meta


def make_train_config(flags, steps_per_epoch: int, epochs: float = 0.0) -> TrainConfig:
    """The trainer's ``TrainConfig``: ``--epochs`` (when > 0) sets the steps; ``--eval-every 0`` means
    once per epoch and ``--checkpoint-every 0`` at every evaluation."""
    from rnnkit.train.optim import OPTIMIZERS, SCHEDULES

    c = asdict(flags)
    for kind, name, choices in (("optimizer", c["optimizer"], OPTIMIZERS), ("schedule", c["schedule"], SCHEDULES)):
        if name not in choices:
            raise unknown_choice(kind, name, choices)
    if epochs < 0:
        raise RnnkitError(f"--epochs must be >= 0, got {epochs}")
    if epochs > 0:
        c["steps"] = max(1, round(epochs * steps_per_epoch))
    c["eval_every"] = c["eval_every"] or steps_per_epoch
    c["checkpoint_every"] = c["checkpoint_every"] or c["eval_every"]
    for name in ("batch_size", "steps", "eval_every", "checkpoint_every", "log_every"):
        if c[name] < 1:
            raise RnnkitError(f"--{name.replace('_', '-')} must be a positive integer, got {c[name]}")
    if c["warmup"] < 0 or c["patience"] < 0:
        raise RnnkitError("--warmup and --patience must be >= 0")
    if not 0 < c["lr"] <= 1e6:
        raise RnnkitError(f"--lr must be > 0 and at most 1e6, got {c['lr']}")
    return TrainConfig(**c, sample_every=0)
