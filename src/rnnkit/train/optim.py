"""Optimisers, learning-rate schedules and gradient clipping (course-notes §10, §4)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from rnnkit.errors import RnnkitError, unknown_choice

OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adagrad", "adam", "adamw")
SCHEDULES = ("constant", "cosine", "linear")


def make_optimizer(name: str, params, lr: float, momentum: float = 0.9, weight_decay: float = 0.0):
    """``sgd`` (plain), ``momentum`` (SGD with momentum), ``rmsprop``, ``adagrad``, ``adam``, ``adamw``."""
    if not 0 < lr <= 1e6:
        raise RnnkitError(f"learning rate must be > 0 and at most 1e6, got {lr}")
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, weight_decay=weight_decay)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    raise unknown_choice("optimizer", name, OPTIMIZERS)


def check_schedule(name: str) -> None:
    if name not in SCHEDULES:
        raise unknown_choice("schedule", name, SCHEDULES)


def lr_at(step: int, base_lr: float, schedule: str, warmup: int, total: int, time_fraction: float = 0.0) -> float:
    """Learning rate at ``step`` of a run without a resume that changed its budget: ``Schedule(...).lr``."""
    return Schedule(base_lr, schedule, warmup, total, 1.0 if time_fraction else 0.0).lr(step, time_fraction)


@dataclass(frozen=True)
class Schedule:
    """The learning rate over a run's budget (``steps``, and ``time`` seconds when > 0): a linear warm-up,
    then constant, cosine decay to 10% of ``base_lr``, or linear decay to 10%.

    The schedule's *position* ``q`` runs from 0 to 2: ``[0, 1)`` is the warm-up (the rate is ``q * base_lr``),
    ``[1, 2]`` the decay. Both follow whichever budget is nearer its end: the warm-up ends after ``warmup``
    steps or after the same share of the time budget (``warmup / steps`` of ``time``: 5% by default), so a
    100-step warm-up never eats a 120-second run; the decay reaches its end when the steps or the time run out.

    A pure function of the step and the elapsed time, so a resumed run follows the same schedule. A resume
    that changes the budget (a longer ``--time`` or ``--steps``) sets ``anchor = (step, elapsed, q)``: from
    there the position goes on from ``q`` to 2 over what is left of the new budget, so the rate continues
    from where it was instead of jumping to the new budget's value at that step.
    """

    base_lr: float
    kind: str
    warmup: int
    steps: int
    time: float = 0.0
    anchor: tuple | None = None  # (step, elapsed, position): where a resume changed the budget

    def _raw(self, step: int, elapsed: float) -> tuple[str, float]:
        """Under this budget alone: ``("steps", w)`` in a warm-up counted in steps, ``("warmup", w)`` in one
        the time budget leads, else ``("decay", progress)`` with progress in [0, 1]."""
        tf = min(1.0, elapsed / self.time) if self.time > 0 else 0.0
        share = self.warmup / max(1, self.steps)
        if self.warmup and step < self.warmup:
            by_steps = (step + 1) / self.warmup
            by_time = tf / share if self.time > 0 and share > 0 else 0.0
            if max(by_steps, by_time) < 1.0:
                return ("steps", by_steps) if by_steps >= by_time else ("warmup", by_time)
        by_steps = (step - self.warmup) / max(1, self.steps - self.warmup)
        by_time = (tf - share) / (1 - share) if self.time > 0 and share < 1 else 0.0
        return "decay", min(1.0, max(by_steps, by_time, 0.0))

    def position(self, step: int, elapsed: float = 0.0) -> float:
        """``q`` in [0, 2]: the warm-up's fraction done, or 1 + the decay's."""
        phase, value = self._raw(step, elapsed)
        q = value if phase != "decay" else 1.0 + value
        if self.anchor is None:
            return q
        step0, elapsed0, q0 = self.anchor
        phase0, value0 = self._raw(step0, elapsed0)
        start = value0 if phase0 != "decay" else 1.0 + value0
        if start >= 2.0:
            return 2.0
        return min(2.0, q0 + max(0.0, q - start) * (2.0 - q0) / (2.0 - start))

    def lr(self, step: int, elapsed: float = 0.0) -> float:
        """The rate at ``step`` after ``elapsed`` seconds."""
        if self.anchor is None:
            phase, value = self._raw(step, elapsed)
            if phase == "steps":  # written as it always was, so seeded runs keep their weights to the last bit
                return self.base_lr * (step + 1) / self.warmup
        else:
            q = self.position(step, elapsed)
            phase, value = ("warmup", q) if q < 1.0 else ("decay", q - 1.0)
        if phase == "warmup":
            return self.base_lr * value
        if self.kind == "constant":
            return self.base_lr
        if self.kind == "cosine":
            return self.base_lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * value)))
        if self.kind == "linear":
            return self.base_lr * (1 - 0.9 * value)
        raise unknown_choice("schedule", self.kind, SCHEDULES)


def clip_gradients(parameters, max_norm: float = 0.0, max_value: float = 0.0) -> tuple[float, bool]:
    """Clip by value (each component to [-max_value, max_value]) then by global norm (rescale g to
    ``max_norm * g / ||g||`` when ``||g|| > max_norm``); 0 turns either off.

    Returns the gradient's global norm before norm clipping and whether any clipping happened.
    """
    params = [p for p in parameters if p.grad is not None]
    clipped = False
    if max_value > 0:
        for p in params:
            clipped |= bool((p.grad.abs() > max_value).any())
            p.grad.clamp_(-max_value, max_value)
    norm = torch.nn.utils.clip_grad_norm_(params, max_norm if max_norm > 0 else float("inf"))
    norm = float(norm)
    clipped |= max_norm > 0 and norm > max_norm
    return norm, clipped
