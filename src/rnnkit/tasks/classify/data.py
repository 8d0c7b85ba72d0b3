"""The classify task's data: labelled texts read from TSV/CSV, tokenised and encoded, batched with their
lengths; the classifier's logits over a whole file and its scores."""

from __future__ import annotations

from typing import NamedTuple

import torch

from rnnkit.data.batching import pad_sequences
from rnnkit.data.text import TokenVocab, tokenize
from rnnkit.models.classifier import class_probabilities, classification_loss


class TextBatch(NamedTuple):
    """Token ids ``(b, T)`` (0 = padding) and each text's length ``(b,)``: a classifier's inputs."""

    ids: torch.Tensor
    lengths: torch.Tensor

    @property
    def tokens(self) -> int:
        return int(self.lengths.sum())


class Encoded:
    """Token ids of each text and its class id: ``batch(indices) -> (TextBatch, labels (b,))``."""

    def __init__(self, texts: list[str], vocab: TokenVocab, tokens: str, max_len: int = 0,
                 labels: list[int] | None = None):
        self.ids = [vocab.encode(tokenize(t, tokens)[: max_len or None]) for t in texts]
        self.labels = torch.tensor(labels if labels is not None else [0] * len(texts), dtype=torch.long)

    def __len__(self) -> int:
        return len(self.ids)

    def batch(self, indices, generator=None) -> tuple[TextBatch, torch.Tensor]:
        ids, lengths = pad_sequences([self.ids[i] for i in indices])  # (b, T), 0 = padding; (b,)
        return TextBatch(ids, lengths), self.labels[torch.as_tensor(indices, dtype=torch.long)]


@torch.no_grad()
def predict_logits(model, data: Encoded, batch_size: int = 256) -> torch.Tensor:
    """Logits for every text, in order: ``(N,)`` for a binary head, else ``(N, C)``."""
    model.eval()
    device = next(model.parameters()).device
    order = sorted(range(len(data)), key=lambda i: len(data.ids[i]))  # similar lengths together: less padding
    out = [None] * len(data)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        (ids, lengths), _ = data.batch(chunk)
        logits, _, _ = model((ids.to(device), lengths.to(device)))
        for i, row in zip(chunk, logits.float().cpu()):
            out[i] = row
    return torch.stack(out)


def scores(logits: torch.Tensor, labels: torch.Tensor, num_classes: int) -> dict:
    """Loss, accuracy and the confusion matrix (rows: true class, columns: predicted class)."""
    predicted = class_probabilities(logits).argmax(1)
    confusion = torch.zeros(num_classes, num_classes, dtype=torch.long)
    confusion.index_put_((labels, predicted), torch.ones_like(labels), accumulate=True)
    return {"loss": float(classification_loss(logits, labels)), "accuracy": float((predicted == labels).float().mean()),
            "confusion": confusion.tolist()}
