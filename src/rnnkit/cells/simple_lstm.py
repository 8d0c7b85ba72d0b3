"""The course's "simple" LSTM: a residual cell whose memory is a running sum, course-notes §5."""

from __future__ import annotations

import torch

from rnnkit.cells.base import LSTMState, RecurrentCell
from rnnkit.cells.equations import equations


@equations({
    'simple-lstm': ("the course's simple LSTM: a residual memory, no gates (course §5); d c_t / d c_{t-1} = I", (
        'c_t = c_{t-1} + tanh(W_h [h_{t-1}; x_t] + b_h)',
        'h_t = tanh(c_t)',
    )),
})
class SimpleLSTMCell(RecurrentCell):
    """Residual memory cell, no gates:

        c_t = c_{t-1} + tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
        h_t = tanh(c_t)

    Since ``d c_t / d c_{t-1} = I``, the gradient along the cell path neither vanishes nor explodes:
    the idea the full LSTM refines with gates. State: ``LSTMState(h, c)``.
    """

    num_gates = 1
    has_cell_state = True

    def forward(self, x: torch.Tensor, state: LSTMState):  # x (B, F), h, c (B, H)
        h, c = state
        c = c + torch.tanh(self.gate_preactivations(x, h))
        h = torch.tanh(c)
        return h, LSTMState(h, c)
