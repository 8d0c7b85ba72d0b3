"""Model configurations of the classifier, the forecaster and the encoder-decoder: architecture settings,
one CLI flag per field, with their valid ranges. Pure Python, no torch, so building the CLI's parsers never
loads torch; the models read them here, so ``rnnkit.models`` never imports ``rnnkit.tasks``.
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.train.config import CELL_NAMES, DROPOUT, ENGINE_HELP, ENGINE_NAMES, INIT_NAMES, opt


@dataclass
class Seq2SeqConfig:
    cell: str = opt("lstm", "recurrent cell of the encoder and the decoder (see `rnnkit cells`)",
                    choices=CELL_NAMES)
    embedding: int = opt(256, "embedding size of the source and target words", low=1)
    hidden: int = opt(256, "hidden units per layer (per direction in the encoder)", low=1)
    layers: int = opt(1, "stacked recurrent layers in the encoder and in the decoder", low=1)
    bidirectional: bool = opt(True, "bidirectional encoder; its two final states are merged into the decoder's first")
    attention: str = opt("bahdanau", "none (the decoder sees only the encoder's final state), bahdanau (additive, "
                         "query s_{t-1}), luong (general, query h_t)", choices=("none", "bahdanau", "luong"))
    dropout: float = opt(0.2, "dropout on the embeddings, between layers and before the output layer", **DROPOUT)
    output: str = opt("adaptive", "output layer: full softmax, or adaptive softmax (frequent words in a head, rare ones in "
                      "smaller clusters: several times faster with a large vocabulary)", choices=("full", "adaptive"))
    teacher_forcing: float = opt(1.0, "probability, per word in training, of feeding the decoder the true previous "
                                 "word rather than its own prediction", low=0.0, high=1.0)
    init: str = opt("default", "recurrent weight initialisation: default, orthogonal, identity, spectral",
                    choices=INIT_NAMES)
    forget_bias: float = opt(1.0, "forget-gate bias (LSTM family, GRU update gate)")
    engine: str = opt("auto", ENGINE_HELP, choices=ENGINE_NAMES)
