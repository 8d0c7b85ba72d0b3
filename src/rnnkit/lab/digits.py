"""Sequential digits: the IRNN paper's pixel-by-pixel MNIST (Le et al. 2015), small enough for a CPU.

scikit-learn's bundled 8x8 handwritten digits (1,797 images, 16 grey levels, nothing to download) read
one pixel per step (``pixel``: T = 64, one input feature) or one row per step (``row``: T = 8, eight
features); the class comes from the last hidden state, so the network must carry what it saw over up
to 64 steps. ``permuted`` reads the pixels in one random order fixed by the seed (the same for every
image), which scatters neighbouring pixels across the sequence and lengthens the dependencies.

    pixel:  x (N, 64, 1) = [p_1, ..., p_64] / 16       row:  x (N, 8, 8) = [row_1, ..., row_8] / 16

The images are split once, by the seed, into disjoint train / validation / test sets (stratified by
class); validation drives early stopping, the test set is only read for the final score.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rnnkit.data.batching import step_generator
from rnnkit.errors import RnnkitError, unknown_choice

VARIANTS = ("pixel", "permuted", "row")
NUM_CLASSES = 10


@dataclass
class DigitSplits:
    """Inputs (N, T, F) in [0, 1], labels (N,), the pixel order used, and the image indices of each split."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    order: torch.Tensor  # (64,) pixel order: identity unless permuted
    indices: dict  # {"train" | "val" | "test": LongTensor of image indices into load_digits()}


def _load_digits():
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise RnnkitError("the sequential-digits lab needs scikit-learn, which ships the 8x8 digits: "
                          "pip install scikit-learn") from None
    data = load_digits()
    images = torch.tensor(data.images, dtype=torch.float32) / 16.0  # (N, 8, 8) in [0, 1]
    return images, torch.tensor(data.target, dtype=torch.long)


def pixel_order(seed: int, permuted: bool) -> torch.Tensor:
    """The order in which the 64 pixels are read: row-major, or one permutation drawn from ``seed``."""
    if not permuted:
        return torch.arange(64)
    return torch.randperm(64, generator=torch.Generator().manual_seed(seed))


def split_indices(labels: torch.Tensor, seed: int, val_fraction: float, test_fraction: float) -> dict:
    """Disjoint train / val / test image indices, the same fractions of every class (stratified)."""
    g = torch.Generator().manual_seed(seed)
    parts = {"train": [], "val": [], "test": []}
    for c in labels.unique():
        members = (labels == c).nonzero().squeeze(1)
        members = members[torch.randperm(len(members), generator=g)]
        n_test, n_val = round(len(members) * test_fraction), round(len(members) * val_fraction)
        parts["test"].append(members[:n_test])
        parts["val"].append(members[n_test:n_test + n_val])
        parts["train"].append(members[n_test + n_val:])
    return {k: torch.cat(v).sort().values for k, v in parts.items()}


def digit_sequences(variant: str = "pixel", seed: int = 0, val_fraction: float = 0.1,
                    test_fraction: float = 0.2) -> DigitSplits:
    """The 8x8 digits as sequences (see the module docstring), split by ``seed``."""
    if variant not in VARIANTS:
        raise unknown_choice("digits variant", variant, VARIANTS)
    if not (0 < test_fraction < 1 and 0 <= val_fraction < 1 and val_fraction + test_fraction < 1):
        raise RnnkitError(f"val and test fractions must lie in [0, 1) with a sum below 1, got {val_fraction} "
                          f"and {test_fraction}")
    images, labels = _load_digits()
    order = pixel_order(seed, variant == "permuted")
    if variant == "row":
        x = images  # (N, 8, 8): one row of 8 pixels per step
    else:
        x = images.flatten(1)[:, order].unsqueeze(2)  # (N, 64, 1): one pixel per step
    idx = split_indices(labels, seed, val_fraction, test_fraction)
    return DigitSplits(x[idx["train"]], labels[idx["train"]], x[idx["val"]], labels[idx["val"]],
                       x[idx["test"]], labels[idx["test"]], order, idx)


