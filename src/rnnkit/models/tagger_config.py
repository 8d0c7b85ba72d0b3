"""The tagger's settings (``rnnkit tag train`` flags): its bidirectional recurrent stack (``RNNConfig``,
whole) and what surrounds it (word, character and shape embeddings, attention, the language-modelling
objective, the CRF). Pure Python, no torch."""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.layers.config import DROPOUT, RNNConfig
from rnnkit.schema import opt, section

ATTENTIONS = ("none", "bahdanau", "luong")


@dataclass
class TaggerConfig:
    embedding: int = opt(100, "embedding size of the words", low=1)
    chars: bool = opt(True, "add a character-level BiLSTM encoding of each word to its embedding")
    char_embedding: int = opt(30, "embedding size of the characters (with --chars)", low=1)
    char_hidden: int = opt(50, "hidden units per direction of the character BiLSTM (with --chars)", low=1)
    shape: int = opt(0, "embedding size of each word's shape class (Capital, ALLCAPS, digits, @user, #tag, URL, ...; "
                     "see docs/results/tag.md), beside the word and character vectors; 0: off", low=0)
    # always bidirectional: each word's tag reads both sides of it
    rnn: RNNConfig = section(RNNConfig, hidden=128, layers=1, dropout=0.33, omit=("bidirectional",), help={
        "cell": "recurrent cell of the bidirectional stack (see `rnnkit cells`)",
        "hidden": "hidden units per layer and direction",
        "layers": "stacked bidirectional layers",
        "dropout": "dropout on the word representations, between layers and before the output layer"})
    word_dropout: float = opt(0.05, "probability, in training, that a known word is read as <unk> (so <unk> is learnt)",
                              **DROPOUT)
    attention: str = opt("none", "self-attention over the sentence's bidirectional states, its context vector beside "
                         "each word's state before the output layer: none, luong (general, h_tᵀ W h_j) or bahdanau "
                         "(additive)", choices=ATTENTIONS)
    lm_weight: float = opt(0.0, "weight γ of an auxiliary language-modelling loss in training (Rei 2017): the forward "
                           "states predict the next word, the backward states the previous one; 0: off (needs "
                           "--layers 1)", low=0.0)
    lm_vocab: int = opt(2000, "words the language-modelling layers predict, the most frequent first (any rarer word is "
                        "one class, <unk>)", low=3)
    lm_hidden: int = opt(50, "hidden units of each direction's language-modelling layer (with --lm-weight)", low=1)
    crf: bool = opt(False, "a linear-chain CRF output layer (forward-algorithm loss, Viterbi decoding)")
    bio_constraints: bool = opt(True, "with --crf on BIO tags: forbid O -> I-x, B-x -> I-y and starting with I-x")
