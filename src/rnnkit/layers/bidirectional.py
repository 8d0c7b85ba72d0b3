"""Two directions over one sequence, course-notes §2: ``o_t = W_o [h_fwd_t; h_bwd_t] + b_o``."""

from __future__ import annotations

import torch
from torch import nn

from rnnkit.layers.recurrent import Recurrent


class Bidirectional(nn.Module):
    """A forward state over x_1..x_t and a backward state over x_T..x_t, concatenated.

        x (B, T, F) -> outputs (B, T, 2H) = [h_fwd_t ; h_bwd_t], state (fwd_state, bwd_state)

    With ``lengths``, the backward direction starts at each sequence's own last step.
    """

    def __init__(self, forward_cell, backward_cell, engine: str = "auto"):
        super().__init__()
        self.fwd = Recurrent(forward_cell, reverse=False, engine=engine)
        self.bwd = Recurrent(backward_cell, reverse=True, engine=engine)

    @property
    def output_size(self) -> int:
        return self.fwd.output_size + self.bwd.output_size

    def init_state(self, batch: int, device=None, dtype=None):
        return (self.fwd.init_state(batch, device, dtype), self.bwd.init_state(batch, device, dtype))

    @property
    def engine_used(self) -> str:
        return self.fwd.engine_used

    def forward(self, x: torch.Tensor, state=None, lengths: torch.Tensor | None = None):
        s_fwd, s_bwd = state if state is not None else (None, None)
        out_fwd, s_fwd = self.fwd(x, s_fwd, lengths)  # (B, T, H)
        out_bwd, s_bwd = self.bwd(x, s_bwd, lengths)  # (B, T, H)
        return torch.cat([out_fwd, out_bwd], dim=-1), (s_fwd, s_bwd)  # (B, T, 2H)
