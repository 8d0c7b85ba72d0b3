"""The language model's data: a corpus split into its training head and held-out tail, and the two ways
of scoring a text (random windows from a zero state, nanoGPT's protocol; or the whole text as streams
with the state carried).

    corpus ids: [ ............ training (1 - val_fraction) ............ | validation tail ]
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from rnnkit.data.batching import split_streams
from rnnkit.data.vocab import CharVocab


def split_corpus(text: str, vocab: CharVocab, val_fraction: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The ids of the training head and of the validation tail (the last ``val_fraction``)."""
    ids = torch.tensor(vocab.encode(text, "corpus"), dtype=torch.long)
    n_val = max(1, int(len(ids) * val_fraction))
    return ids[:-n_val], ids[-n_val:]  # first 90% train, last 10% validation


def tail(text: str, fraction: float) -> str:
    """The last ``fraction`` of ``text`` as training holds it out (at least one character)."""
    n = max(1, int(len(text) * fraction))
    return text[len(text) - n:]


@torch.no_grad()
def window_loss(model, windows: torch.Tensor, batch_size: int = 64, progress: bool = False) -> float:
    """Mean cross-entropy (nats/char) of ``windows (N, L + 1)``, each scored from a zero state;
    ``progress``: a bar in characters/s on a terminal."""
    from rnnkit.runtime import progress as progress_bar

    device = next(model.parameters()).device
    total, count = 0.0, 0
    with progress_bar(total=windows[:, 1:].numel(), unit="char", desc="windows", enabled=progress) as bar:
        for chunk in windows.split(batch_size):
            chunk = chunk.to(device)
            logits, _, _ = model(chunk[:, :-1])  # (b, L, V)
            total += float(F.cross_entropy(logits.flatten(0, 1).float(), chunk[:, 1:].flatten(), reduction="sum"))
            count += chunk[:, 1:].numel()
            bar.update(chunk[:, 1:].numel())
    return total / count


@torch.no_grad()
def stream_loss(model, ids: torch.Tensor, batch_size: int = 16, seq_len: int = 256, progress: bool = False) -> float:
    """Mean cross-entropy of a whole text, read as ``batch_size`` streams with the state carried;
    ``progress``: a bar in characters/s on a terminal."""
    from rnnkit.runtime import progress as progress_bar

    device = next(model.parameters()).device
    streams = split_streams(ids, batch_size).to(device)  # (B, N)
    state, total, count = None, 0.0, 0
    with progress_bar(total=streams[:, 1:].numel(), unit="char", desc="text", enabled=progress) as bar:
        for start in range(0, streams.shape[1] - 1, seq_len):
            inputs = streams[:, start : start + seq_len]
            targets = streams[:, start + 1 : start + seq_len + 1]
            inputs = inputs[:, : targets.shape[1]]
            logits, _, state = model(inputs, state=state)
            total += float(F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten(), reduction="sum"))
            count += targets.numel()
            bar.update(targets.numel())
    return total / count


def same_corpus(a: str | None, b: str | None) -> bool:
    """Whether two ``--corpus`` values name the same text (``None``: the embedded corpus)."""
    from pathlib import Path

    if a is None or b is None:
        return a is None and b is None
    return Path(a).resolve() == Path(b).resolve()