class DigitBatches:
    """``batch(step) -> (inputs, targets, reset)``: ``batch_size`` training images drawn from (seed, step)."""

    stateful = False

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int):
        self.x, self.y, self.batch_size, self.seed = x, y, batch_size, seed

    def batch(self, step: int):
        g = step_generator(self.seed, step)
        rows = torch.randint(0, len(self.y), (self.batch_size,), generator=g)
        return self.x[rows], self.y[rows], True


def accuracy(model, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """``(cross-entropy, accuracy)`` of ``model`` on ``x (N, T, F)``, ``y (N,)``."""
    with torch.no_grad():
        logits, loss, _ = model(x, y)  # logits (N, 10)
    return float(loss), float((logits.argmax(1) == y).float().mean())


def run_digits(variant: str, spec_text: str, out, hidden: int = 64, steps: int = 2000, batch_size: int = 32,
               lr: float = 1e-3, clip: float = 1.0, eval_every: int = 100, seed: int = 0,
               verbose: bool = False) -> dict:
    """Train ``spec_text`` (a lab model spec, e.g. ``lstm:default:fb=2`` or ``irnn:lr=1e-4``) on one
    variant with the one trainer; the weights with the best validation loss are scored on the test set.
    Returns the test accuracy and cross-entropy, the validation-accuracy curve and the timings. A run
    that diverges (``diverged_at``, the trainer's rule) is scored with its best weights, and with none
    (test scores ``None``) if it diverged before its first validation passed."""
    import time
    from dataclasses import asdict
    from pathlib import Path

    from rnnkit.lab.gradient_flow import ModelSpec
    from rnnkit.lab.models import SequenceTaskModel
    from rnnkit.train.checkpoint import load_checkpoint, load_weights
    from rnnkit.train.config import TrainConfig
    from rnnkit.train.trainer import Diverged, Trainer

    data = digit_sequences(variant, seed)
    spec = ModelSpec.parse(spec_text)
    lr = spec.lr if spec.lr is not None else lr
    torch.manual_seed(seed)
    model = SequenceTaskModel(spec.cell, data.train_x.shape[2], hidden, NUM_CLASSES, many_to_one=True,
                              classify=True, init=spec.init, spectral_radius=spec.radius,
                              forget_bias=spec.forget_bias)

    def evaluate(m):
        loss, acc = accuracy(m, data.val_x, data.val_y)
        return {"val_loss": loss, "val_accuracy": acc}

    config = TrainConfig(steps=steps, batch_size=batch_size, lr=lr, clip=clip, warmup=0, schedule="constant",
                         eval_every=eval_every, checkpoint_every=steps, log_every=max(1, eval_every // 2),
                         sample_every=0, seed=seed, device="cpu")
    run_dir = Path(out) / f"digits-{variant}-{spec_text.replace(':', '_')}"
    run_dir.mkdir(parents=True, exist_ok=True)
    trainer = Trainer(model, config, DigitBatches(data.train_x, data.train_y, batch_size, seed), evaluate, run_dir,
                      {"task": f"lab-digits-{variant}", "model": spec_text, "train_config": asdict(config)})
    trainer.verbose = verbose
    cpu = time.process_time()
    diverged_at = None
    try:
        trainer.fit()
    except Diverged as e:
        diverged_at = e.step
    validated = (run_dir / "best").exists()
    if validated:
        load_weights(model, load_checkpoint(run_dir / "best")[0], run_dir / "best")
    model.eval()
    # a run that diverged before any validation passed has no weights worth scoring: no test score
    test_loss, test_acc = accuracy(model, data.test_x, data.test_y) if validated else (None, None)
    records = trainer.metrics.read()
    return {"variant": variant, "model": spec_text, "T": data.train_x.shape[1], "lr": lr, "steps": trainer.step,
            "test_accuracy": test_acc, "test_loss": test_loss, "diverged_at": diverged_at,
            "best_val_loss": trainer.best, "seconds": trainer.elapsed, "cpu_seconds": time.process_time() - cpu,
            "engine": model.rnn.layers[0].engine_used,
            "curve": [(r["step"], r["val_accuracy"]) for r in records if "val_accuracy" in r]}
