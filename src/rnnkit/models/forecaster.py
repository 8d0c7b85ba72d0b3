"""An RNN forecaster for a univariate series (course-notes §1 many-to-one and many-to-many, §10).

    window (B, W) -> (B, W, 1) -> stacked RNN (B, W, H) -> Linear -> (B, W, K)
      many-to-one:  only the last step's output is the forecast and carries the loss   -> (B, K)
      many-to-many: every step t forecasts the K values after t (a loss at each step)   -> (B, W, K)

K is the horizon for the direct strategy (all steps at once) or 1 for the recursive one (each
forecast is fed back as the newest value of the window). ``build_forecaster`` also builds the
sliding-window MLP and 1-D convolution baselines.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from rnnkit.errors import unknown_choice
from rnnkit.layers import build_rnn
from rnnkit.models.forecaster_config import FORECASTERS, ForecasterConfig


def forecast_loss(preds: torch.Tensor, targets: torch.Tensor | None):
    """Mean squared error (in scaled units); None without targets."""
    return None if targets is None else F.mse_loss(preds.float(), targets.float())


class RNNForecaster(nn.Module):
    """``forward(window (B, W), targets=None, state=None) -> (forecast (B, K) or (B, W, K), loss, state)``."""

    def __init__(self, outputs: int, config: ForecasterConfig):
        super().__init__()
        c = self.config = config  # valid: checked where it entered (the flags, check_fields, a checkpoint)
        self.rnn = build_rnn(c.rnn, 1)  # (B, W, 1) -> (B, W, H)
        self.drop = nn.Dropout(c.rnn.dropout)
        self.head = nn.Linear(self.rnn.output_size, outputs)

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor | None = None, state=None):
        h, state = self.rnn(inputs.unsqueeze(-1), state)  # (B, W, 1) -> (B, W, H)
        if self.config.mode == "many-to-one":
            h = h[:, -1]  # (B, H): the state after reading the whole window
        preds = self.head(self.drop(h))  # (B, K) or (B, W, K)
        return preds, forecast_loss(preds, targets), state


def build_forecaster(window: int, outputs: int, config: ForecasterConfig) -> nn.Module:
    """The model ``config.model`` names, reading windows of ``window`` values and forecasting ``outputs``
    (the baselines take their width, depth and dropout from ``config.rnn``)."""
    c, r = config, config.rnn
    if c.model == "rnn":
        return RNNForecaster(outputs, c)
    from rnnkit.models.baselines import WindowConv, WindowMLP

    if c.model == "mlp":
        return WindowMLP(window, outputs, r.hidden, r.layers, r.dropout)
    if c.model == "conv":
        return WindowConv(window, outputs, r.hidden, r.layers, c.kernel, r.dropout)
    raise unknown_choice("forecaster model", c.model, FORECASTERS)
