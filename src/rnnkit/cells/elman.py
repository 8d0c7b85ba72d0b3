"""The standard (Elman) RNN cell, course-notes §2."""

from __future__ import annotations

import torch

from rnnkit.cells.base import RecurrentCell
from rnnkit.cells.equations import equations
from rnnkit.errors import unknown_choice

ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}


@equations({
    'elman': ('Elman RNN, tanh (course §2)', (
        'h_t = tanh(W_h [h_{t-1}; x_t] + b_h)',
    )),
    'elman-relu': ('Elman RNN, ReLU (course §2, §4: with W_hh = I it is the IRNN)', (
        'h_t = relu(W_h [h_{t-1}; x_t] + b_h)',
    )),
    'elman-sigmoid': ('Elman RNN, sigmoid (course §2)', (
        'h_t = σ(W_h [h_{t-1}; x_t] + b_h)',
    )),
})
class ElmanCell(RecurrentCell):
    """Elman RNN: ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``, act = tanh, relu or sigmoid.

    The course writes it ``h_t = act(W_h [h_{t-1}; x_t] + b_h)``; output = state = h_t. Parameters
    match ``torch.nn.RNNCell``, so its state_dict loads (tanh and relu, torch's two nonlinearities).

    >>> cell = ElmanCell(10, 20, activation="relu")
    >>> h = cell.init_state(4)               # (4, 20)
    >>> out, h = cell(torch.randn(4, 10), h)
    """

    num_gates = 1

    def __init__(self, input_size: int, hidden_size: int, activation: str = "tanh"):
        if activation not in ACTIVATIONS:
            raise unknown_choice("activation", activation, ACTIVATIONS)
        self.activation = activation
        super().__init__(input_size, hidden_size)

    def forward(self, x: torch.Tensor, h: torch.Tensor):  # x (B, F), h (B, H)
        h = ACTIVATIONS[self.activation](self.gate_preactivations(x, h))  # (B, H)
        return h, h

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, activation={self.activation!r}"
