"""Deep RNNs, course-notes §7: each layer's outputs are the next layer's inputs."""

from __future__ import annotations

import torch
from torch import nn

from rnnkit.errors import RnnkitError


class Stacked(nn.Module):
    """A stack of recurrent layers (``Recurrent`` or ``Bidirectional``), with dropout between layers
    and optional residual connections:

        x^(l+1) = dropout(layer_l(x^(l)))             or, with residual,
        x^(l+1) = dropout(layer_l(x^(l))) + x^(l)     (for every layer whose input and output sizes match)

    ``forward(x (B, T, F), state=None, lengths=None) -> (outputs (B, T, H_last), state)``, where the
    state is a tuple with one entry per layer. Dropout is not applied after the last layer.
    """

    def __init__(self, layers: list[nn.Module], dropout: float = 0.0, residual: bool = False):
        super().__init__()
        if not layers:
            raise RnnkitError("a stack needs at least one layer")
        if not 0.0 <= dropout < 1.0:
            raise RnnkitError(f"dropout must be in [0, 1), got {dropout}")
        self.layers = nn.ModuleList(layers)
        self.dropout = nn.Dropout(dropout)
        self.residual = residual

    @property
    def output_size(self) -> int:
        return self.layers[-1].output_size

    def init_state(self, batch: int, device=None, dtype=None) -> tuple:
        """The zero state of every layer: a tuple with one entry per layer."""
        return tuple(layer.init_state(batch, device, dtype) for layer in self.layers)

    def forward(self, x: torch.Tensor, state=None, lengths: torch.Tensor | None = None):
        states_in = state if state is not None else (None,) * len(self.layers)
        states_out = []
        for l, (layer, s) in enumerate(zip(self.layers, states_in)):
            out, s = layer(x, s, lengths)  # (B, T, H_l)
            if l < len(self.layers) - 1:
                out = self.dropout(out)
            if self.residual and out.shape[-1] == x.shape[-1]:
                out = out + x
            x = out
            states_out.append(s)
        return x, tuple(states_out)
