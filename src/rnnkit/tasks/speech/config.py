"""The speech task's settings: its data config, its training defaults (the model's are
``rnnkit.models.speech_config``). Pure Python, no torch, so building the CLI's parsers never loads torch."""

from __future__ import annotations

import os
from dataclasses import dataclass

import rnnkit
from rnnkit.train.config import FRACTION, opt, training_flags

TASKS = ("isolated", "connected")
#: The FSDD folder when --data is not given: ``$RNNKIT_DATA/fsdd`` if RNNKIT_DATA is set, else
#: ``shared/data/fsdd`` beside the repository's root (``../shared/data/fsdd`` from the root), from any folder.
DEFAULT_FSDD = (os.path.join(os.path.abspath(os.environ["RNNKIT_DATA"]), "fsdd") if os.environ.get("RNNKIT_DATA")
                else os.path.abspath(os.path.join(os.path.dirname(rnnkit.__file__), "..", "..", "..", "shared",
                                                  "data", "fsdd")))


@dataclass
class SpeechDataConfig:
    task: str = opt("isolated", "isolated (one digit per recording) or connected (2-7 digits per utterance, CTC)",
                    choices=TASKS)
    data: str = opt(DEFAULT_FSDD, "the FSDD folder (recordings/{digit}_{speaker}_{take}.wav, 8 kHz mono) (default: "
                    "$RNNKIT_DATA/fsdd if RNNKIT_DATA is set, else shared/data/fsdd beside the repository's root, "
                    "../shared/data/fsdd from it)")
    holdout: str = opt("", "test on this speaker, train on the others (speaker-independent); empty: the official "
                       "split, takes 0-4 of every speaker and digit")
    val_fraction: float = opt(0.1, "fraction of the training recordings held out for validation and early stopping",
                              **FRACTION)
    split_seed: int = opt(0, "seed of the validation split and of the synthesised validation and test utterances",
                          low=0)
    features: str = opt("logmel", "logmel (log-mel filterbank) or mfcc, each normalised per utterance (CMVN)",
                        choices=("logmel", "mfcc"))
    mels: int = opt(40, "mel filters", low=1)
    mfcc: int = opt(13, "cepstral coefficients kept (--features mfcc)", low=1)
    spec_augment: bool = opt(False, "SpecAugment: mask random frequency bands and time spans of each training example")
    freq_masks: int = opt(2, "SpecAugment: frequency bands masked per example", low=0)
    freq_width: int = opt(8, "SpecAugment: widest frequency band (mel filters)", low=0)
    time_masks: int = opt(2, "SpecAugment: time spans masked per example", low=0)
    time_width: int = opt(10, "SpecAugment: longest time span (frames of 10 ms, at most a fifth of the example)",
                          low=0)
    train_utterances: int = opt(6000, "connected: utterances synthesised for training (once per run)", low=1)
    test_utterances: int = opt(500, "connected: utterances synthesised for validation and for the test", low=1)
    min_digits: int = opt(2, "connected: fewest digits per utterance", low=1)
    max_digits: int = opt(7, "connected: most digits per utterance", low=1)
    silence: float = opt(0.3, "connected: longest silence before, between and after digits (s)", low=0.03)
    gain_db: float = opt(6.0, "connected: each digit's gain is drawn from [-g, +g] dB", low=0.0)
    per_digit: int = opt(0, "use at most N training takes per speaker and digit (0: all; for quick trials)", low=0)
    epochs: float = opt(0.0, "passes over the training examples; when > 0 it sets --steps", low=0.0)


SpeechTrainFlags = training_flags(
    "SpeechTrainFlags", steps=3000, lr=2e-3, warmup=100, batch_size=32, log_every=50, schedule="cosine",
    eval_every=(200, "evaluate on the validation examples every N steps (0: once per epoch)", {"allow_zero": True}),
    checkpoint_every=(0, "write a checkpoint every N steps (0: at every evaluation)", {"allow_zero": True}),
    patience=(0, "early stopping: stop after N evaluations without a lower validation loss (0: off)"),
)
