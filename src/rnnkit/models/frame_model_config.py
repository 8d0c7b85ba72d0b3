"""The frame model's settings (``rnnkit music train`` flags): its recurrent stack (``RNNConfig``, whole)
and the dropout before the sigmoid head. Pure Python, no torch."""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.layers.config import DROPOUT, RNNConfig
from rnnkit.schema import opt, section


@dataclass
class FrameModelConfig:
    # one direction: frame t+1 is predicted from frames 1..t only (a backward pass would read the answer)
    rnn: RNNConfig = section(RNNConfig, hidden=64, layers=1, omit=("bidirectional",), help={
        "cell": "recurrent cell: tanh RNN (elman), lstm, gru, ... (see `rnnkit cells`)",
        "hidden": "hidden units per layer (benchmarks/music_cells.py picks them for an equal parameter count)",
        "dropout": "dropout between recurrent layers"})
    head_dropout: float = opt(0.0, "dropout on the recurrent outputs before the sigmoid output layer", **DROPOUT)
