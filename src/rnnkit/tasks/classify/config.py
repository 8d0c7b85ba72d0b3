"""The classify task's settings: its data config, its training defaults and presets (the model's are
``rnnkit.models.classifier_config``). Pure Python, no torch."""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.train.config import FRACTION, opt, training_flags


@dataclass
class ClassifyDataConfig:
    train: str | None = opt(None, "TSV/CSV training file with a header line: a text column and a label column")
    val: str | None = opt(None, "validation file for early stopping (without it, a random --val-fraction of --train)")
    val_fraction: float = opt(0.2, "fraction of --train held out for validation when there is no --val",
                               **FRACTION)
    text_column: str | None = opt(None, "name (or 0-based index) of the text column (otherwise text, sentence or the first)")
    label_column: str | None = opt(None, "name (or 0-based index) of the label column (otherwise label or the last)")
    tokens: str = opt("word", "tokens: word (lowercased words and punctuation) or char (characters)",
                     choices=("word", "char"))
    min_freq: int = opt(1, "training tokens seen fewer times become <unk>", low=1)
    max_vocab: int = opt(0, "keep only the most frequent tokens, <pad> and <unk> included (0: all)",
                         low=3, allow_zero=True)
    max_len: int = opt(0, "truncate each text to its first N tokens (0: no limit)", low=0)
    epochs: float = opt(0.0, "passes over the training set; when > 0 it sets --steps", low=0.0)


ClassifyTrainFlags = training_flags(
    "ClassifyTrainFlags", steps=3000, lr=1e-3, warmup=0, schedule="constant", log_every=50, batch_size=32,
    eval_every=(0, "evaluate on the validation set every N steps (0: once per epoch)", {"allow_zero": True}),
    checkpoint_every=(0, "write a checkpoint every N steps (0: at every evaluation)", {"allow_zero": True}),
    patience=(3, "early stopping: stop after N evaluations without a lower validation loss (0: off)"),
)

#: ``--preset course``: the course's Keras recipe, Embedding(50) -> LSTM(64) -> Dense(256) -> ReLU ->
#: Dropout(0.5) -> Dense(1) -> sigmoid, binary cross-entropy, RMSprop, early stopping on a 20% split.
PRESETS = {
    "course": {
        "model": dict(model="rnn", embedding=50, cell="lstm", hidden=64, layers=1, bidirectional=False,
                      pooling="last", dense=256, dropout=0.0, head_dropout=0.5),
        "data": dict(tokens="word", val_fraction=0.2, epochs=10.0),
        "train": dict(optimizer="rmsprop", lr=1e-3, batch_size=32, schedule="constant", warmup=0, clip=0.0,
                      patience=2),
    },
}
