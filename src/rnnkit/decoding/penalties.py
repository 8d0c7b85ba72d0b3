"""Penalties against repetition, for greedy decoding, sampling and beam search (as Hugging Face's
``generate`` offers them: ``repetition_penalty`` and ``no_repeat_ngram_size``).

Maximum-likelihood decoding of a language model tends to loop: the most probable continuation of
``self._file.`` is ``self._file.`` again, and a beam happily fills the output with spaces. These
reshape the scores the decoder chooses by (never the log-probability it reports):

    repetition penalty θ (Keskar et al. 2019, CTRL):  s(v) = θ · log p(v)  for every v already in the output
    n-gram block n:                                    s(v) = -inf if v would repeat an n-gram of the output

Log-probabilities are <= 0, so θ > 1 makes a seen token less likely (θ = 1: no change). On characters
almost every letter has been seen after a line, so θ mostly flattens the distribution; the n-gram
block (n around 8 to 20 characters) is the one that stops loops without touching fresh text.
"""

from __future__ import annotations

import torch

from rnnkit.errors import RnnkitError


def check_penalties(repetition_penalty: float = 1.0, no_repeat_ngram: int = 0) -> None:
    if not isinstance(repetition_penalty, (int, float)) or not 1.0 <= repetition_penalty < float("inf"):
        raise RnnkitError(f"the repetition penalty must be a number >= 1 (1: off), got {repetition_penalty!r}")
    if not isinstance(no_repeat_ngram, int) or no_repeat_ngram < 0:
        raise RnnkitError(f"the n-gram block must be an integer >= 0 (0: off), got {no_repeat_ngram!r}")


def penalise_repetition(scores: torch.Tensor, history: torch.Tensor, penalty: float) -> torch.Tensor:
    """``scores (N, V)`` (log-probabilities) times ``penalty`` at every token in ``history (N, t)``."""
    if penalty == 1.0 or history.shape[1] == 0:
        return scores
    seen = torch.zeros_like(scores, dtype=torch.bool).scatter(1, history, True)  # (N, V)
    return torch.where(seen, scores * penalty, scores)


def block_repeated_ngrams(scores: torch.Tensor, history: torch.Tensor, n: int) -> torch.Tensor:
    """``scores (N, V)`` with ``-inf`` at every token that would complete an ``n``-gram already in
    ``history (N, t)``: the tokens that followed an earlier occurrence of the last ``n - 1`` tokens.
    A row whose every token would be blocked is left as it was (the decoder must emit something)."""
    N, t = history.shape
    if n < 1 or (n > 1 and t < n):
        return scores
    if n == 1:  # every token seen is banned
        blocked = torch.zeros_like(scores, dtype=torch.bool).scatter(1, history, True)
    else:
        grams = history.unfold(1, n, 1)  # (N, t - n + 1, n): every n-gram so far
        suffix = history[:, t - n + 1 :].unsqueeze(1)  # (N, 1, n - 1): the last n - 1 tokens
        match = (grams[:, :, : n - 1] == suffix).all(dim=2)  # (N, t - n + 1)
        rows, cols = match.nonzero(as_tuple=True)
        blocked = torch.zeros_like(scores, dtype=torch.bool)
        blocked[rows, grams[rows, cols, n - 1]] = True  # the token that completed each earlier n-gram
    blocked &= ~blocked.all(dim=1, keepdim=True)
    return scores.masked_fill(blocked, float("-inf"))


def penalise(scores: torch.Tensor, history: torch.Tensor, repetition_penalty: float = 1.0,
             no_repeat_ngram: int = 0) -> torch.Tensor:
    """Both penalties on ``scores (N, V)`` given the tokens so far, ``history (N, t)``."""
    scores = penalise_repetition(scores, history, repetition_penalty)
    return block_repeated_ngrams(scores, history, no_repeat_ngram) if no_repeat_ngram else scores
