"""The music task's settings: its data config and its training defaults (the model's are
``rnnkit.models.frame_model_config``). Pure Python, no torch."""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.train.config import opt, training_flags

#: Frames per quarter note: 1 is JSB Chorales' grid (Boulanger-Lewandowski et al. 2012), 2 eighths, 4 sixteenths.
GRIDS = (1, 2, 4)
VOICES = ("satb", "all")


@dataclass
class MusicDataConfig:
    corpus: str = opt("bach", "the pieces: a composer of music21's corpus (bach: its ~410 chorales) or a folder of "
                      "MIDI, MusicXML or Humdrum files (read with music21: pip install 'rnnkit[music]')")
    pieces: int = opt(0, "read only the first N pieces in name order, before the split (0: all; for quick trials)",
                      low=0)
    grid: int = opt(1, "frames per quarter note: 1 (JSB Chorales' grid), 2 (eighths) or 4 (sixteenths); a frame "
                    "holds the pitches sounding at its grid point", choices=GRIDS)
    voices: str = opt("satb", "satb: only the Soprano, Alto, Tenor and Bass parts where a score names all four "
                      "(doubling trumpets, horns and timpani dropped), else every part; all: every part",
                      choices=VOICES)
    transpose: int = opt(0, "augmentation: transpose each training piece by a random shift in [-N, N] semitones "
                         "that keeps it inside the pitch range (0: off)", low=0, high=12)
    cache: str = opt("~/.cache/rnnkit", "folder for the parsed piano rolls (music/<key>.npz, one per piece, reused "
                     "across runs; 'none': parse every run)")
    epochs: float = opt(0.0, "passes over the training pieces; when > 0 it sets --steps", low=0.0)


MusicTrainFlags = training_flags(
    "MusicTrainFlags", steps=3000, lr=3e-3, warmup=0, schedule="constant", log_every=50, clip=1.0,
    batch_size=(16, "pieces per batch (padded to the longest; the loss counts real frames only)"),
    eval_every=(0, "evaluate on the validation pieces every N steps (0: once per epoch)", {"allow_zero": True}),
    checkpoint_every=(0, "write a checkpoint every N steps (0: at every evaluation)", {"allow_zero": True}),
    patience=(10, "early stopping: stop after N evaluations without a lower validation NLL (0: off)"),
)
