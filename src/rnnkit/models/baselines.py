"""The course's baselines (course-notes §10), with the task models' ``forward`` signature so the same
trainer fits them:

- ``BagOfTokens``: logistic regression on token frequencies (bag of characters or words), for
  classification; ``p(y | text) = softmax(W f + b)``, ``f_v = count_v / length``.
- ``WindowMLP``: a feed-forward net on a sliding window of a series.
- ``WindowConv``: 1-D convolutions over time on the same window.

(The naive and seasonal-naive forecasts need no training: ``rnnkit.tasks.forecast.scores``.)
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from rnnkit.models.classifier import classification_loss
from rnnkit.models.forecaster import forecast_loss


class BagOfTokens(nn.Module):
    """``forward((ids (B, T), lengths (B,)), targets=None, state=None) -> (logits, loss, None)``."""

    def __init__(self, vocab_size: int, num_classes: int):
        super().__init__()
        self.vocab_size = vocab_size
        self.linear = nn.Linear(vocab_size, 1 if num_classes == 2 else num_classes)

    def forward(self, inputs, targets: torch.Tensor | None = None, state=None):
        ids, lengths = inputs  # (B, T), (B,)
        counts = torch.zeros(ids.shape[0], self.vocab_size, device=ids.device)
        counts.scatter_add_(1, ids, torch.ones_like(ids, dtype=counts.dtype))  # (B, V)
        counts[:, 0] = 0  # padding is not a token
        logits = self.linear(counts / lengths.to(counts).unsqueeze(1))  # (B, C) or (B, 1)
        if logits.shape[1] == 1:
            logits = logits.squeeze(1)
        loss = classification_loss(logits, targets) if targets is not None else None
        return logits, loss, None


class WindowMLP(nn.Module):
    """``window (B, W) -> [Linear -> ReLU] x layers -> Linear -> (B, K)``: the sliding-window network."""

    def __init__(self, window: int, outputs: int, hidden: int = 64, layers: int = 2, dropout: float = 0.0):
        super().__init__()
        sizes = [window] + [hidden] * layers
        self.body = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(sizes[-1], outputs)

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor | None = None, state=None):
        h = inputs  # (B, W)
        for layer in self.body:
            h = self.drop(F.relu(layer(h)))  # (B, hidden)
        preds = self.head(h)  # (B, K)
        return preds, forecast_loss(preds, targets), None


class WindowConv(nn.Module):
    """``window (B, W) -> (B, 1, W) -> [Conv1d(kernel) -> ReLU] x layers -> flatten -> Linear -> (B, K)``."""

    def __init__(self, window: int, outputs: int, channels: int = 32, layers: int = 2, kernel: int = 3,
                 dropout: float = 0.0):
        super().__init__()  # window > layers * (kernel - 1): the forecast task checks it
        self.convs = nn.ModuleList(nn.Conv1d(1 if i == 0 else channels, channels, kernel) for i in range(layers))
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(channels * (window - layers * (kernel - 1)), outputs)

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor | None = None, state=None):
        h = inputs.unsqueeze(1)  # (B, 1, W)
        for conv in self.convs:
            h = F.relu(conv(h))  # (B, C, W') with W' shrinking by kernel - 1
        preds = self.head(self.drop(h.flatten(1)))  # (B, K)
        return preds, forecast_loss(preds, targets), None
