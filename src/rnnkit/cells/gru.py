"""The gated recurrent unit (Cho et al. 2014), course-notes §6."""

from __future__ import annotations

import torch
from torch import nn

from rnnkit.cells.base import RecurrentCell
from rnnkit.cells.equations import equations


@equations({
    'gru': ("GRU (Cho et al. 2014; course §6), torch's and cuDNN's form: r applied after W_hn h_{t-1}", (
        'r_t = σ(W_r [h_{t-1}; x_t] + b_r)',
        'z_t = σ(W_z [h_{t-1}; x_t] + b_z)',
        'n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))',
        'h_t = (1 - z_t) * n_t + z_t * h_{t-1}',
    )),
    'gru-course': ('GRU as the course and Cho write it: the reset gate before the recurrent product', (
        'r_t = σ(W_r [h_{t-1}; x_t] + b_r)',
        'z_t = σ(W_z [h_{t-1}; x_t] + b_z)',
        'n_t = tanh(W [r_t * h_{t-1}; x_t] + b)',
        'h_t = (1 - z_t) * n_t + z_t * h_{t-1}',
    )),
})
class GRUCell(RecurrentCell):
    """GRU. Gate order r, z, n (torch.nn.GRUCell's layout, whose state_dict loads):

        r = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)         reset gate
        z = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)         update gate
        n = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn))  candidate  (reset_after=True)
        h_t = (1 - z) * n + z * h_{t-1}

    ``reset_after=True`` is torch's and cuDNN's form (r applied after the recurrent product).
    ``reset_after=False`` is the course's and Cho's form, ``n = tanh(W_in x_t + b_in + W_hn (r * h_{t-1})
    + b_hn)``: a slightly different model that only the readable loop runs. With r = 1 and z = 0 both
    are the standard RNN. (The course also writes the update with z and 1 - z swapped: same model.)
    """

    num_gates = 3
    forget_gate = 1  # z plays the forget gate's role (z = 1 keeps h_{t-1}): ``forget_bias`` sets b_z

    def __init__(self, input_size: int, hidden_size: int, reset_after: bool = True):
        self.reset_after = bool(reset_after)
        super().__init__(input_size, hidden_size)

    def forward(self, x: torch.Tensor, h: torch.Tensor):  # x (B, F), h (B, H)
        x_r, x_z, x_n = nn.functional.linear(x, self.weight_ih, self.bias_ih).chunk(3, dim=1)
        W_hr, W_hz, W_hn = self.weight_hh.chunk(3, dim=0)
        b_hr, b_hz, b_hn = self.bias_hh.chunk(3, dim=0)
        r = torch.sigmoid(x_r + nn.functional.linear(h, W_hr, b_hr))
        z = torch.sigmoid(x_z + nn.functional.linear(h, W_hz, b_hz))
        if self.reset_after:
            n = torch.tanh(x_n + r * nn.functional.linear(h, W_hn, b_hn))
        else:
            n = torch.tanh(x_n + nn.functional.linear(r * h, W_hn, b_hn))
        h = (1 - z) * n + z * h
        return h, h

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, reset_after={self.reset_after}"
