"""Training a model of the course on the adding or copy-memory task, against the task's baseline.

Batches are generated from (seed, step), so runs are reproducible and resumable like any other; the
test set is fixed. Training goes through the one trainer of ``rnnkit.train``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from rnnkit.errors import unknown_choice
from rnnkit.lab.gradient_flow import ModelSpec
from rnnkit.lab.models import SequenceTaskModel
from rnnkit.lab.tasks import ADDING_BASELINE_MSE, COPY_DELIMITER, adding_problem, copy_baseline, copy_memory
from rnnkit.train.config import TrainConfig
from rnnkit.train.trainer import Diverged, Trainer

TASKS = ("adding", "copy")


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
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + step)
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

    @property
    def ratio(self) -> float:
        return self.test_loss / self.baseline


def train_on_task(model, generate, T: int, run_dir, meta: dict, steps: int = 1000, batch_size: int = 32,
                  lr: float = 1e-3, optimizer: str = "adam", clip: float = 1.0, seed: int = 0, test_size: int = 512,
                  verbose: bool = False):
    """Train ``model`` on fresh batches of ``generate(batch, T, generator)`` with the one trainer;
    returns ``(test loss, trainer, step at which it diverged or None)`` on a fixed test set."""
    test_inputs, test_targets = generate(test_size, T, torch.Generator().manual_seed(10_000 + seed))

    def evaluate(m):
        return {"val_loss": float(m(test_inputs, test_targets)[1])}

    config = TrainConfig(steps=steps, batch_size=batch_size, lr=lr, optimizer=optimizer, clip=clip, warmup=0,
                         schedule="constant", eval_every=max(1, steps // 10), checkpoint_every=steps,
                         log_every=max(1, steps // 50), sample_every=0, seed=seed, device="cpu")
    torch.manual_seed(seed)
    trainer = Trainer(model, config, TaskBatches(generate, batch_size, T, seed), evaluate, run_dir,
                      {**meta, "T": T, "train_config": asdict(config)})
    trainer.verbose = verbose
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    diverged_at = None
    try:
        trainer.fit()
    except Diverged as e:
        diverged_at = e.step
    model.eval()
    with torch.no_grad():
        test = evaluate(model)["val_loss"] if diverged_at is None else float("nan")
    return test, trainer, diverged_at


def run_task(task: str, spec_text: str, T: int, hidden: int = 64, truncate: int = 0, seed: int = 0,
             out: str | Path = "runs/lab", **train_options) -> TaskResult:
    """Train ``spec_text`` (e.g. ``lstm``, ``irnn``) on ``task`` with sequence length T; test loss vs baseline.
    ``train_options``: steps, batch_size, lr, optimizer, clip, test_size, verbose (see train_on_task)."""
    generate, baseline, model_kwargs = make_task(task)
    spec = ModelSpec.parse(spec_text)
    torch.manual_seed(seed)
    model = SequenceTaskModel(spec.cell, hidden=hidden, truncate=truncate, init=spec.init,
                              spectral_radius=spec.radius, forget_bias=spec.forget_bias, **model_kwargs)
    run_dir = Path(out) / f"{task}-T{T}-{spec_text.replace(':', '_')}{f'-k{truncate}' if truncate else ''}"
    test, trainer, diverged_at = train_on_task(model, generate, T, run_dir, {"task": f"lab-{task}", "model": spec_text},
                                               seed=seed, **train_options)
    return TaskResult(task, spec_text, T, truncate, trainer.step, test, baseline(T), diverged_at, trainer.clipped)
