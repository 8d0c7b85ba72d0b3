"""The softmax cross-entropy head in NumPy: ``p_t = softmax(W_hy h_t + b_y)``, loss = -log p_t[y_t]."""

from __future__ import annotations

import numpy as np

from rnnkit.errors import RnnkitError, unknown_choice
from rnnkit.scratch.base import check_size

REDUCTIONS = ("mean", "sum")


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, shifted by the max so that exp never overflows."""
    e = logits - logits.max(axis=-1, keepdims=True)
    np.exp(e, out=e)  # in place: one large temporary, not three
    e /= e.sum(axis=-1, keepdims=True)
    return e


class SoftmaxHead:
    """Output layer ``o_t = W_hy h_t + b_y`` (``weight (V, H)``, ``bias (V,)``, torch.nn.Linear's layout)
    and the cross-entropy of ``softmax(o_t)`` against the target ids.

    ``reduction="mean"`` averages over the B*T positions (nats per character); ``"sum"`` is the
    course's (and min-char-rnn's) ``sum over t of -log p_t[y_t]``.
    """

    def __init__(self, hidden_size: int, vocab_size: int, seed: int | None = 1, dtype=np.float64):
        self.hidden_size = check_size("hidden_size", hidden_size)
        self.vocab_size = check_size("vocab_size", vocab_size)
        self.dtype = np.dtype(dtype)
        rng = np.random.default_rng(seed)
        bound = 1.0 / np.sqrt(hidden_size)  # torch.nn.Linear's default
        self.params = {
            "weight": rng.uniform(-bound, bound, size=(vocab_size, hidden_size)).astype(self.dtype),
            "bias": rng.uniform(-bound, bound, size=(vocab_size,)).astype(self.dtype),
        }

    def logits(self, hs: np.ndarray) -> np.ndarray:
        return hs @ self.params["weight"].T + self.params["bias"]  # (B, T, V)

    def probs(self, hs: np.ndarray) -> np.ndarray:
        return softmax(self.logits(hs))  # (B, T, V)

    def forward(self, hs: np.ndarray, targets: np.ndarray, reduction: str = "mean"):
        """Loss of ``hs (B, T, H)`` against ``targets (B, T)`` ids; returns ``(loss, cache)``."""
        if reduction not in REDUCTIONS:
            raise unknown_choice("reduction", reduction, REDUCTIONS)
        if targets.shape != hs.shape[:2]:
            raise RnnkitError(f"targets must have shape {hs.shape[:2]} (batch, time), got {targets.shape}")
        if targets.size and (targets.min() < 0 or targets.max() >= self.vocab_size):
            raise RnnkitError(f"target ids must lie in 0..{self.vocab_size - 1}, got {targets.min()}..{targets.max()}")
        p = self.probs(hs)  # (B, T, V)
        p_target = np.take_along_axis(p, targets[..., None], axis=-1)[..., 0]  # (B, T)
        nll = -np.log(np.maximum(p_target, np.finfo(self.dtype).tiny))
        scale = 1.0 / targets.size if reduction == "mean" else 1.0
        return float(nll.sum() * scale), (hs, targets, p, scale)

    def backward(self, cache):
        """Returns ``(grads, dhs)``: dy = p_t - onehot(y_t); dW_hy += dy h_t^T; db_y += dy; dh = W_hy^T dy."""
        hs, targets, p, scale = cache
        dy = p.copy()  # (B, T, V)
        np.put_along_axis(dy, targets[..., None], np.take_along_axis(dy, targets[..., None], -1) - 1.0, -1)
        dy *= scale
        dy2 = dy.reshape(-1, self.vocab_size)  # (B*T, V)
        grads = {"weight": dy2.T @ hs.reshape(-1, self.hidden_size), "bias": dy2.sum(0)}
        return grads, dy @ self.params["weight"]  # dhs (B, T, H)
