"""The LSTM family: standard (Hochreiter & Schmidhuber 1997, forget gate Gers 2000), peephole and
coupled-gate variants, course-notes §5."""

from __future__ import annotations

import math

import torch
from torch import nn

from rnnkit.cells.base import LSTMState, RecurrentCell
from rnnkit.cells.equations import equations


@equations({
    'lstm': ('LSTM with a forget gate (Hochreiter & Schmidhuber 1997, Gers 2000; course §5)', (
        'i_t = σ(W_i [h_{t-1}; x_t] + b_i)',
        'f_t = σ(W_f [h_{t-1}; x_t] + b_f)',
        'g_t = tanh(W_g [h_{t-1}; x_t] + b_g)',
        'o_t = σ(W_o [h_{t-1}; x_t] + b_o)',
        'c_t = f_t * c_{t-1} + i_t * g_t',
        'h_t = o_t * tanh(c_t)',
    )),
    'peephole-lstm': ('peephole LSTM (Gers & Schmidhuber 2000): f and i also see c_{t-1}, o sees c_t', (
        'i_t = σ(W_i [h_{t-1}; x_t] + w_ci * c_{t-1} + b_i)',
        'f_t = σ(W_f [h_{t-1}; x_t] + w_cf * c_{t-1} + b_f)',
        'g_t = tanh(W_g [h_{t-1}; x_t] + b_g)',
        'c_t = f_t * c_{t-1} + i_t * g_t',
        'o_t = σ(W_o [h_{t-1}; x_t] + w_co * c_t + b_o)',
        'h_t = o_t * tanh(c_t)',
    )),
    'coupled-lstm': ('LSTM with coupled input and forget gates: one gate forgets and writes', (
        'f_t = σ(W_f [h_{t-1}; x_t] + b_f)',
        'g_t = tanh(W_g [h_{t-1}; x_t] + b_g)',
        'o_t = σ(W_o [h_{t-1}; x_t] + b_o)',
        'c_t = f_t * c_{t-1} + (1 - f_t) * g_t',
        'h_t = o_t * tanh(c_t)',
    )),
})
class LSTMCell(RecurrentCell):
    """Long short-term memory. Gate order i, f, g, o in the rows of ``weight_ih (4H, F)`` and ``weight_hh (4H, H)``
    (torch.nn.LSTMCell's layout, whose state_dict loads); the equations of each variant are below.

    ``peephole=True`` (Gers & Schmidhuber 2000): i and f also see c_{t-1}, o sees c_t, through
    diagonal weights ``w_ci, w_cf, w_co (H,)``: ``i = σ(... + w_ci * c_{t-1})``, etc.

    ``coupled=True``: one gate decides both forgetting and writing, ``c_t = f * c_{t-1} + (1 - f) * g``.
    There is no input gate, so the rows hold three blocks, f, g, o (the order above without i).

    State: ``LSTMState(h, c)``, each ``(B, H)``; output h_t.
    """

    has_cell_state = True

    def __init__(self, input_size: int, hidden_size: int, peephole: bool = False, coupled: bool = False):
        self.peephole, self.coupled = bool(peephole), bool(coupled)
        self.num_gates = 3 if coupled else 4
        self.forget_gate = 0 if coupled else 1
        super().__init__(input_size, hidden_size)
        if peephole:
            bound = 1.0 / math.sqrt(hidden_size)
            for name in ("w_cf", "w_co") if coupled else ("w_ci", "w_cf", "w_co"):
                self.register_parameter(name, nn.Parameter(torch.empty(hidden_size).uniform_(-bound, bound)))

    def forward(self, x: torch.Tensor, state: LSTMState):  # x (B, F), h, c (B, H)
        h, c = state
        gates = self.gate_preactivations(x, h)  # (B, G*H)
        if self.coupled:
            f, g, o = gates.chunk(3, dim=1)
        else:
            i, f, g, o = gates.chunk(4, dim=1)
        if self.peephole:  # the gates look at the memory cell
            f = f + self.w_cf * c
            if not self.coupled:
                i = i + self.w_ci * c
        f = torch.sigmoid(f)
        i = 1 - f if self.coupled else torch.sigmoid(i)
        g = torch.tanh(g)
        c = f * c + i * g
        if self.peephole:
            o = o + self.w_co * c  # the output gate sees the new cell c_t
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, LSTMState(h, c)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, peephole={self.peephole}, coupled={self.coupled}"
