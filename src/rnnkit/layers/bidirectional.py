"""Two directions over one sequence, course-notes §2: ``o_t = W_o [h_fwd_t; h_bwd_t] + b_o``."""

from __future__ import annotations

import torch
from torch import nn

from rnnkit.layers.recurrent import Recurrent, check_lengths
from rnnkit.layers.torch_engine import run_torch_directions, torch_kernel


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
        if self.can_fuse(x):
            return self.fused(x, s_fwd, s_bwd, lengths)
        out_fwd, s_fwd = self.fwd(x, s_fwd, lengths)  # (B, T, H)
        out_bwd, s_bwd = self.bwd(x, s_bwd, lengths)  # (B, T, H)
        return torch.cat([out_fwd, out_bwd], dim=-1), (s_fwd, s_bwd)  # (B, T, 2H)

    def can_fuse(self, x: torch.Tensor) -> bool:
        """Both directions run torch's kernel for the same equations and sizes, on a well-shaped input."""
        f, b = self.fwd.cell, self.bwd.cell
        if x.dim() != 3 or x.shape[2] != f.input_size:
            return False
        engines = (self.fwd.pick_engine(x.shape[0], x.device), self.bwd.pick_engine(x.shape[0], x.device))
        return (engines == ("torch", "torch") and torch_kernel(f) is torch_kernel(b)
                and (f.input_size, f.hidden_size) == (b.input_size, b.hidden_size))

    def fused(self, x: torch.Tensor, s_fwd, s_bwd, lengths: torch.Tensor | None):
        """Both directions in one call of torch's bidirectional kernel (the same weights, the same result
        as running them one after the other)."""
        B, T, _ = x.shape
        lengths = check_lengths(lengths, B, T)
        states = [s if s is not None else r.cell.init_state(B, x.device, x.dtype)
                  for s, r in ((s_fwd, self.fwd), (s_bwd, self.bwd))]
        out, (s_fwd, s_bwd) = run_torch_directions([self.fwd.cell, self.bwd.cell], x, states, lengths)
        self.fwd.last_engine = self.bwd.last_engine = "torch"
        return out, (s_fwd, s_bwd)  # (B, T, 2H)
