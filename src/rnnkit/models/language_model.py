"""A character-level language model, p(x_1..x_n) = prod_t p(x_t | x_<t) (course-notes §3, §8).

    ids (B, T) -> embedding or one-hot (B, T, E) -> stacked RNN (B, T, H) -> linear (B, T, V) = logits
    p_t = softmax(o_t); loss = mean over t of -log p_t[x_{t+1}]   (nats per character)
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from rnnkit.layers import build_rnn
from rnnkit.models.language_model_config import LMConfig


class CharLM(nn.Module):
    """Embedding (or one-hot) -> any stacked RNN -> softmax head, with optional weight tying.

    ``forward(inputs (B, T), targets (B, T) = None, state = None) -> (logits (B, T, V), loss, state)``;
    ``step(tokens (N,), state) -> (log_probs (N, V), state)`` is the decoders' step interface: it
    advances the state by one character, so generation never re-runs the prefix.
    """

    def __init__(self, vocab_size: int, config: LMConfig):
        super().__init__()
        c = config
        self.vocab_size, self.config = vocab_size, c
        self.embed = nn.Embedding(vocab_size, c.embedding) if c.embedding > 0 else None
        self.rnn = build_rnn(c.rnn, c.embedding or vocab_size, bidirectional=False)
        self.drop = nn.Dropout(c.rnn.dropout)
        self.head = nn.Linear(self.rnn.output_size, vocab_size)  # o_t = W_o h_t + b_o
        if c.tie_weights:  # the embedding is then of the hidden size (the task's check says so)
            self.head.weight = self.embed.weight

    def encode(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.embed is not None:
            return self.drop(self.embed(inputs))  # (B, T, E)
        return F.one_hot(inputs, self.vocab_size).to(self.head.weight.dtype)  # (B, T, V)

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor | None = None, state=None):
        h, state = self.rnn(self.encode(inputs), state)  # (B, T, H)
        logits = self.head(self.drop(h))  # (B, T, V)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten())
        return logits, loss, state

    def init_state(self, batch: int):
        p = self.head.weight
        return self.rnn.init_state(batch, p.device, p.dtype)

    def step(self, tokens: torch.Tensor, state):
        """One character: ``tokens (N,) -> log-probabilities (N, V)`` of the next one, and the new state."""
        logits, _, state = self(tokens.unsqueeze(1), state=state)  # (N, 1, V)
        return F.log_softmax(logits[:, 0].float(), dim=-1), state

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
