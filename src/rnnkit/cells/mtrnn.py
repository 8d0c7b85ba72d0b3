"""The multiple-timescale RNN's leaky unit (Tani 2008), course-notes §4."""

from __future__ import annotations

import torch

from rnnkit.cells.base import RecurrentCell
from rnnkit.cells.equations import equations
from rnnkit.cells.elman import ACTIVATIONS
from rnnkit.errors import RnnkitError, unknown_choice


@equations({
    'mtrnn': ("multiple-timescale RNN's leaky units (Tani 2008; course §4); tau = 1 is the Elman RNN", (
        'h_t = (1 - 1/tau) * h_{t-1} + (1/tau) * tanh(W_h [h_{t-1}; x_t] + b_h)',
    )),
})
class MTRNNCell(RecurrentCell):
    """Leaky-integrator units with time constant tau:

        h_t = (1 - 1/tau) * h_{t-1} + (1/tau) * act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)

    tau = 1 is the Elman RNN; a large tau makes a slow unit that keeps its value over ~tau steps.
    ``tau`` is one number or one per hidden unit (fast and slow units in one layer); stacking layers
    with growing tau gives Tani's fast-to-slow hierarchy. Output = state = h_t.
    """

    num_gates = 1

    def __init__(self, input_size: int, hidden_size: int, tau=2.0, activation: str = "tanh"):
        if activation not in ACTIVATIONS:
            raise unknown_choice("activation", activation, ACTIVATIONS)
        self.activation = activation
        super().__init__(input_size, hidden_size)
        tau = torch.as_tensor(tau, dtype=torch.get_default_dtype(), device="cpu").flatten()  # checked here, even on meta
        if tau.numel() not in (1, hidden_size) or bool((tau < 1).any()):
            raise RnnkitError(
                f"tau must be one number >= 1 or {hidden_size} numbers >= 1 (one per unit), got {tau.tolist()}"
            )
        self.register_buffer("tau", tau.expand(hidden_size).clone().to(self.weight_ih.device))  # (H,), beside the weights

    def forward(self, x: torch.Tensor, h: torch.Tensor):  # x (B, F), h (B, H)
        alpha = 1.0 / self.tau  # (H,), the leak rate
        h = (1 - alpha) * h + alpha * ACTIVATIONS[self.activation](self.gate_preactivations(x, h))
        return h, h

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, activation={self.activation!r}"
