"""Optimisers and gradient clipping in NumPy. Parameters are a flat ``{name: array}`` dict, updated in place.

The update rules are torch.optim's (SGD with momentum, RMSprop, Adam: the tests compare them), except
Adagrad, which is min-char-rnn's: ``mem += g * g; p -= lr * g / sqrt(mem + 1e-8)``.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from rnnkit.errors import RnnkitError, unknown_choice


class Optimizer:
    """``opt.step(grads)`` updates ``params`` (the same arrays, in place) from ``grads`` (same keys)."""

    def __init__(self, params: dict[str, np.ndarray], lr: float):
        if not lr > 0:
            raise RnnkitError(f"learning rate must be positive, got {lr}")
        self.params, self.lr = params, lr
        self.state: dict[str, dict[str, np.ndarray]] = {k: {} for k in params}
        self.steps = 0

    def step(self, grads: dict[str, np.ndarray]) -> None:
        missing = set(self.params) - set(grads)
        if missing:
            raise RnnkitError(f"no gradient for parameter(s) {sorted(missing)}")
        self.steps += 1
        for name, p in self.params.items():
            self.update(p, grads[name], self.state[name])

    def update(self, p: np.ndarray, g: np.ndarray, s: dict) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """``p -= lr * g``; with momentum μ: ``v = μ v + g; p -= lr * v`` (torch's form, v_1 = g_1)."""

    def __init__(self, params, lr: float = 0.1, momentum: float = 0.0):
        super().__init__(params, lr)
        if not 0 <= momentum < 1:
            raise RnnkitError(f"momentum must lie in [0, 1), got {momentum}")
        self.momentum = momentum

    def update(self, p, g, s):
        if self.momentum:
            s["v"] = g.copy() if "v" not in s else self.momentum * s["v"] + g
            g = s["v"]
        p -= self.lr * g


class Adagrad(Optimizer):
    """min-char-rnn's Adagrad: ``mem += g * g; p -= lr * g / sqrt(mem + eps)`` (eps = 1e-8)."""

    def __init__(self, params, lr: float = 0.1, eps: float = 1e-8):
        super().__init__(params, lr)
        self.eps = eps

    def update(self, p, g, s):
        mem = s.setdefault("mem", np.zeros_like(p))
        mem += g * g
        p -= self.lr * g / np.sqrt(mem + self.eps)


class RMSprop(Optimizer):
    """``v = α v + (1 - α) g²; p -= lr * g / (sqrt(v) + eps)`` (torch's defaults α = 0.99, eps = 1e-8)."""

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8):
        super().__init__(params, lr)
        self.alpha, self.eps = alpha, eps

    def update(self, p, g, s):
        v = s.setdefault("v", np.zeros_like(p))
        v *= self.alpha
        v += (1 - self.alpha) * g * g
        p -= self.lr * g / (np.sqrt(v) + self.eps)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015): moments m, v with bias correction; ``p -= lr * m̂ / (sqrt(v̂) + eps)``."""

    def __init__(self, params, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        super().__init__(params, lr)
        self.betas, self.eps = betas, eps

    def update(self, p, g, s):
        b1, b2 = self.betas
        m = s.setdefault("m", np.zeros_like(p))
        v = s.setdefault("v", np.zeros_like(p))
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * g * g
        m_hat = m / (1 - b1**self.steps)
        v_hat = v / (1 - b2**self.steps)
        p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


#: name -> constructor(params, lr); "momentum" is SGD with μ = 0.9
OPTIMIZERS = {
    "sgd": SGD,
    "momentum": partial(SGD, momentum=0.9),
    "adagrad": Adagrad,
    "rmsprop": RMSprop,
    "adam": Adam,
}


def make_optimizer(name: str, params: dict[str, np.ndarray], lr: float) -> Optimizer:
    if name not in OPTIMIZERS:
        raise unknown_choice("optimizer", name, OPTIMIZERS)
    return OPTIMIZERS[name](params, lr=lr)


def clip_by_value(grads: dict[str, np.ndarray], limit: float) -> None:
    """Clip every gradient element to [-limit, limit], in place (min-char-rnn clips at 5)."""
    if not limit > 0:
        raise RnnkitError(f"clip value must be positive, got {limit}")
    for g in grads.values():
        np.clip(g, -limit, limit, out=g)


def global_norm(grads: dict[str, np.ndarray]) -> float:
    return float(np.sqrt(sum(float((g * g).sum()) for g in grads.values())))


def clip_by_norm(grads: dict[str, np.ndarray], max_norm: float) -> float:
    """Rescale all gradients together when their global L2 norm exceeds ``max_norm``, in place.

    Returns the norm before clipping (course-notes §4: rescale when the norm exceeds a threshold).
    """
    if not max_norm > 0:
        raise RnnkitError(f"max gradient norm must be positive, got {max_norm}")
    norm = global_norm(grads)
    if norm > max_norm:
        scale = max_norm / (norm + 1e-12)
        for g in grads.values():
            g *= scale
    return norm
