"""``TrainConfig``, the trainer's settings, and ``training_flags``, a task's training flags made from it.

Each field's ``help`` is the CLI flag's help text: the flags are generated from these classes, one to
one (``--batch-size`` is ``batch_size``). Pure Python, no torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, make_dataclass


from rnnkit.layers.config import CELL_NAMES, DROPOUT, ENGINE_HELP, ENGINE_NAMES, INIT_NAMES  # noqa: F401
from rnnkit.schema import opt, registry

OPTIMIZER_NAMES, SCHEDULE_NAMES = registry("rnnkit.train.optim", "OPTIMIZERS"), registry("rnnkit.train.optim", "SCHEDULES")
FRACTION = dict(above=0.0, below=1.0)  # an open interval: some of the data, never none or all


@dataclass
class TrainConfig:
    batch_size: int = opt(32, "parallel streams per batch", low=1)
    steps: int = opt(2000, "optimisation steps to run", low=1)
    time: float = opt(0.0, "stop after this many seconds of training (0: no time limit)", low=0.0)
    lr: float = opt(2e-3, "peak learning rate", above=0.0, high=1e6)
    optimizer: str = opt("adam", "optimiser: sgd, momentum, rmsprop, adagrad, adam, adamw", choices=OPTIMIZER_NAMES)
    momentum: float = opt(0.9, "momentum for sgd/momentum and rmsprop", low=0.0, below=1.0)
    weight_decay: float = opt(0.0, "weight decay (decoupled for adamw)", low=0.0)
    schedule: str = opt("cosine", "learning-rate schedule after warm-up: constant, cosine, linear",
                        choices=SCHEDULE_NAMES)
    warmup: int = opt(100, "steps of linear learning-rate warm-up", low=0)
    clip: float = opt(1.0, "clip the gradient's global norm to this value (0: off)", low=0.0)
    clip_value: float = opt(0.0, "clip each gradient component to [-v, v] (0: off)", low=0.0)
    eval_every: int = opt(200, "evaluate on the validation split every N steps", low=1)
    sample_every: int = opt(500, "print a generated sample every N steps (0: never)", low=0)
    patience: int = opt(0, "early stopping: stop after N evaluations without improvement (0: off)", low=0)
    checkpoint_every: int = opt(500, "write a checkpoint every N steps (and always at the end)", low=1)
    log_every: int = opt(20, "log the training loss every N steps", low=1)
    device: str = opt("auto", "cpu, cuda, cuda:N, or auto (cuda if available)")
    amp: bool = opt(True, "mixed precision (bfloat16 autocast) on a GPU; ignored on a CPU")
    seed: int = opt(0, "random seed (weights, dropout, sampling)", low=0, high=2**32 - 1)
    out: str | None = opt(None, "run folder for metrics, plots and checkpoints (default: runs/lm-<time>)")
    resume: bool = opt(False, "continue the run in --out from its last checkpoint")
    threads: int = opt(1, "CPU threads for torch; 1 is the fastest on a shared machine (benchmarks/threads.py), "
                       "0 is torch's default, one per core", low=0, high=4096)


#: Training settings that may change when a run is resumed; anything else must match the checkpoint.
RESUMABLE = {"steps", "time", "device", "eval_every", "sample_every", "checkpoint_every", "log_every",
             "patience", "resume", "out", "threads", "amp"}


#: The fields of ``TrainConfig`` that every task offers as flags (a task offers the others, ``sample_every``
#: and ``amp``, by naming them in ``training_flags``'s overrides).
GENERIC = ("batch_size", "steps", "time", "lr", "optimizer", "momentum", "weight_decay", "schedule", "warmup",
           "clip", "clip_value", "eval_every", "patience", "checkpoint_every", "log_every", "device", "seed",
           "out", "resume", "threads")


#: Help texts of the generic training flags where the language model's say something else.
TASK_HELP = {
    "batch_size": "examples per mini-batch (texts, windows, sentence pairs, ...)",
    "out": "run folder for metrics, plots and checkpoints (default: runs/<task>-<time>)",
}


def training_flags(name: str, **overrides):
    """A dataclass of the generic ``TrainConfig`` fields, for ``add_config_arguments``; ``overrides``
    maps a field to a new default, or to ``(default, help)`` or ``(default, help, {valid range})``
    (``{"allow_zero": True}`` where 0 gets a meaning); a field outside ``GENERIC`` named there is offered
    too (the language model's ``sample_every``). The fields keep ``TrainConfig``'s ranges."""
    task = name.removesuffix("TrainFlags").lower()  # ClassifyTrainFlags: classify, its run folders' prefix
    spec = []
    for f in fields(TrainConfig):
        if f.name not in GENERIC and f.name not in overrides:
            continue
        default, help_text, meta = f.default, f.metadata["help"], dict(f.metadata)
        help_text = TASK_HELP.get(f.name, help_text).replace("<task>", task)
        if f.name in overrides:
            new = overrides[f.name]
            default, help_text, extra = (*new, {})[:3] if isinstance(new, tuple) else (new, help_text, {})
            meta.update(extra)
        spec.append((f.name, f.type, field(default=default, metadata={**meta, "help": help_text})))
    return make_dataclass(name, spec)
