"""Attention over the encoder's states (course-notes §8): the decoder looks back at every source word.

At decoder step t, with query q (a decoder hidden state) and the encoder states h_1..h_S (the memory):

    e_tj = score(q, h_j)                  one score per source position j
    α_tj = softmax_j(e_tj)                over the real positions only (padding gets α = 0)
    c_t  = Σ_j α_tj h_j                   the context vector

Two scores, named after their papers:

    bahdanau (additive, 2015):  score(q, h_j) = vᵀ tanh(W_q q + W_k h_j)
    luong ("general", 2015):    score(q, h_j) = qᵀ W_k h_j

``W_k h_j`` does not depend on t, so ``keys(memory)`` computes it once per sentence and the decoder
carries it in its state. Bahdanau's query is the previous state s_{t-1} (the context is then an
input of the step); Luong's is the new state h_t (the context then shapes the output).
"""

from __future__ import annotations

import torch
from torch import nn

from rnnkit.errors import unknown_choice

ATTENTIONS = ("none", "bahdanau", "luong")


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``softmax`` over the last axis of ``scores (..., S)`` where ``mask (B, S)`` is True; 0 elsewhere."""
    while mask.dim() < scores.dim():
        mask = mask.unsqueeze(-2)  # (B, 1, S) against scores (B, T, S)
    wide = scores if scores.dtype in (torch.float32, torch.float64) else scores.float()  # bf16 -> fp32
    return wide.masked_fill(~mask, float("-inf")).softmax(dim=-1).to(scores.dtype)


class Attention(nn.Module):
    """``keys(memory (B, S, M)) -> (B, S, K)`` once per sentence, then
    ``forward(query (B, [T,] Q), memory, keys, mask (B, S)) -> (context (B, [T,] M), α (B, [T,] S))``."""

    def __init__(self, kind: str, query_size: int, memory_size: int, size: int | None = None):
        super().__init__()
        if kind not in ATTENTIONS[1:]:
            raise unknown_choice("attention", kind, ATTENTIONS)
        self.kind = kind
        if kind == "bahdanau":
            size = size or query_size
            self.key = nn.Linear(memory_size, size, bias=False)  # W_k
            self.query = nn.Linear(query_size, size, bias=True)  # W_q (its bias is the score's bias)
            self.v = nn.Linear(size, 1, bias=False)  # v
        else:
            self.key = nn.Linear(memory_size, query_size, bias=False)  # W_k: qᵀ W_k h_j

    def keys(self, memory: torch.Tensor) -> torch.Tensor:
        return self.key(memory)  # (B, S, K)

    def scores(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """e: ``(B, S)`` for a query ``(B, Q)``, ``(B, T, S)`` for queries ``(B, T, Q)``."""
        single = query.dim() == 2
        q = query.unsqueeze(1) if single else query  # (B, T, Q)
        if self.kind == "bahdanau":
            e = self.v(torch.tanh(self.query(q).unsqueeze(2) + keys.unsqueeze(1))).squeeze(-1)  # (B, T, S)
        else:
            e = q @ keys.transpose(1, 2)  # (B, T, S)
        return e.squeeze(1) if single else e

    def forward(self, query, memory, keys, mask):
        alpha = masked_softmax(self.scores(query, keys), mask)  # (B, [T,] S)
        if alpha.dim() == 2:
            return (alpha.unsqueeze(1) @ memory).squeeze(1), alpha  # (B, M)
        return alpha @ memory, alpha  # (B, T, M)
