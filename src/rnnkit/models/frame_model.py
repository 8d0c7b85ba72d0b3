"""A next-frame model of binary vectors (a piano roll): the course's sigmoid output head on an RNN.

    frames x_0 = 0, x_1 .. x_{T-1}  (B, T, P) -> RNN (B, T, H) -> Linear -> logits (B, T, P)
    p(x_{t+1, k} = 1 | x_1..x_t) = sigmoid(logit_{t, k})        one independent Bernoulli per pitch k

The loss is the negative log-likelihood per frame, as in Chung et al. 2014 (§4.1, polyphonic music):
the binary cross-entropy summed over the P pitches and averaged over the frames of the batch (padding
excluded). Each step reads only the frames before it, so the padding at the end of a shorter sequence
never reaches a real frame's prediction and the loss just masks it.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from rnnkit.layers import build_rnn
from rnnkit.models.frame_model_config import FrameModelConfig


class FrameBatch(NamedTuple):
    """Input frames ``(B, T, P)`` (the target frames shifted one step right, a zero frame first) and
    each sequence's length ``(B,)``."""

    frames: torch.Tensor
    lengths: torch.Tensor

    @property
    def tokens(self) -> int:  # what the trainer's rate counts: frames, padding excluded
        return int(self.lengths.sum())


def frame_mask(lengths: torch.Tensor, steps: int) -> torch.Tensor:
    """``(B, T)``: True at the real frames of each sequence."""
    return torch.arange(steps, device=lengths.device)[None, :] < lengths[:, None]


def frame_nll(logits: torch.Tensor, targets: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(nll summed over every real frame, number of real frames)``: the BCE of each pitch, summed over
    pitches and frames (divide one by the other for the NLL per frame)."""
    bce = F.binary_cross_entropy_with_logits(logits.float(), targets.float(), reduction="none").sum(-1)  # (B, T)
    mask = frame_mask(lengths, logits.shape[1])
    return (bce * mask).sum(), mask.sum()


class FrameModel(nn.Module):
    """``forward(FrameBatch, targets (B, T, P) or None, state=None) -> (logits (B, T, P), nll per frame, state)``."""

    def __init__(self, pitches: int, config: FrameModelConfig):
        super().__init__()
        self.config, self.pitches = config, pitches  # valid: checked where it entered
        self.rnn = build_rnn(config.rnn, pitches, bidirectional=False)  # (B, T, P) -> (B, T, H)
        self.drop = nn.Dropout(config.head_dropout)
        self.head = nn.Linear(self.rnn.output_size, pitches)  # one logit per pitch: the sigmoid head

    def forward(self, inputs: FrameBatch, targets: torch.Tensor | None = None, state=None):
        h, state = self.rnn(inputs.frames, state)  # (B, T, H); one direction, so no lengths are needed
        logits = self.head(self.drop(h))  # (B, T, P)
        loss = None
        if targets is not None:
            total, frames = frame_nll(logits, targets, inputs.lengths)
            loss = total / frames.clamp(min=1)
        return logits, loss, state

    @torch.no_grad()
    def step(self, frame: torch.Tensor, state=None):
        """One frame ``(B, P)`` -> the next frame's logits ``(B, P)`` and the state carried on."""
        h, state = self.rnn(frame.unsqueeze(1), state)  # (B, 1, H)
        return self.head(h[:, 0]), state
