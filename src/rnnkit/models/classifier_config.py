"""The classifier's settings (``rnnkit classify train`` flags): its recurrent stack (``RNNConfig``, whole)
and what surrounds it. Pure Python, no torch."""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.layers.config import DROPOUT, RNNConfig
from rnnkit.schema import opt, section

POOLINGS = ("last", "mean", "max")
CLASSIFIERS = ("rnn", "bow")


@dataclass
class ClassifierConfig:
    model: str = opt("rnn", "rnn (the recurrent classifier) or bow (bag-of-tokens logistic regression, a baseline)",
                     choices=CLASSIFIERS)
    embedding: int = opt(128, "embedding size of the tokens", low=1)
    rnn: RNNConfig = section(RNNConfig, hidden=128, layers=1, help={
        "bidirectional": "read each text in both directions and concatenate the two states",
        "dropout": "dropout on the embeddings and between recurrent layers"})
    pooling: str = opt("last", "outputs -> one vector: last (final state of each direction), mean or max over time",
                       choices=POOLINGS)
    dense: int = opt(0, "units of a ReLU layer between the pooled vector and the output layer (0: none)", low=0)
    head_dropout: float = opt(0.0, "dropout just before the output layer", **DROPOUT)
