"""Configuration of ``rnnkit tag``: the tagger, the data and the training settings, one CLI flag per field
(``rnnkit tag train --help``) with its valid range, and the presets. Pure Python, no torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.tasks.configs import training_flags
from rnnkit.train.config import CELL_NAMES, DROPOUT, ENGINE_HELP, ENGINE_NAMES, FRACTION, INIT_NAMES, opt


@dataclass
class TaggerConfig:
    embedding: int = opt(100, "embedding size of the words", low=1)
    chars: bool = opt(True, "add a character-level BiLSTM encoding of each word to its embedding")
    char_embedding: int = opt(30, "embedding size of the characters (with --chars)", low=1)
    char_hidden: int = opt(50, "hidden units per direction of the character BiLSTM (with --chars)", low=1)
    shape: int = opt(0, "embedding size of each word's shape class (Capital, ALLCAPS, digits, @user, #tag, URL, ...; "
                     "see docs/tag.md), beside the word and character vectors; 0: off", low=0)
    cell: str = opt("lstm", "recurrent cell of the bidirectional stack (see `rnnkit cells`)", choices=CELL_NAMES)
    hidden: int = opt(128, "hidden units per layer and direction", low=1)
    layers: int = opt(1, "stacked bidirectional layers", low=1)
    dropout: float = opt(0.33, "dropout on the word representations, between layers and before the output layer",
                         **DROPOUT)
    word_dropout: float = opt(0.05, "probability, in training, that a known word is read as <unk> (so <unk> is learnt)",
                              **DROPOUT)
    attention: str = opt("none", "self-attention over the sentence's bidirectional states, its context vector beside "
                         "each word's state before the output layer: none, luong (general, h_tᵀ W h_j) or bahdanau "
                         "(additive)", choices=("none", "bahdanau", "luong"))
    lm_weight: float = opt(0.0, "weight γ of an auxiliary language-modelling loss in training (Rei 2017): the forward "
                           "states predict the next word, the backward states the previous one; 0: off (needs "
                           "--layers 1)", low=0.0)
    lm_vocab: int = opt(2000, "words the language-modelling layers predict, the most frequent first (any rarer word is "
                        "one class, <unk>)", low=3)
    lm_hidden: int = opt(50, "hidden units of each direction's language-modelling layer (with --lm-weight)", low=1)
    crf: bool = opt(False, "a linear-chain CRF output layer (forward-algorithm loss, Viterbi decoding)")
    bio_constraints: bool = opt(True, "with --crf on BIO tags: forbid O -> I-x, B-x -> I-y and starting with I-x")
    init: str = opt("default", "recurrent weight initialisation: default, orthogonal, identity, spectral",
                    choices=INIT_NAMES)
    forget_bias: float = opt(1.0, "forget-gate bias (LSTM family, GRU update gate)")
    engine: str = opt("auto", ENGINE_HELP, choices=ENGINE_NAMES)


@dataclass
class TagDataConfig:
    train: str | None = opt(None, "training file: CoNLL-U (.conllu) or two-column CoNLL (token<TAB>tag, blank line "
                            "between sentences)")
    val: str | None = opt(None, "validation file for early stopping (without it, a random --val-fraction of --train)")
    val_fraction: float = opt(0.1, "fraction of --train held out for validation when there is no --val", **FRACTION)
    format: str = opt("auto", "auto (conllu for *.conllu, else conll), conllu or conll",
                      choices=("auto", "conllu", "conll"))
    tag_column: str = opt("upos", "CoNLL-U tag column: upos (universal POS) or xpos (language-specific)",
                          choices=("upos", "xpos"))
    lowercase: bool = opt(True, "lowercase words for the word embedding (the characters keep their case)")
    min_freq: int = opt(1, "training words seen fewer times become <unk>", low=1)
    max_len: int = opt(250, "longest sentence accepted, in words (a longer one is an error naming its line; 0: no limit)",
                       low=0)
    max_word: int = opt(30, "characters of each word read by the character encoder (its first N)", low=1)
    case_augment: float = opt(0.0, "probability that a training sentence is read all in lowercase (characters and "
                              "word shapes), so names written without capitals are learnt too", low=0.0, high=1.0)
    epochs: float = opt(0.0, "passes over the training sentences; when > 0 it sets --steps", low=0.0)
    select: str = opt("loss", "what early stopping and the best checkpoint follow: loss (the validation loss), "
                      "accuracy (1 - the validation token accuracy) or f1 (1 - the validation entity F1; BIO tags "
                      "only)", choices=("loss", "accuracy", "f1"))


TagTrainFlags = training_flags(
    "TagTrainFlags", steps=5000, lr=2e-3, warmup=0, schedule="constant", log_every=50, batch_size=32, clip=5.0,
    eval_every=(0, "evaluate on the validation set every N steps (0: once per epoch)", {"allow_zero": True}),
    checkpoint_every=(0, "write a checkpoint every N steps (0: at every evaluation)", {"allow_zero": True}),
    patience=(3, "early stopping: stop after N evaluations without a lower validation loss (0: off)"),
)

#: ``--preset pos``: UPOS tagging with word + character BiLSTM, the best checkpoint chosen by the validation
#: accuracy (the validation loss starts rising long before the accuracy stops); ``--preset ner``: BIO
#: entities with a CRF, the word-shape embedding, a larger character encoder, a smaller word embedding, more
#: dropout (few, noisy tweets, mostly unseen names), the auxiliary language-modelling loss (γ = 0.1, Rei 2017's
#: value) and the best checkpoint chosen by the validation entity F1.
PRESETS = {
    "pos": {"model": dict(chars=True, crf=False), "data": dict(tag_column="upos", select="accuracy")},
    "ner": {"model": dict(chars=True, crf=True, bio_constraints=True, dropout=0.5, word_dropout=0.5, embedding=50,
                          char_embedding=50, char_hidden=100, shape=20, lm_weight=0.1),
            "data": dict(format="conll", select="f1"), "train": dict(lr=1e-2, schedule="cosine")},
}
