"""The forecaster's settings (``rnnkit forecast train`` flags): the recurrent stack (``RNNConfig``, whole;
the MLP and conv baselines read their width and depth from it too) and what surrounds it. Pure Python,
no torch."""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.layers.config import RNNConfig
from rnnkit.schema import opt, section

FORECASTERS = ("rnn", "mlp", "conv")
MODES = ("many-to-one", "many-to-many")


@dataclass
class ForecasterConfig:
    model: str = opt("rnn", "rnn, or a baseline: mlp (feed-forward net on the sliding window), conv (1-D convolution)",
                     choices=FORECASTERS)
    mode: str = opt("many-to-one", "many-to-one (one forecast per window) or many-to-many (a forecast at every step; rnn)",
                    choices=MODES)
    # one input value per step, one direction: the forecaster fixes these (an MTRNN keeps tau's default)
    rnn: RNNConfig = section(RNNConfig, hidden=64, layers=1,
                             omit=("bidirectional", "residual", "spectral_radius", "tau"), help={
        "cell": "recurrent cell (see `rnnkit cells`)",
        "hidden": "hidden units per layer (rnn, mlp) or channels (conv)",
        "layers": "stacked layers (recurrent, dense or convolutional)",
        "dropout": "dropout between layers and before the output layer",
        "init": "recurrent weight initialisation: default, orthogonal, identity, spectral",
        "forget_bias": "forget-gate bias (LSTM family, GRU update gate)"})
    kernel: int = opt(3, "kernel size of the conv baseline", low=1)
