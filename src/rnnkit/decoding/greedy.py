"""Greedy decoding: the locally best token at every step, never revised (course-notes §8).

``y_t = argmax_v log p(v | y_<t)``. Fast and deterministic, but myopic: a likely first token can lead
to a flat, unlikely continuation that a search over more hypotheses would avoid.
"""

from __future__ import annotations

import torch

from rnnkit.decoding.step import Hypothesis, State, StepFn, unroll


def greedy(step: StepFn, state: State, start: int | torch.Tensor, max_len: int, eos: int | None = None,
           repetition_penalty: float = 1.0, no_repeat_ngram: int = 0,
           context: torch.Tensor | None = None) -> list[Hypothesis]:
    """One hypothesis per batch row; ties go to the lowest token id (``argmax`` returns the first).
    ``repetition_penalty``, ``no_repeat_ngram`` and ``context``: ``rnnkit.decoding.penalties``."""
    return unroll(step, state, start, max_len, eos, lambda scores: scores.argmax(dim=-1), repetition_penalty,
                  no_repeat_ngram, context)
