"""The translate task's settings: its data config and its training defaults (the model's are
``rnnkit.models.seq2seq_config``; decoding's ``rnnkit.decoding.options``). Pure Python, no torch."""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.train.config import FRACTION, opt, training_flags


@dataclass
class TranslateDataConfig:
    data: str | None = opt(None, "sentence pairs, one 'source<TAB>target' per line (e.g. ../shared/data/eng-fra/eng-fra.txt)")
    reverse: bool = opt(False, "translate from the second column to the first")
    max_words: int = opt(10, "keep pairs whose sides both have at most N words (after normalisation)", low=1)
    accents: str = opt("strip", "strip (NFD, accents dropped, the tutorial's) or keep accents",
                      choices=("strip", "keep"))
    min_freq: int = opt(2, "words seen fewer times in training become <unk>", low=1)
    val_fraction: float = opt(0.02, "fraction of the distinct source sentences held out for validation",
                                **FRACTION)
    test_fraction: float = opt(0.04, "fraction of the distinct source sentences held out for the test",
                                 **FRACTION)
    split_seed: int = opt(0, "seed of the train/validation/test split (by source sentence)", low=0)
    epochs: float = opt(0.0, "passes over the training pairs; when > 0 it sets --steps", low=0.0)
    eval_bleu: int = opt(500, "validation sentences translated greedily at each evaluation for a BLEU score (0: off)",
                         low=0)


TranslateTrainFlags = training_flags(
    "TranslateTrainFlags", steps=20000, lr=2e-3, warmup=200, batch_size=64, log_every=50,
    eval_every=(500, "evaluate on the validation pairs every N steps (0: once per epoch)", {"allow_zero": True}),
    checkpoint_every=(0, "write a checkpoint every N steps (0: at every evaluation)", {"allow_zero": True}),
    patience=(0, "early stopping: stop after N evaluations without a lower validation loss (0: off)"),
)
