"""The trainer's data for every task that trains on whole examples: which examples make batch ``step``
(a pure function of the step, so ``--resume`` continues exactly), the generator of a step's random
augmentation, and seeded splits.

    epoch e = step // steps_per_epoch:  order_e = randperm(N, seed * 1_000_003 + e)
    batch(step) = examples order_e[i * B : (i + 1) * B],  i = step % steps_per_epoch
    augmentation of step s: a generator seeded seed * 1_000_003 + s (+ AUGMENTATION for the tasks that
    also draw an epoch's order from the same formula, so the two never share a seed)
"""

from __future__ import annotations

import math

import torch

from rnnkit.data.batching import SEED_STRIDE, step_generator  # noqa: F401  (the one seed formula)
from rnnkit.errors import RnnkitError

#: Offset of the augmentation generators of the speech and tag tasks, kept apart from the epoch orders
#: (``seed * SEED_STRIDE + epoch``) that the same task draws: step s and epoch s never share a seed.
AUGMENTATION = 7


class EpochSampler:
    """Indices of the examples in batch ``step``: epoch ``e`` visits all ``n`` examples in a random
    order seeded by ``(seed, e)``, so a batch is a pure function of the step."""

    def __init__(self, n: int, batch_size: int, seed: int):
        if n < 1:
            raise RnnkitError("no training examples")
        self.n, self.batch_size, self.seed = n, min(batch_size, n), seed
        self.steps_per_epoch = math.ceil(n / self.batch_size)
        self._epoch, self._order = -1, None

    def indices(self, step: int) -> list[int]:
        epoch, i = divmod(step, self.steps_per_epoch)
        if epoch != self._epoch:
            self._epoch, self._order = epoch, torch.randperm(self.n, generator=step_generator(self.seed, epoch))
        return self._order[i * self.batch_size : (i + 1) * self.batch_size].tolist()


class ShuffledBatches:
    """``batch(step) -> (inputs, targets, reset=True)``: the examples ``sampler.indices(step)`` of
    ``data``, which encodes them with ``data.batch(indices, generator)`` (``generator``: the step's
    augmentation, ``step_generator(seed, step, offset)``; data without augmentation ignores it).

    ``sampler``: an ``EpochSampler`` by default; any object with ``indices(step)`` and
    ``steps_per_epoch`` (the tagger's length buckets). ``data.share`` (optional) splits a batch between
    torchrun ranks where an even split of the rows would weight the loss wrongly.
    """

    stateful = False

    def __init__(self, data, batch_size: int, seed: int, sampler=None, offset: int = 0):
        self.data, self.seed, self.offset = data, seed, offset
        self.sampler = sampler if sampler is not None else EpochSampler(len(data), batch_size, seed)
        self.steps_per_epoch = self.sampler.steps_per_epoch
        if hasattr(data, "share"):
            self.share = data.share

    def batch(self, step: int):
        inputs, targets = self.data.batch(self.sampler.indices(step), step_generator(self.seed, step, self.offset))
        return inputs, targets, True


def split_indices(n: int, fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded random split of ``range(n)``: ``(kept, held_out)`` with ``fraction`` held out."""
    if not 0.0 < fraction < 1.0:
        raise RnnkitError(f"--val-fraction must be between 0 and 1, got {fraction}")
    n_out = max(1, int(round(n * fraction)))
    if n - n_out < 1:
        raise RnnkitError(f"{n} example(s) cannot be split into training and validation; give more data or --val")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return order[n_out:].sort().values, order[:n_out].sort().values
