"""Sampling for variety: draw each token from the model's distribution, reshaped by temperature, top-k
and top-p (nucleus) filtering (course-notes §8).

    p_T(v) = softmax(log p(v) / T)      T < 1 sharpens, T > 1 flattens, T -> 0 tends to greedy
    top-k: keep the k most probable tokens
    top-p: keep the smallest set of most probable tokens whose probability mass reaches p

The filters apply in that order (temperature, top-k, top-p) and renormalise; the recorded
``log_prob`` is under the model's unmodified distribution, so it is comparable across settings.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from rnnkit.decoding.step import Hypothesis, State, StepFn, unroll
from rnnkit.errors import RnnkitError


def _check_temperature(temperature: float) -> None:
    if not isinstance(temperature, (int, float)) or not math.isfinite(temperature) or temperature <= 0:
        raise RnnkitError(f"temperature must be a number > 0, got {temperature!r}; "
                          "for temperature 0 (always the most likely token) use greedy decoding")


def _check_top_k(k: int) -> None:
    if not isinstance(k, int) or k < 1:
        raise RnnkitError(f"top_k must be an integer >= 1 (or None for no limit), got {k!r}")


def _check_top_p(p: float) -> None:
    if not isinstance(p, (int, float)) or not 0 < p <= 1:
        raise RnnkitError(f"top_p must be in (0, 1] (1 keeps every token, or None), got {p!r}")


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """``logits (N, V)`` with all but the ``k`` largest of each row set to ``-inf``.

    Exactly ``k`` survive even with ties: a stable sort puts the lower token id first among equals.
    """
    _check_top_k(k)
    if k >= logits.shape[-1]:
        return logits
    order = logits.argsort(dim=-1, descending=True, stable=True)  # (N, V)
    return logits.scatter(-1, order[..., k:], float("-inf"))


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """``logits (N, V)`` keeping, per row, the smallest set of most probable tokens with mass >= ``p``.

    Sorted by probability (descending, lower token id first among ties), token ``j`` is kept iff the
    mass strictly before it is ``< p``; so the top token is always kept and ``p = 1`` keeps them all.
    """
    _check_top_p(p)
    if p >= 1:  # everything: spares the cumulative sum a rounding error that could drop a rare token
        return logits
    sorted_logits, order = logits.sort(dim=-1, descending=True, stable=True)  # (N, V)
    probs = sorted_logits.softmax(dim=-1)  # (N, V), renormalised whatever the logits' scale
    mass_before = F.pad(probs.cumsum(dim=-1)[..., :-1], (1, 0))  # (N, V): exclusive cumulative sum
    drop_sorted = mass_before >= p
    drop_sorted[..., 0] = False
    drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)  # back to token order
    return logits.masked_fill(drop, float("-inf"))


def sample(step: StepFn, state: State, start: int | torch.Tensor, max_len: int, temperature: float = 1.0,
           top_k: int | None = None, top_p: float | None = None, eos: int | None = None,
           generator: torch.Generator | None = None, repetition_penalty: float = 1.0, no_repeat_ngram: int = 0,
           context: torch.Tensor | None = None) -> list[Hypothesis]:
    """One sampled hypothesis per batch row; a seeded ``generator`` reproduces it exactly.
    ``repetition_penalty``, ``no_repeat_ngram`` and ``context``: ``rnnkit.decoding.penalties``, applied
    before the temperature."""
    _check_temperature(temperature)
    if top_k is not None:
        _check_top_k(top_k)
    if top_p is not None:
        _check_top_p(top_p)

    def pick(scores: torch.Tensor) -> torch.Tensor:
        logits = scores / temperature  # (B, V)
        if top_k is not None:
            logits = top_k_filter(logits, top_k)
        if top_p is not None:
            logits = top_p_filter(logits, top_p)
        probs = logits.float().softmax(dim=-1)  # (B, V), renormalised over the kept tokens
        return torch.multinomial(probs, 1, generator=generator).squeeze(1)  # (B,)

    return unroll(step, state, start, max_len, eos, pick, repetition_penalty, no_repeat_ngram, context)
