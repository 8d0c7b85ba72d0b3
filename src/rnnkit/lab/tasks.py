"""Synthetic long-dependency tasks, generated on the fly from a seed.

Adding problem (Hochreiter & Schmidhuber 1997; Le et al. 2015): each step carries two numbers, a value
u ~ U(0, 1) and a marker; exactly two markers are 1, one in each half of the sequence. The target is
the sum of the two marked values. Predicting the mean, 1, whatever the input, gives MSE = Var(u1 + u2)
= 2/12 = 0.167: the baseline a model must beat by remembering across up to T steps.

    inputs (B, T, 2) = [[u_1, m_1], ..., [u_T, m_T]]        target (B, 1) = sum of u_t where m_t = 1

Copy memory (Arjovsky et al. 2016): 10 symbols drawn from 8, then T blanks, a delimiter, and 9 more
blanks; the model must output blanks until the delimiter, then reproduce the 10 symbols.

    symbols 1..8, blank 0, delimiter 9; length T + 20
    inputs   s_1 .. s_10  0 .. 0 (T - 1)  9  0 .. 0 (10)
    targets  0 .. 0 (T + 10)                 s_1 .. s_10

A memoryless model that outputs blanks where blanks are certain and guesses uniformly over the 8
symbols in the last 10 steps scores a cross-entropy of 10 log(8) / (T + 20) per step.
"""

from __future__ import annotations

import math

import torch

from rnnkit.errors import RnnkitError

ADDING_BASELINE_MSE = 2 / 12  # Var(u1 + u2) for u ~ U(0, 1)
COPY_SYMBOLS, COPY_LENGTH, COPY_BLANK, COPY_DELIMITER = 8, 10, 0, 9


def copy_baseline(T: int) -> float:
    """Cross-entropy per step of the best memoryless strategy: 10 log 8 / (T + 20)."""
    return COPY_LENGTH * math.log(COPY_SYMBOLS) / (T + 2 * COPY_LENGTH)


def _check_length(T: int, minimum: int) -> None:
    if T < minimum:
        raise RnnkitError(f"sequence length T must be >= {minimum}, got {T}")


def adding_problem(batch: int, T: int, generator: torch.Generator | None = None):
    """``(inputs (B, T, 2), targets (B, 1))`` of the adding problem."""
    _check_length(T, 2)
    values = torch.rand(batch, T, generator=generator)  # (B, T)
    half = T // 2
    first = torch.randint(0, half, (batch,), generator=generator)
    second = torch.randint(half, T, (batch,), generator=generator)
    markers = torch.zeros(batch, T)
    rows = torch.arange(batch)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    targets = (values * markers).sum(1, keepdim=True)  # (B, 1)
    return torch.stack([values, markers], dim=-1), targets


def copy_memory(batch: int, T: int, generator: torch.Generator | None = None):
    """``(inputs (B, T + 20), targets (B, T + 20))`` of symbol ids, of the copy-memory task."""
    _check_length(T, 1)
    n = COPY_LENGTH
    symbols = torch.randint(1, COPY_SYMBOLS + 1, (batch, n), generator=generator)  # (B, 10)
    inputs = torch.zeros(batch, T + 2 * n, dtype=torch.long)
    targets = torch.zeros(batch, T + 2 * n, dtype=torch.long)
    inputs[:, :n] = symbols
    inputs[:, n + T - 1] = COPY_DELIMITER
    targets[:, -n:] = symbols
    return inputs, targets
