"""A many-to-one sequence classifier (course-notes §1: the sentiment of a sentence, who said it).

    ids (B, T), lengths (B,) -> embedding (B, T, E) -> stacked, optionally bidirectional RNN (B, T, H')
      -> pooling over time (B, H') -> [Dense -> ReLU] -> dropout -> Dense (B, C), or (B,) for two classes

Two classes use one logit, a sigmoid and binary cross-entropy (the course's head); more classes use
softmax and cross-entropy. ``build_classifier`` also builds the bag-of-tokens baseline.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from rnnkit.errors import RnnkitError, unknown_choice
from rnnkit.layers import build_rnn
from rnnkit.models.classifier_config import CLASSIFIERS, POOLINGS, ClassifierConfig


def pool(outputs: torch.Tensor, lengths: torch.Tensor, how: str, bidirectional: bool) -> torch.Tensor:
    """``outputs (B, T, H')`` of sequences of ``lengths (B,)`` -> ``(B, H')``.

    ``last``: the forward direction's output at each row's own last step and, if bidirectional, the
    backward direction's output at step 0 (where it has read the whole row); ``mean``/``max`` over
    the valid steps only."""
    B, T, H = outputs.shape
    lengths = lengths.to(outputs.device)
    if how == "last":
        rows = torch.arange(B, device=outputs.device)
        last = outputs[rows, lengths - 1]  # (B, H')
        if bidirectional:
            last = torch.cat([last[:, : H // 2], outputs[:, 0, H // 2 :]], dim=-1)
        return last
    valid = (torch.arange(T, device=outputs.device) < lengths.unsqueeze(1)).unsqueeze(-1)  # (B, T, 1)
    if how == "mean":
        return (outputs * valid).sum(1) / lengths.unsqueeze(1).to(outputs.dtype)
    if how == "max":
        return outputs.masked_fill(~valid, float("-inf")).amax(1)
    raise unknown_choice("pooling", how, POOLINGS)


def classification_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy on one logit per row ``(B,)``, else cross-entropy on ``(B, C)``."""
    if logits.dim() == 1:
        return F.binary_cross_entropy_with_logits(logits.float(), targets.float())
    return F.cross_entropy(logits.float(), targets)


def class_probabilities(logits: torch.Tensor) -> torch.Tensor:
    """``(B, C)`` probabilities from either head (for two classes: ``[1 - p, p]``)."""
    if logits.dim() == 1:
        p = torch.sigmoid(logits.float())
        return torch.stack([1 - p, p], dim=1)
    return torch.softmax(logits.float(), dim=-1)


class SequenceClassifier(nn.Module):
    """``forward((ids (B, T), lengths (B,)), targets (B,) = None, state=None) -> (logits, loss, state)``."""

    def __init__(self, vocab_size: int, num_classes: int, config: ClassifierConfig):
        super().__init__()
        c = self.config = config  # valid: checked where it entered (the flags, check_fields, a checkpoint)
        self.embed = nn.Embedding(vocab_size, c.embedding, padding_idx=0)
        self.drop = nn.Dropout(c.rnn.dropout)
        self.rnn = build_rnn(c.rnn, c.embedding)
        size = self.rnn.output_size
        self.dense = nn.Linear(size, c.dense) if c.dense else None  # Dense(256) -> ReLU in the course's recipe
        self.head_drop = nn.Dropout(c.head_dropout)
        self.head = nn.Linear(c.dense or size, 1 if num_classes == 2 else num_classes)

    def forward(self, inputs, targets: torch.Tensor | None = None, state=None):
        ids, lengths = inputs  # (B, T), (B,)
        x = self.drop(self.embed(ids))  # (B, T, E)
        outputs, state = self.rnn(x, state, lengths)  # (B, T, H')
        h = pool(outputs, lengths, self.config.pooling, self.config.rnn.bidirectional)  # (B, H')
        if self.dense is not None:
            h = F.relu(self.dense(h))  # (B, dense)
        logits = self.head(self.head_drop(h))  # (B, C) or (B, 1)
        if logits.shape[1] == 1:
            logits = logits.squeeze(1)  # (B,): one logit, sigmoid
        loss = classification_loss(logits, targets) if targets is not None else None
        return logits, loss, state


def build_classifier(vocab_size: int, num_classes: int, config: ClassifierConfig) -> nn.Module:
    """The model ``config.model`` names: ``rnn`` (``SequenceClassifier``) or ``bow`` (the baseline)."""
    if num_classes < 2:
        raise RnnkitError(f"a classifier needs at least 2 classes in the training data, found {num_classes}")
    if config.model == "rnn":
        return SequenceClassifier(vocab_size, num_classes, config)
    if config.model == "bow":
        from rnnkit.models.baselines import BagOfTokens

        return BagOfTokens(vocab_size, num_classes)
    raise unknown_choice("classifier model", config.model, CLASSIFIERS)
