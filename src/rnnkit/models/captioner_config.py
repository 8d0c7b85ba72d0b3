"""The captioner's settings (``rnnkit caption train`` flags): the image encoder, its one-layer recurrent
decoder (``RNNConfig``, whole) and what surrounds it. Pure Python, no torch."""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.layers.config import RNNConfig
from rnnkit.schema import opt, section

VARIANTS = ("attend", "show", "blind")


@dataclass
class CaptionerConfig:
    variant: str = opt("attend", "attend (Show, Attend and Tell: soft attention over the image grid at every step), "
                       "show (Show and Tell: the image only initialises the state), blind (never sees the image)",
                       choices=VARIANTS)
    channels: str = opt("32,64,128,256", "output channels of the CNN encoder's stages, each halving the image "
                        "(four stages: 96x96 pixels -> a 6x6 grid)")
    # the decoder is one unidirectional layer: no depth, directions or residual connections to choose;
    # its dropout is the captioner's (on the word embeddings and before the output layer)
    rnn: RNNConfig = section(RNNConfig, hidden=256, dropout=0.3, omit=("layers", "bidirectional", "residual"), help={
        "cell": "recurrent cell of the decoder (see `rnnkit cells`)",
        "hidden": "hidden units of the decoder",
        "dropout": "dropout on the word embeddings and before the output layer"})
    embedding: int = opt(256, "word embedding size", low=1)
    attention_size: int = opt(256, "size of the additive attention's hidden layer (attend)", low=1)
    doubly_stochastic: float = opt(1.0, "weight λ of the doubly stochastic attention regulariser "
                                   "λ (1/L) Σ_i (1 - Σ_t α_ti)² (attend; 0: off)", low=0.0)
