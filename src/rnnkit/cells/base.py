"""What every cell shares: the one-step contract, the state types and the parameter layout.

A cell computes ONE time step, ``output, state = cell(x_t, state)``; the loop over time, the
directions and the depth live in ``rnnkit.layers``. Gates are stacked in the rows of
``weight_ih (G*H, F)``, ``weight_hh (G*H, H)``, ``bias_ih (G*H,)`` and ``bias_hh (G*H,)``, the
layout of ``torch.nn.RNNCell / LSTMCell / GRUCell`` (G gates, H hidden units, F input features).
"""

from __future__ import annotations

import math
from typing import NamedTuple, Union

import torch
from torch import nn


class LSTMState(NamedTuple):
    """The state of the LSTM family: hidden state and memory cell, each ``(B, H)``."""

    h: torch.Tensor
    c: torch.Tensor


#: A state is a ``(B, H)`` tensor or an LSTMState; layers nest them in tuples (directions, depth).
State = Union[torch.Tensor, LSTMState, tuple]


class RecurrentCell(nn.Module):
    """Base class: owns ``weight_ih, weight_hh, bias_ih, bias_hh`` for ``num_gates`` gates.

    Subclasses set ``num_gates`` (and ``forget_gate``, the index of the forget-gate block, if they have
    one) and write ``forward(x_t, state) -> (output, state)`` as the course's equations.
    """

    num_gates: int = 1
    forget_gate: int | None = None  # index of the forget-gate block in the stacked rows
    has_cell_state: bool = False  # True when the state is LSTMState(h, c)
    has_recurrent_weights: bool = True  # False for cells whose gates see x_t only (no weight_hh, bias_hh)

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        from rnnkit.errors import RnnkitError

        for name, v in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(v, int) or v < 1:
                raise RnnkitError(f"{name} must be a positive integer, got {v!r}")
        self.input_size, self.hidden_size = input_size, hidden_size
        G, H = self.num_gates, hidden_size
        recurrent = self.has_recurrent_weights  # registration order kept: weight_ih, weight_hh, bias_ih, bias_hh
        self.weight_ih = nn.Parameter(torch.empty(G * H, input_size))  # (G*H, F)
        if recurrent:
            self.weight_hh = nn.Parameter(torch.empty(G * H, H))  # (G*H, H)
        self.bias_ih = nn.Parameter(torch.empty(G * H))
        if recurrent:
            self.bias_hh = nn.Parameter(torch.empty(G * H))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch.nn's default: every weight ~ U(-1/sqrt(H), 1/sqrt(H))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def init_state(self, batch: int, device=None, dtype=None) -> State:
        """The zero state h_0 = 0 (and c_0 = 0): ``(B, H)`` tensors."""
        h = torch.zeros(batch, self.hidden_size, device=device, dtype=dtype or self.weight_ih.dtype)
        return LSTMState(h, torch.zeros_like(h)) if self.has_cell_state else h

    def gate_preactivations(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """``W_ih x_t + b_ih + W_hh h_{t-1} + b_hh`` for all gates at once: ``(B, G*H)``.

        This is the course's ``W [h_{t-1}; x_t] + b`` with W split into its input and recurrent halves.
        """
        return nn.functional.linear(x, self.weight_ih, self.bias_ih) + nn.functional.linear(
            h, self.weight_hh, self.bias_hh
        )

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"
