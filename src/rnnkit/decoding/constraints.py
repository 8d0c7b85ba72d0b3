"""What a decoder may emit, and watching it emit: wrappers of the step function (``step.StepFn``), so every
decoder (greedy, sampling, beam, exhaustive) gets them unchanged.

    banned(step, ids)       the tokens ``ids`` never come out: their log-probability is -inf and the rest
                            renormalise (the model's distribution given that none of them is emitted)
    watched(step, seen)     ``seen(tokens (N,))`` for every token fed back to the model: what greedy decoding
                            and sampling have chosen so far, one position per call (streaming, stop strings);
                            ``seen`` raises ``StopDecoding`` to end the decoding there
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch

from rnnkit.decoding.step import StepFn
from rnnkit.errors import RnnkitError


class StopDecoding(Exception):
    """Raised by a ``watched`` callback: every sequence is finished (a stop string was produced)."""


def banned(step: StepFn, ids: Sequence[int]) -> StepFn:
    """``step`` whose next-token distribution never gives a token of ``ids`` (renormalised over the rest)."""
    ids = sorted(set(int(i) for i in ids))
    if not ids:
        return step

    def constrained(tokens, state):
        log_probs, state = step(tokens, state)  # (N, V)
        if len(ids) >= log_probs.shape[-1]:
            raise RnnkitError(f"every one of the {log_probs.shape[-1]} tokens is banned; ban fewer")
        masked = log_probs.index_fill(-1, torch.tensor(ids, device=log_probs.device), float("-inf"))
        return masked.log_softmax(dim=-1), state  # (N, V)

    return constrained


def watched(step: StepFn, seen: Callable[[torch.Tensor], None]) -> StepFn:
    """``step`` that shows ``seen`` each token fed back (all but the first call, whose tokens are the start)."""
    calls = [0]

    def watching(tokens, state):
        if calls[0]:
            seen(tokens)
        calls[0] += 1
        return step(tokens, state)

    return watching


def cut_at_stop(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    """``text`` up to (not including) the first of ``stops`` it contains, and whether one was found."""
    ends = [text.find(s) for s in stops if s and s in text]
    return (text[: min(ends)], True) if ends else (text, False)
