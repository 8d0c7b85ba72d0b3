"""Configuration of the ``classify``, ``forecast`` and ``translate`` tasks: the data and training
settings (their models' settings are in ``rnnkit.models.configs``), one CLI flag per field (``rnnkit classify train --help``). Pure Python, no torch, so building the
CLI's parsers never loads torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.train.config import FRACTION, opt, training_flags

# ------------------------------------------------------------------ forecast
@dataclass
class ForecastDataConfig:
    data: str | None = opt(None, "CSV file with a header, a date column and a value column")
    date_column: str | None = opt(None, "name (or 0-based index) of the date column (otherwise the first)")
    value_column: str | None = opt(None, "name (or 0-based index) of the value column (otherwise the second)")
    window: int = opt(24, "values the model reads before each forecast", low=1)
    horizon: int = opt(1, "steps ahead to forecast and score", low=1)
    strategy: str = opt("recursive", "multi-step forecasts: recursive (one step, fed back) or direct (all steps at once)",
                        choices=("recursive", "direct"))
    test_fraction: float = opt(0.2, "last fraction of the series held out for the test", **FRACTION)
    val_fraction: float = opt(0.1, "last fraction of the rest used for validation and early stopping",
                               **FRACTION)
    scale: str = opt("standard", "scaling fitted on the training part: standard, minmax, none",
                     choices=("standard", "minmax", "none"))
    log: bool = opt(False, "model the logarithm of the values (multiplicative seasonality; values must be > 0)")
    residual: bool = opt(True, "predict the change from the last value read rather than the value itself")
    season: int = opt(0, "season length m of the seasonal-naive baseline (0: 12 for monthly, 365 for daily data)",
                     low=0)
    epochs: float = opt(0.0, "passes over the training windows; when > 0 it sets --steps", low=0.0)


ForecastTrainFlags = training_flags(
    "ForecastTrainFlags", steps=2000, lr=2e-3, warmup=50, batch_size=32, log_every=50,
    eval_every=(50, "evaluate on the validation windows every N steps (0: once per epoch)", {"allow_zero": True}),
    checkpoint_every=(0, "write a checkpoint every N steps (0: at every evaluation)", {"allow_zero": True}),
    patience=(10, "early stopping: stop after N evaluations without a lower validation loss (0: off)"),
)


# ------------------------------------------------------------------ translate
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
