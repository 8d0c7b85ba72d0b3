"""Training a model of the course on the adding or copy-memory task, against the task's baseline.

Batches are generated from (seed, step), so runs are reproducible and resumable like any other; the
test set is fixed. Training goes through the one trainer of ``rnnkit.train``, evaluated on the test set
every ``eval_every`` steps (the curve of test loss against steps), and stops early once the task is
solved: test loss below ``solved_fraction`` (1%) of the baseline.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from rnnkit.data.batching import step_generator
from rnnkit.errors import unknown_choice
from rnnkit.lab.gradient_flow import ModelSpec
from rnnkit.lab.models import SequenceTaskModel
from rnnkit.lab.tasks import ADDING_BASELINE_MSE, COPY_DELIMITER, adding_problem, copy_baseline, copy_memory
from rnnkit.train.config import TrainConfig
from rnnkit.train.trainer import Diverged, Trainer

TASKS = ("adding", "copy")
SOLVED_FRACTION = 0.01  # a run is solved when its test loss falls below 1% of the baseline


class UntilSolved(Trainer):
    """The one trainer, stopped after the first evaluation whose loss is below ``target``
    (``solved_at``: that step; None if it never was)."""

    def __init__(self, *args, target: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.target, self.solved_at = target, None

    def run_evaluation(self, bar):
        val, improved = super().run_evaluation(bar)
        if self.target is not None and val < self.target and self.solved_at is None:
            self.solved_at = self.step
            self.stop_requested = True  # the loop saves a checkpoint and ends after this step
        return val, improved


def make_task(name: str):
    """``(generate(batch, T, generator), baseline(T), model_kwargs)`` for a task name."""
    if name == "adding":
        return adding_problem, lambda T: ADDING_BASELINE_MSE, dict(input_size=2, output_size=1, many_to_one=True)
    if name == "copy":
        return copy_memory, copy_baseline, dict(input_size=COPY_DELIMITER + 1, output_size=COPY_DELIMITER + 1,
                                                many_to_one=False, one_hot=COPY_DELIMITER + 1)
    raise unknown_choice("task", name, TASKS)


class TaskBatches:
    """``batch(step) -> (inputs, targets, reset)``: a fresh batch per step, drawn from (seed, step)."""

    stateful = False

    def __init__(self, generate, batch_size: int, T: int, seed: int):
        self.generate, self.batch_size, self.T, self.seed = generate, batch_size, T, seed

    def batch(self, step: int):
        g = step_generator(self.seed, step)
        inputs, targets = self.generate(self.batch_size, self.T, g)
        return inputs, targets, True


@dataclass
class TaskResult:
    task: str
    model: str
    T: int
    truncate: int
    steps: int
    test_loss: float
    baseline: float
    diverged_at: int | None = None
    clipped_steps: int = 0
    solved_at: int | None = None
    seconds: float = 0.0  # wall-clock time of the training
    cpu_seconds: float = 0.0  # CPU time of this process (what a shared machine does not inflate)
    engine: str = ""
    lr: float = 0.0
    curve: list = field(default_factory=list)  # [(step, test loss)] at every evaluation
    stopped: str = "steps"  # why the run ended: steps (the budget), solved, interrupted (Ctrl-C), diverged

    @property
    def ratio(self) -> float:
        return self.test_loss / self.baseline


def train_on_task(model, generate, T: int, run_dir, meta: dict, steps: int = 1000, batch_size: int = 32,
                  lr: float = 1e-3, optimizer: str = "adam", clip: float = 1.0, seed: int = 0, test_size: int = 512,
                  eval_every: int = 0, stop_below: float | None = None, verbose: bool = False):
    """Train ``model`` on fresh batches of ``generate(batch, T, generator)`` with the one trainer,
    evaluating on a fixed test set every ``eval_every`` steps (0: ten times per run) and stopping at the
    first evaluation below ``stop_below``; returns ``(test loss, trainer, step at which it diverged or
    None)``. ``trainer.solved_at`` is the step at which it stopped below the target, if it did."""
    test_inputs, test_targets = generate(test_size, T, torch.Generator().manual_seed(10_000 + seed))

    def evaluate(m):
        return {"val_loss": float(m(test_inputs, test_targets)[1])}

    config = TrainConfig(steps=steps, batch_size=batch_size, lr=lr, optimizer=optimizer, clip=clip, warmup=0,
                         schedule="constant", eval_every=eval_every or max(1, steps // 10), checkpoint_every=steps,
                         log_every=max(1, steps // 50), sample_every=0, seed=seed, device="cpu")
    torch.manual_seed(seed)
    trainer = UntilSolved(model, config, TaskBatches(generate, batch_size, T, seed), evaluate, run_dir,
                          {**meta, "T": T, "train_config": asdict(config)}, target=stop_below)
    trainer.verbose = verbose
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    diverged_at, trainer.stopped = None, "diverged"
    try:
        trainer.fit()
        # "interrupted" (Ctrl-C) unless the stop was the solved target's
        trainer.stopped = "solved" if trainer.solved_at else "interrupted" if trainer.stop_requested else "steps"
    except Diverged as e:
        diverged_at = e.step
    model.eval()
    with torch.no_grad():
        test = evaluate(model)["val_loss"] if diverged_at is None else float("nan")
    return test, trainer, diverged_at


def run_task(task: str, spec_text: str, T: int, hidden: int = 64, truncate: int = 0, seed: int = 0,
             out: str | Path = "runs/lab", solved_fraction: float | None = SOLVED_FRACTION,
             **train_options) -> TaskResult:
    """Train ``spec_text`` (e.g. ``lstm``, ``irnn``, ``irnn:lr=1e-4``) on ``task`` with sequence length T;
    test loss vs baseline, stopping once below ``solved_fraction`` of the baseline (None: never).
    ``train_options``: steps, batch_size, lr, optimizer, clip, test_size, eval_every, verbose (see
    train_on_task); a spec's own ``lr=`` wins over ``lr``."""
    generate, baseline, model_kwargs = make_task(task)
    spec = ModelSpec.parse(spec_text)
    if spec.lr is not None:
        train_options["lr"] = spec.lr
    stop_below = solved_fraction * baseline(T) if solved_fraction else None
    torch.manual_seed(seed)
    model = SequenceTaskModel(spec.cell, hidden=hidden, truncate=truncate, init=spec.init,
                              spectral_radius=spec.radius, forget_bias=spec.forget_bias, **model_kwargs)
    run_dir = Path(out) / f"{task}-T{T}-{spec_text.replace(':', '_')}{f'-k{truncate}' if truncate else ''}"
    cpu = time.process_time()
    test, trainer, diverged_at = train_on_task(model, generate, T, run_dir, {"task": f"lab-{task}", "model": spec_text},
                                               seed=seed, stop_below=stop_below, **train_options)
    curve = [(r["step"], r["val_loss"]) for r in trainer.metrics.read() if "val_loss" in r]
    return TaskResult(task, spec_text, T, truncate, trainer.step, test, baseline(T), diverged_at, trainer.clipped,
                      trainer.solved_at, trainer.elapsed, time.process_time() - cpu, model.rnn.layers[0].engine_used,
                      trainer.config.lr, curve, trainer.stopped)
