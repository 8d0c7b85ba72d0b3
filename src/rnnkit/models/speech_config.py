"""The speech recognisers' settings (``rnnkit speech train`` flags): their recurrent stack (``RNNConfig``,
whole) and what surrounds it. Pure Python, no torch."""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.layers.config import DROPOUT, RNNConfig
from rnnkit.models.classifier_config import POOLINGS
from rnnkit.schema import opt, section


@dataclass
class SpeechModelConfig:
    rnn: RNNConfig = section(
        RNNConfig, cell="gru", hidden=128, layers=2, bidirectional=True, dropout=0.1,
        omit=("residual", "spectral_radius", "tau"), help={
            "cell": "recurrent cell (see `rnnkit cells`); gru, lstm and elman run on torch's fused kernel",
            "hidden": "hidden units per layer and direction",
            "layers": "stacked recurrent layers",
            "bidirectional": "read the frames in both directions",
            "init": "recurrent weight initialisation: default, orthogonal, identity, spectral",
            "forget_bias": "forget-gate bias (LSTM family, GRU update gate)"})
    stack: int = opt(2, "feed the RNN k adjacent frames side by side (k times fewer steps: 20 ms per step for k = 2)",
                     low=1)
    pooling: str = opt("mean", "isolated digits: outputs -> one vector by mean, max or last (ignored by CTC)",
                       choices=POOLINGS)
    head_dropout: float = opt(0.1, "dropout before the output layer", **DROPOUT)
