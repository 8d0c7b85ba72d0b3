"""A linear-chain conditional random field over per-token scores: the loss is the negative log-likelihood
computed by the forward algorithm, decoding is Viterbi (course-notes §8: exhaustive search over all K^n tag
sequences is exact but combinatorial, greedy per-token argmax never revises, dynamic programming is exact
in O(n K^2) because the score decomposes over adjacent pairs).

The score of tags y_1..y_n for emissions e (the tagger's outputs) is

    s(y) = start[y_1] + sum_t e_t[y_t] + sum_{t>1} trans[y_{t-1}, y_t] + end[y_n]

and p(y | x) = exp s(y) / Z with log Z = logsumexp over all y of s(y), computed by the forward algorithm

    alpha_1[j] = start[j] + e_1[j];  alpha_t[j] = logsumexp_i(alpha_{t-1}[i] + trans[i, j]) + e_t[j]
    log Z = logsumexp_j(alpha_n[j] + end[j]).

Viterbi replaces logsumexp by max and keeps the argmax (back-pointers). Everything is batched:
``emissions (B, T, K)``, ``lengths (B,)``; past its length a row's alpha is frozen.

BIO constraints: with ``allowed`` transitions (``bio_transitions``), a forbidden transition (``O -> I-x``,
``B-x -> I-y``, a sentence starting with ``I-x``) gets the score ``FORBIDDEN``, so no decoded sequence uses it.
"""

from __future__ import annotations

import torch
from torch import nn

from rnnkit.data.batching import length_mask

FORBIDDEN = -1e4  # exp(-1e4) == 0 in float32 and float64, without the NaNs that -inf brings into logsumexp


def at_least_float32(x: torch.Tensor) -> torch.Tensor:
    """bfloat16/float16 emissions (autocast) are summed in float32; float64 stays float64."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


def bio_transitions(tags: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """``(allowed (K, K), start_allowed (K,))`` for BIO tags: ``I-x`` may only follow ``B-x`` or ``I-x``,
    and a sentence may not start with ``I-x``. Tags that are not ``I-...`` are reachable from anywhere."""
    K = len(tags)
    allowed = torch.ones(K, K, dtype=torch.bool)
    start = torch.ones(K, dtype=torch.bool)
    for j, to in enumerate(tags):
        if to.startswith("I-"):
            start[j] = False
            for i, frm in enumerate(tags):
                allowed[i, j] = frm[:2] in ("B-", "I-") and frm[2:] == to[2:]
    return allowed, start


def is_bio(tags) -> bool:
    """True if every tag is ``O``, ``B-type`` or ``I-type`` (and at least one is not ``O``)."""
    tags = set(tags)
    return tags != {"O"} and all(t == "O" or (t[:2] in ("B-", "I-") and len(t) > 2) for t in tags)


class CRF(nn.Module):
    """Transition scores ``trans (K, K)``, ``start (K,)`` and ``end (K,)``; ``allowed`` masks forbid some."""

    def __init__(self, num_tags: int, allowed: torch.Tensor | None = None, start_allowed: torch.Tensor | None = None):
        super().__init__()
        K = num_tags
        self.trans = nn.Parameter(torch.zeros(K, K))
        self.start = nn.Parameter(torch.zeros(K))
        self.end = nn.Parameter(torch.zeros(K))
        self.register_buffer("allowed", allowed if allowed is not None else torch.ones(K, K, dtype=torch.bool),
                             persistent=False)
        self.register_buffer("start_allowed", start_allowed if start_allowed is not None
                             else torch.ones(K, dtype=torch.bool), persistent=False)

    def scores(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The effective ``(trans, start, end)``, forbidden entries set to ``FORBIDDEN``."""
        return (self.trans.masked_fill(~self.allowed, FORBIDDEN), self.start.masked_fill(~self.start_allowed, FORBIDDEN),
                self.end)

    def sequence_score(self, emissions: torch.Tensor, tags: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """``s(y)`` of the given tags ``(B, T)`` (padding ignored): ``(B,)``."""
        trans, start, end = self.scores()
        B, T, _ = emissions.shape
        valid = length_mask(lengths, T)  # (B, T)
        emit = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # (B, T)
        score = start[tags[:, 0]] + (emit * valid).sum(1)  # (B,)
        if T > 1:
            pair = trans[tags[:, :-1], tags[:, 1:]]  # (B, T-1): trans[y_{t-1}, y_t]
            score = score + (pair * valid[:, 1:]).sum(1)
        last = tags.gather(1, (lengths - 1).unsqueeze(1)).squeeze(1)  # (B,)
        return score + end[last]

    def log_partition(self, emissions: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """``log Z (B,)`` by the forward algorithm."""
        trans, start, end = self.scores()
        alpha = start + emissions[:, 0]  # (B, K)
        for t in range(1, emissions.shape[1]):
            step = torch.logsumexp(alpha.unsqueeze(2) + trans, dim=1) + emissions[:, t]  # (B, K)
            alpha = torch.where((lengths > t).unsqueeze(1), step, alpha)
        return torch.logsumexp(alpha + end, dim=1)

    def nll(self, emissions: torch.Tensor, tags: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """``-log p(y | x) = log Z - s(y)`` per sentence: ``(B,)``."""
        emissions = at_least_float32(emissions)
        return self.log_partition(emissions, lengths) - self.sequence_score(emissions, tags, lengths)

    @torch.no_grad()
    def viterbi(self, emissions: torch.Tensor, lengths: torch.Tensor, scores=None) -> tuple[list[list[int]], torch.Tensor]:
        """The highest-scoring tag sequence of each row (its own length) and its score ``(B,)``; ``scores``:
        other ``(trans, start, end)`` than this CRF's own (an ensemble's averaged ones)."""
        trans, start, end = scores if scores is not None else self.scores()
        emissions = at_least_float32(emissions)
        B, T, K = emissions.shape
        delta = start + emissions[:, 0]  # (B, K): best score of a path ending in tag j at step t
        keep = torch.arange(K, device=emissions.device).expand(B, K)
        pointers = []
        for t in range(1, T):
            best, arg = (delta.unsqueeze(2) + trans).max(dim=1)  # (B, K): over the previous tag i
            alive = (lengths > t).unsqueeze(1)  # (B, 1)
            delta = torch.where(alive, best + emissions[:, t], delta)
            pointers.append(torch.where(alive, arg, keep))  # a finished row points to itself
        score, tag = (delta + end).max(dim=1)  # (B,)
        path = [tag]
        for arg in reversed(pointers):
            tag = arg.gather(1, tag.unsqueeze(1)).squeeze(1)
            path.append(tag)
        path = torch.stack(path[::-1], dim=1).tolist()  # (B, T)
        return [row[: int(n)] for row, n in zip(path, lengths.tolist())], score
