"""The encoder-decoder's settings (``rnnkit translate train`` flags): one recurrent stack's settings
(``RNNConfig``, whole) for the encoder and the decoder (the decoder fixes ``bidirectional=False``), and
what surrounds them. Pure Python, no torch."""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.layers.config import RNNConfig
from rnnkit.schema import opt, section

ATTENTIONS = ("none", "bahdanau", "luong")
OUTPUTS = ("full", "adaptive")


@dataclass
class Seq2SeqConfig:
    embedding: int = opt(256, "embedding size of the source and target words", low=1)
    rnn: RNNConfig = section(RNNConfig, hidden=256, layers=1, bidirectional=True, dropout=0.2,
                             omit=("residual", "spectral_radius", "tau"), help={
        "cell": "recurrent cell of the encoder and the decoder (see `rnnkit cells`)",
        "hidden": "hidden units per layer (per direction in the encoder)",
        "layers": "stacked recurrent layers in the encoder and in the decoder",
        "bidirectional": "bidirectional encoder; its two final states are merged into the decoder's first",
        "dropout": "dropout on the embeddings, between layers and before the output layer",
        "init": "recurrent weight initialisation: default, orthogonal, identity, spectral",
        "forget_bias": "forget-gate bias (LSTM family, GRU update gate)"})
    attention: str = opt("bahdanau", "none (the decoder sees only the encoder's final state), bahdanau (additive, "
                         "query s_{t-1}), luong (general, query h_t)", choices=ATTENTIONS)
    output: str = opt("adaptive", "output layer: full softmax, or adaptive softmax (frequent words in a head, rare ones in "
                      "smaller clusters: several times faster with a large vocabulary)", choices=OUTPUTS)
    teacher_forcing: float = opt(1.0, "probability, per word in training, of feeding the decoder the true previous "
                                 "word rather than its own prediction", low=0.0, high=1.0)
