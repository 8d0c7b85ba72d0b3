"""Configuration of the ``classify``, ``forecast`` and ``translate`` tasks: the data, training and decoding
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


DECODERS = ("greedy", "beam", "sample", "exhaustive")


@dataclass
class DecodeOptions:
    decoder: str = opt("beam", "greedy, beam, sample (temperature, top-k, top-p) or exhaustive (over a shortlist)")
    beam: int = opt(5, "beam width (beam search)", low=1)
    length_penalty: float = opt(1.0, "rank beam and exhaustive outputs by log p / length ** this (0: raw log p)",
                               low=0.0)
    n_best: int = opt(1, "translations per sentence, best first, with their scores (beam, sample, exhaustive)",
                     low=1)
    temperature: float = opt(1.0, "sampling temperature: < 1 sharpens the distribution, > 1 flattens it",
                              above=0.0)
    top_k: int = opt(0, "sample only from the k most probable words (0: off)", low=0)
    top_p: float = opt(0.0, "sample only from the smallest set of words with probability >= p (0: off)",
                        low=0.0, high=1.0)
    seed: int = opt(0, "random seed of sampling", low=0)
    shortlist: int = opt(8, "exhaustive search: the words searched over (the most probable along the greedy output)",
                        low=1)
    max_candidates: int = opt(1_000_000, "exhaustive search: refuse when shortlist ** max-output exceeds this",
                             low=1)
    max_output: int = opt(0, "longest translation in words (0: twice the training length limit, plus 2)",
                         low=0)
    batch_size: int = opt(128, "sentences decoded together", low=1)

    def check(self) -> None:
        from rnnkit.errors import RnnkitError, unknown_choice

        if self.decoder not in DECODERS:
            raise unknown_choice("decoder", self.decoder, DECODERS)
        for name in ("beam", "n_best", "shortlist", "max_candidates", "batch_size"):
            if getattr(self, name) < 1:
                raise RnnkitError(f"--{name.replace('_', '-')} must be a positive integer, got {getattr(self, name)}")
        if self.max_output < 0 or self.top_k < 0 or not 0.0 <= self.top_p <= 1.0 or self.temperature <= 0:
            raise RnnkitError("--max-output and --top-k must be >= 0, --top-p in [0, 1] and --temperature > 0")
        if self.decoder == "beam" and self.n_best > self.beam:
            raise RnnkitError(f"--n-best {self.n_best} is more than the beam width {self.beam}; widen --beam")
        if self.decoder == "greedy" and self.n_best > 1:
            raise RnnkitError("greedy decoding gives one translation; use --decoder beam or sample for --n-best")



def decode_options(args) -> DecodeOptions:
    """The decoding flags a command was given, over DecodeOptions' defaults."""
    from rnnkit.cli_args import given

    return DecodeOptions(**given(args, DecodeOptions))