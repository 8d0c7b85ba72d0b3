"""Optimisers, learning-rate schedules and gradient clipping (course-notes §10, §4)."""

from __future__ import annotations

import math

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
    """Learning rate at ``step``: linear warm-up over ``warmup`` steps, then constant, cosine decay to
    10% of ``base_lr``, or linear decay to 10%, over the remaining ``total - warmup`` steps.

    A pure function of the step, so a resumed run follows exactly the same schedule. A run limited by
    time passes ``time_fraction`` (elapsed / time limit): the decay then follows whichever of the
    two budgets is nearer its end, so the learning rate has decayed when time runs out.
    """
    if step < warmup:
        return base_lr * (step + 1) / warmup
    progress = min(1.0, max((step - warmup) / max(1, total - warmup), time_fraction))
    if schedule == "constant":
        return base_lr
    if schedule == "cosine":
        return base_lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))
    if schedule == "linear":
        return base_lr * (1 - 0.9 * progress)
    raise unknown_choice("schedule", schedule, SCHEDULES)


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
