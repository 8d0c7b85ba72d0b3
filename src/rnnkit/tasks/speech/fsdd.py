"""The Free Spoken Digit Dataset: recordings ``{digit}_{speaker}_{take}.wav`` (8 kHz mono), their
splits, and connected-digit utterances built from them.

Splits: ``official`` puts takes 0-4 of every speaker and digit in the test (the dataset's own README);
``holdout=<speaker>`` tests on all of one speaker's recordings and trains on the others. A seeded
fraction of the training recordings is held out for validation.

Connected digits (one speaker per utterance, so the voice does not change mid-sentence):

    [silence] digit_1 * gain_1 [silence] digit_2 * gain_2 ... digit_n * gain_n [silence]

n ~ U{min..max}, digits uniform, each a random take of that speaker and digit from the allowed
recordings, gain ~ U[-g, +g] dB, silences ~ U[0.03, silence] s of faint noise (-60 dBFS).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import torch

from rnnkit.data.audio import read_wav
from rnnkit.errors import RnnkitError

NAME = re.compile(r"^(\d)_([A-Za-z]+)_(\d+)\.wav$")
TEST_TAKES = range(5)  # the official test split: takes 0-4
RATE = 8000


@dataclass(frozen=True)
class Recording:
    path: Path
    digit: int
    speaker: str
    take: int


def list_recordings(folder) -> list[Recording]:
    """Every ``{digit}_{speaker}_{take}.wav`` in ``folder`` or ``folder/recordings``, sorted by name."""
    folder = Path(folder)
    where = folder / "recordings" if (folder / "recordings").is_dir() else folder
    if not where.is_dir():
        raise RnnkitError(f"FSDD folder not found: {folder}; give --data DIR with recordings/{{digit}}_{{speaker}}_{{take}}.wav")
    found = []
    for p in sorted(where.iterdir()):
        m = NAME.match(p.name)
        if m:
            found.append(Recording(p, int(m.group(1)), m.group(2), int(m.group(3))))
    if not found:
        raise RnnkitError(f"no recordings named {{digit}}_{{speaker}}_{{take}}.wav in {where}")
    return found


def split_recordings(recs: list[Recording], holdout: str = "", val_fraction: float = 0.1, seed: int = 0,
                     per_digit: int = 0) -> dict[str, list[Recording]]:
    """``{"train", "val", "test"}`` lists. ``per_digit`` keeps at most N training takes per speaker and digit."""
    speakers = sorted({r.speaker for r in recs})
    if holdout:
        if holdout not in speakers:
            raise RnnkitError(f"unknown speaker {holdout!r} for --holdout; choose one of: {', '.join(speakers)}")
        test = [r for r in recs if r.speaker == holdout]
        rest = [r for r in recs if r.speaker != holdout]
    else:
        test = [r for r in recs if r.take in TEST_TAKES]
        rest = [r for r in recs if r.take not in TEST_TAKES]
    if per_digit:
        groups: dict = {}
        for r in sorted(rest, key=lambda r: r.take):
            groups.setdefault((r.speaker, r.digit), []).append(r)
        rest = sorted((r for group in groups.values() for r in group[:per_digit]), key=lambda r: r.path.name)
    if not 0 < val_fraction < 1:
        raise RnnkitError(f"--val-fraction must be between 0 and 1, got {val_fraction}")
    order = torch.randperm(len(rest), generator=torch.Generator().manual_seed(seed)).tolist()
    n_val = max(1, round(len(rest) * val_fraction))
    if not test or len(rest) - n_val < 1:
        raise RnnkitError(f"{len(rest)} training and {len(test)} test recordings cannot be split; give more data")
    val = sorted((rest[i] for i in order[:n_val]), key=lambda r: r.path.name)
    train = sorted((rest[i] for i in order[n_val:]), key=lambda r: r.path.name)
    return {"train": train, "val": val, "test": test}


@dataclass
class Utterance:
    samples: torch.Tensor  # (N,)
    digits: list[int]
    speaker: str
    sources: list[Recording]  # the recording of each digit


class ConnectedDigits:
    """Synthesises connected-digit utterances from ``recordings`` (``utterance(generator)``); the WAVs
    are read once."""

    def __init__(self, recordings: list[Recording], min_digits: int = 2, max_digits: int = 7,
                 silence: float = 0.3, gain_db: float = 6.0):
        if not 1 <= min_digits <= max_digits:
            raise RnnkitError(f"need 1 <= --min-digits <= --max-digits, got {min_digits} and {max_digits}")
        if silence < 0.03 or gain_db < 0:
            raise RnnkitError(f"--silence must be >= 0.03 s and --gain-db >= 0, got {silence} and {gain_db}")
        self.min_digits, self.max_digits, self.silence, self.gain_db = min_digits, max_digits, silence, gain_db
        self.samples = {r: read_wav(r.path, RATE) for r in recordings}
        self.by_speaker: dict[str, dict[int, list[Recording]]] = {}
        for r in recordings:
            self.by_speaker.setdefault(r.speaker, {}).setdefault(r.digit, []).append(r)
        self.speakers = sorted(self.by_speaker)

    def _silence(self, g: torch.Generator) -> torch.Tensor:
        seconds = 0.03 + (self.silence - 0.03) * float(torch.rand(1, generator=g))
        return 1e-3 * torch.randn(int(seconds * RATE), generator=g)

    def utterance(self, g: torch.Generator) -> Utterance:
        speaker = self.speakers[int(torch.randint(len(self.speakers), (1,), generator=g))]
        takes = self.by_speaker[speaker]
        digits_here = sorted(takes)
        n = int(torch.randint(self.min_digits, self.max_digits + 1, (1,), generator=g))
        digits = [digits_here[int(torch.randint(len(digits_here), (1,), generator=g))] for _ in range(n)]
        parts, sources = [self._silence(g)], []
        for d in digits:
            rec = takes[d][int(torch.randint(len(takes[d]), (1,), generator=g))]
            gain = 10 ** ((2 * float(torch.rand(1, generator=g)) - 1) * self.gain_db / 20)
            parts += [self.samples[rec] * gain, self._silence(g)]
            sources.append(rec)
        return Utterance(torch.cat(parts).clamp(-1.0, 1.0), digits, speaker, sources)

    def utterances(self, n: int, seed: int) -> list[Utterance]:
        g = torch.Generator().manual_seed(seed)
        return [self.utterance(g) for _ in range(n)]
