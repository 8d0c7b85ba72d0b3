"""The language-model task's settings: its data config (the corpus, its split, the truncated-BPTT chunks,
the validation windows, the samples shown while training) and its training defaults (the model's are
``rnnkit.models.language_model_config``). Pure Python, no torch."""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.train.config import FRACTION, opt, training_flags

#: The seed of the validation windows' positions: training's validation and ``rnnkit eval``'s default,
#: so ``rnnkit eval`` with no flags repeats the run's validation.
EVAL_SEED = 1234


@dataclass
class LMDataConfig:
    corpus: str | None = opt(None, "UTF-8 text file to learn from (default: Python's standard-library source)")
    val_fraction: float = opt(0.1, "last fraction of the corpus held out for validation", **FRACTION)
    seq_len: int = opt(128, "characters per truncated-BPTT chunk (backpropagation length)", low=1)
    state_reset: float = opt(0.05, "probability that a stream restarts a chunk from a zero state, so the model "
                             "also learns to start from the zero state that sampling and evaluation use",
                             low=0.0, high=1.0)
    eval_windows: int = opt(64, "random validation windows per evaluation", low=1)
    eval_window: int = opt(256, "characters per validation window (each starts from a zero state)", low=1)
    sample_length: int = opt(200, "characters per generated sample during training", low=1)


#: ``TrainConfig``'s defaults are the language model's; ``--sample-every`` and ``--amp`` are the trainer's
#: settings that only this task offers.
LMTrainFlags = training_flags(
    "LMTrainFlags", batch_size=(32, "parallel streams per batch"),
    sample_every=500, amp=True,
)
