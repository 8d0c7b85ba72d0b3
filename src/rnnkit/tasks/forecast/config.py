"""The forecast task's settings: its data config and its training defaults (the model's are
``rnnkit.models.forecaster_config``). Pure Python, no torch."""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.train.config import FRACTION, opt, training_flags

STRATEGIES = ("recursive", "direct")


@dataclass
class ForecastDataConfig:
    data: str | None = opt(None, "CSV file with a header, a date column and a value column")
    date_column: str | None = opt(None, "name (or 0-based index) of the date column (otherwise the first)")
    value_column: str | None = opt(None, "name (or 0-based index) of the value column (otherwise the second)")
    window: int = opt(24, "values the model reads before each forecast", low=1)
    horizon: int = opt(1, "steps ahead to forecast and score", low=1)
    strategy: str = opt("recursive", "multi-step forecasts: recursive (one step, fed back) or direct (all steps at once)",
                        choices=STRATEGIES)
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
