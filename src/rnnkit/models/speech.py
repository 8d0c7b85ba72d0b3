"""Speech recognisers over acoustic frames (course-notes §1: speech recognition).

    frames (B, T, F), lengths (B,) -> [stack k adjacent frames: (B, T/k, kF)] -> RNN (B, T', H')
      isolated words (many-to-one):  pooling over time (B, H') -> dropout -> Dense (B, C): the word
      connected words (CTC):         Dense at every frame (B, T', C + 1) -> log-softmax, blank = 0

The RNN is ``build_rnn`` of the config's ``RNNConfig`` (bidirectional by default), so a standard cell runs
on torch's fused kernel.
The CTC model is trained with ``torch.nn.functional.ctc_loss``, which sums over every alignment of
the label sequence with the frames; ``rnnkit.decoding.ctc`` decodes its outputs.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from rnnkit.data.batching import length_mask
from rnnkit.layers import build_rnn
from rnnkit.models.classifier import pool
from rnnkit.models.speech_config import SpeechModelConfig

BLANK = 0  # the CTC blank; label c is output c + 1


def stack_frames(x: torch.Tensor, lengths: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(B, T, F)`` -> ``(B, ceil(T / k), k F)``: each output frame is k consecutive input frames side by
    side, so the RNN runs k times fewer steps. The frames past each row's length are zeroed first: a row's
    last output frame holds zeros after its last frame, whatever its padding held."""
    if k == 1:
        return x, lengths
    B, T, F_ = x.shape
    x = torch.where(length_mask(lengths.to(x.device), T).unsqueeze(-1), x, 0.0)  # (B, T, F), padding zeroed
    x = F.pad(x, (0, 0, 0, (-T) % k))  # (B, k ceil(T/k), F)
    return x.reshape(B, -1, k * F_), (lengths + k - 1) // k


class SpeechEncoder(nn.Module):
    """``(frames (B, T, F), lengths (B,)) -> (outputs (B, T', H'), lengths' (B,))``."""

    def __init__(self, features: int, config: SpeechModelConfig):
        super().__init__()  # config is valid: checked where it entered (the flags, check_fields, a checkpoint)
        self.stack, self.bidirectional = config.stack, config.rnn.bidirectional
        self.rnn = build_rnn(config.rnn, config.stack * features)
        self.output_size = self.rnn.output_size

    def forward(self, frames: torch.Tensor, lengths: torch.Tensor):
        x, lengths = stack_frames(frames, lengths, self.stack)  # (B, T', kF)
        outputs, _ = self.rnn(x, None, lengths)  # (B, T', H')
        return outputs, lengths


class WordClassifier(nn.Module):
    """Isolated words: ``forward((frames, lengths), labels (B,) = None) -> (logits (B, C), loss, None)``."""

    def __init__(self, features: int, num_classes: int, config: SpeechModelConfig):
        super().__init__()
        self.pooling = config.pooling
        self.encoder = SpeechEncoder(features, config)
        self.drop = nn.Dropout(config.head_dropout)
        self.head = nn.Linear(self.encoder.output_size, num_classes)

    def forward(self, inputs, targets: torch.Tensor | None = None, state=None):
        frames, lengths = inputs  # (B, T, F), (B,)
        outputs, lengths = self.encoder(frames, lengths)  # (B, T', H')
        h = pool(outputs, lengths, self.pooling, self.encoder.bidirectional)  # (B, H')
        logits = self.head(self.drop(h))  # (B, C)
        loss = F.cross_entropy(logits.float(), targets) if targets is not None else None
        return logits, loss, None


class CTCRecognizer(nn.Module):
    """Connected words: ``forward((frames, lengths), (labels (B, L), label_lengths (B,)) = None) ->
    ((log_probs (B, T', C + 1), lengths' (B,)), loss, None)``; labels are 0..C-1, output 0 is the blank.

    loss = mean over the batch of -log p(y | x) / |y| (``ctc_loss``'s ``mean`` reduction)."""

    def __init__(self, features: int, num_classes: int, config: SpeechModelConfig):
        super().__init__()
        self.encoder = SpeechEncoder(features, config)  # config.pooling: not used (an output per frame)
        self.drop = nn.Dropout(config.head_dropout)
        self.head = nn.Linear(self.encoder.output_size, num_classes + 1)

    def forward(self, inputs, targets=None, state=None):
        frames, lengths = inputs  # (B, T, F), (B,)
        outputs, lengths = self.encoder(frames, lengths)  # (B, T', H')
        log_probs = F.log_softmax(self.head(self.drop(outputs)).float(), dim=-1)  # (B, T', C + 1)
        loss = None
        if targets is not None:
            labels, label_lengths = targets  # (B, L), (B,)
            loss = F.ctc_loss(log_probs.transpose(0, 1), labels + 1, lengths, label_lengths, blank=BLANK,
                              zero_infinity=True)
        return (log_probs, lengths), loss, None
