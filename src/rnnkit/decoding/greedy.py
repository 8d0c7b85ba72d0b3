"""Greedy decoding: the locally best token at every step, never revised (course-notes §8).

``y_t = argmax_v log p(v | y_<t)``. Fast and deterministic, but myopic: a likely first token can lead
to a flat, unlikely continuation that a search over more hypotheses would avoid.
"""

from __future__ import annotations

import torch

from rnnkit.decoding.step import Hypothesis, State, StepFn, unroll


def greedy(step: StepFn, state: State, start: int | torch.Tensor, max_len: int,
           eos: int | None = None) -> list[Hypothesis]:
    """One hypothesis per batch row; ties go to the lowest token id (``argmax`` returns the first)."""
    return unroll(step, state, start, max_len, eos, pick=lambda log_probs: log_probs.argmax(dim=-1))
