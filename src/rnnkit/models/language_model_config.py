"""The character language model's settings (``rnnkit train`` model flags): its recurrent stack
(``RNNConfig``, whole) and what surrounds it. Pure Python, no torch."""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.layers.config import RNNConfig
from rnnkit.schema import opt, section


@dataclass
class LMConfig:
    rnn: RNNConfig = section(RNNConfig, hidden=256, layers=2, omit=("bidirectional",), help={
        # one name per cell after the colon: `rnnkit train --help` lists them all (a test reads this text)
        "cell": "recurrent cell: elman, elman-relu, elman-sigmoid, simple-lstm, lstm, peephole-lstm, coupled-lstm, "
                "ln-lstm, gru, gru-course, mtrnn, mingru, minlstm",
        "dropout": "dropout on the embedding, between layers and before the output head"})
    embedding: int = opt(64, "embedding size for the input characters; 0 feeds one-hot vectors instead", low=0)
    tie_weights: bool = opt(False, "share the embedding and output weights (needs --embedding equal to --hidden)")
