"""Models for the synthetic tasks, with the common ``forward(inputs, targets, state) -> (outputs, loss,
state)`` and a truncation length for backpropagation through time inside a sequence.

``truncate = k`` detaches the state every k steps, so gradients flow back at most k steps: k = 1 is
Elman's Simple Recurrent Network (1990), whose context layer is a copy of the previous hidden layer
trained by backprop through one step only; ``truncate = 0`` is full BPTT.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from rnnkit.layers import build_rnn, detach_state


class SequenceTaskModel(nn.Module):
    """An RNN with a linear head, for the adding problem (``many_to_one``: regress the sum from the last
    output, MSE), the sequential digits (``many_to_one`` and ``classify``: the class from the last
    output, cross-entropy) or the copy task (``many_to_many``: classify every step, cross-entropy)."""

    def __init__(self, cell: str, input_size: int, hidden: int, output_size: int, many_to_one: bool,
                 truncate: int = 0, one_hot: int = 0, init: str = "default", spectral_radius: float = 1.0,
                 forget_bias: float | None = None, num_layers: int = 1, classify: bool = False, **cell_options):
        super().__init__()
        self.one_hot, self.truncate, self.many_to_one, self.classify = one_hot, truncate, many_to_one, classify
        self.rnn = build_rnn(cell, one_hot or input_size, hidden, num_layers=num_layers, init=init,
                             spectral_radius=spectral_radius, forget_bias=forget_bias, **cell_options)
        self.head = nn.Linear(hidden, output_size)

    def run(self, x: torch.Tensor, state=None):
        """The RNN over ``x (B, T, F)``, detaching the state every ``truncate`` steps."""
        if not self.truncate:
            return self.rnn(x, state)
        outputs = []
        for chunk in x.split(self.truncate, dim=1):
            out, state = self.rnn(chunk, state)
            outputs.append(out)
            state = detach_state(state)  # no gradient flows back past this point
        return torch.cat(outputs, dim=1), state

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor | None = None, state=None):
        x = F.one_hot(inputs, self.one_hot).float() if self.one_hot else inputs  # (B, T, F)
        h, state = self.run(x, state)  # (B, T, H)
        if self.many_to_one:
            out = self.head(h[:, -1])  # (B, output)
            if targets is None:
                loss = None
            else:
                loss = F.cross_entropy(out, targets) if self.classify else F.mse_loss(out, targets)
        else:
            out = self.head(h)  # (B, T, C)
            loss = F.cross_entropy(out.flatten(0, 1), targets.flatten()) if targets is not None else None
        return out, loss, state
