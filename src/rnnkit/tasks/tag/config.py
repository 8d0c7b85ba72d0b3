"""The tag task's settings: its data config, its training defaults and presets (the model's are
``rnnkit.models.tagger_config``), one CLI flag per field (``rnnkit tag train --help``) with its valid
range. Pure Python, no torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.train.config import FRACTION, opt, training_flags


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
