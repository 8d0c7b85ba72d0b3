"""The music task's data: pieces read with music21 and turned into piano rolls (cached, one file per
piece), the pitch range, the fixed split by piece, and the pieces as the trainer's examples.

    a piece -> roll (T, 128) bool:  frame t holds the MIDI pitches sounding at time t / grid quarter notes
               (onset <= t / grid < onset + duration); grace notes and rests hold none
    the corpus -> its pitch range [low, low + P): every roll cut to (T, P)
    split: pieces ordered by crc32 of their name, then the first 60% train, the next 20% validation, the
           rest test (every split at least one piece); a function of the names only, the same for every model
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnnkit.errors import RnnkitError

#: Suffixes music21 reads as scores (its corpus also holds roman-numeral analyses, .rntxt: not music).
SUFFIXES = (".mxl", ".xml", ".musicxml", ".krn", ".mid", ".midi", ".abc")
SATB = ("soprano", "alto", "tenor", "bass")
FORMAT = 1  # bump when a roll's definition changes: the cache keys change with it
SPLITS = ("train", "val", "test")
MUSIC21 = "the music task reads scores with music21, which is not installed; pip install 'rnnkit[music]'"


def music21_module():
    try:
        import music21
    except ImportError:
        raise RnnkitError(MUSIC21) from None
    return music21


def find_pieces(corpus: str) -> tuple[Path, list[Path]]:
    """``(root, files)``: a folder's score files (recursively), or those of a composer in music21's corpus."""
    folder = Path(corpus).expanduser()
    if folder.is_dir():
        root, files = folder, [p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file()]
        where = f"the folder {folder}"
    elif "/" in corpus or corpus.startswith(".") or folder.exists():
        raise RnnkitError(f"--corpus {corpus}: no such folder; give a folder of MIDI/MusicXML files or a composer "
                          "of music21's corpus (bach)")
    else:
        music21 = music21_module()
        files = [Path(p) for p in music21.corpus.getComposer(corpus) if Path(p).suffix.lower() in SUFFIXES]
        root, where = (files[0].parent if files else Path(".")), f"music21's corpus (composer {corpus!r})"
    if not files:
        raise RnnkitError(f"--corpus {corpus}: {where} holds no scores ({', '.join(SUFFIXES)}); give a folder of "
                          "MIDI/MusicXML files or a composer of music21's corpus (bach)")
    return root, sorted(files, key=lambda p: str(p.relative_to(root)))


def parse_piece(path: Path, grid: int, voices: str) -> np.ndarray:
    """The piano roll ``(T, 128)`` of one score file (raises on a file music21 cannot read)."""
    if path.suffix.lower() in (".mid", ".midi"):
        from rnnkit.tasks.music.midi import read_midi_notes

        return notes_roll(read_midi_notes(path), grid)
    music21 = music21_module()
    score = music21.converter.parse(str(path))
    parts = list(getattr(score, "parts", [])) or [score]
    if voices == "satb":
        named = [p for p in parts if (p.partName or "").strip().lower() in SATB]
        if len({(p.partName or "").strip().lower() for p in named}) == 4:
            parts = named
    notes = []
    for part in parts:
        for n in part.flatten().notes:
            length = float(n.quarterLength)
            if length <= 0 or not hasattr(n, "pitches"):
                continue  # a grace note sounds at no grid point
            start, end = float(n.offset), float(n.offset) + length
            for p in n.pitches:
                notes.append((start, end, p.midi))
    return notes_roll(notes, grid)


def notes_roll(notes: list[tuple[float, float, int]], grid: int) -> np.ndarray:
    """``(T, 128)`` bool from ``(start, end, MIDI pitch)`` in quarter notes: the pitches sounding at each grid point."""
    frames = max((int(np.ceil(end * grid - 1e-9)) for _, end, _ in notes), default=0)
    roll = np.zeros((frames, 128), dtype=bool)
    for start, end, pitch in notes:  # the grid points t / grid in [start, end)
        roll[int(np.ceil(start * grid - 1e-9)) : int(np.ceil(end * grid - 1e-9)), pitch] = True
    return roll


def cache_file(cache: str, path: Path, grid: int, voices: str, version: str) -> Path | None:
    if cache.lower() == "none":
        return None
    st = path.stat()
    key = json.dumps([FORMAT, version, str(path.resolve()), st.st_size, st.st_mtime_ns, grid, voices])
    return Path(cache).expanduser() / "music" / (hashlib.sha1(key.encode()).hexdigest()[:20] + ".npz")


def read_roll(path: Path, grid: int, voices: str, cache: str) -> np.ndarray:
    """``parse_piece`` through the cache (a failure is cached too: its reason, raised again)."""
    from rnnkit.train.files import atomic_write

    file = cache_file(cache, path, grid, voices, music21_module().__version__)
    if file is not None and file.exists():
        with np.load(file, allow_pickle=False) as z:
            if "error" in z:
                raise ValueError(str(z["error"]))
            return np.unpackbits(z["roll"], axis=1, count=128).astype(bool)
    try:
        roll, error = parse_piece(path, grid, voices), None
    except Exception as e:  # music21 raises many kinds on a broken file; the piece is skipped and counted
        roll, error = None, f"{type(e).__name__}: {e}".splitlines()[0][:200]
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        arrays = {"error": np.array(error)} if error else {"roll": np.packbits(roll, axis=1)}
        def save(tmp):
            with open(tmp, "wb") as f:  # a file object: np.savez would add .npz to the temporary name
                np.savez(f, **arrays)

        atomic_write(file, save, f"the piano-roll cache {file}")
    if error:
        raise ValueError(error)
    return roll


@dataclass
class Corpus:
    """The pieces read: ``names`` (paths relative to the corpus), ``rolls`` ((T, 128) bool each) and
    ``skipped`` ({name: reason}: unreadable or empty pieces)."""

    names: list[str]
    rolls: list[np.ndarray]
    skipped: dict = field(default_factory=dict)

    def pitch_range(self) -> tuple[int, int]:
        """``(low, P)``: the lowest MIDI pitch used and the number of pitches up to the highest."""
        used = np.flatnonzero(np.any([r.any(0) for r in self.rolls], axis=0))
        return int(used[0]), int(used[-1] - used[0] + 1)


def read_corpus(d, log=print) -> Corpus:
    """Every piece of ``d.corpus`` (the first ``d.pieces``), as piano rolls; unreadable and empty ones
    skipped and counted."""
    root, files = find_pieces(d.corpus)
    if d.pieces:
        files = files[: d.pieces]
    cached = sum(1 for f in files if (c := cache_file(d.cache, f, d.grid, d.voices, music21_module().__version__))
                 and c.exists())
    if cached < len(files):
        log(f"parsing {len(files) - cached} of {len(files)} pieces with music21 (about 0.2 s each; cached in "
            f"{Path(d.cache).expanduser() / 'music'} for the next run)" if d.cache.lower() != "none"
            else f"parsing {len(files)} pieces with music21 (--cache none)")
    out = Corpus([], [])
    for f in files:
        name = str(f.relative_to(root))
        try:
            roll = read_roll(f, d.grid, d.voices, d.cache)
        except ValueError as e:
            out.skipped[name] = str(e)
            continue
        if not roll.any():
            out.skipped[name] = "no notes"
            continue
        out.names.append(name)
        out.rolls.append(roll)
    if out.skipped:
        shown = "; ".join(f"{n} ({why})" for n, why in list(out.skipped.items())[:3])
        log(f"skipped {len(out.skipped)} of {len(files)} pieces: {shown}{' ...' if len(out.skipped) > 3 else ''}")
    if not out.rolls:
        raise RnnkitError(f"--corpus {d.corpus}: none of its {len(files)} pieces could be read as music")
    return out


def split_pieces(names: list[str]) -> dict[str, list[str]]:
    """The fixed split by piece, 60/20/20: names ordered by crc32, cut (each split at least one piece)."""
    if len(names) < 3:
        raise RnnkitError(f"{len(names)} piece(s) cannot be split into training, validation and test; "
                          "the music task needs at least 3")
    order = sorted(names, key=lambda n: (zlib.crc32(n.encode()), n))
    n_val = n_test = max(1, round(0.2 * len(names)))
    return {"train": sorted(order[: len(names) - n_val - n_test]),
            "val": sorted(order[len(names) - n_val - n_test : len(names) - n_test]),
            "test": sorted(order[len(names) - n_test :])}


def cut(roll: np.ndarray, low: int, pitches: int) -> tuple[np.ndarray, int]:
    """``roll`` cut to the pitches ``[low, low + pitches)`` ``(T, P)``, and how many notes fell outside."""
    inside = roll[:, low : low + pitches]
    return inside, int(roll.sum() - inside.sum())


class Pieces:
    """Piano rolls ``(T, P)`` as the trainer's examples: ``batch(indices, generator) -> (FrameBatch, targets
    (b, T, P))``, each piece transposed by a random shift within ``[-transpose, transpose]`` that keeps
    its notes inside the range (drawn from the step's generator)."""

    def __init__(self, rolls: list[np.ndarray], transpose: int = 0):
        import torch

        self.rolls = [torch.from_numpy(r.astype(np.float32)) for r in rolls]
        self.transpose = transpose
        used = [np.flatnonzero(r.any(0)) for r in rolls]
        pitches = rolls[0].shape[1]
        self.shifts = [(max(-transpose, -int(u[0])), min(transpose, pitches - 1 - int(u[-1]))) if len(u) else (0, 0)
                       for u in used]

    def __len__(self) -> int:
        return len(self.rolls)

    @property
    def frames(self) -> int:
        return sum(len(r) for r in self.rolls)

    def batch(self, indices, generator=None):
        import torch

        from rnnkit.models.frame_model import FrameBatch

        rolls = [self.rolls[i] for i in indices]
        if self.transpose and generator is not None:
            shifts = [self.shifts[i] for i in indices]
            draws = torch.rand(len(rolls), generator=generator).tolist()
            rolls = [torch.roll(r, lo + int(u * (hi - lo + 1)), dims=1)  # wraps only empty pitches
                     for r, (lo, hi), u in zip(rolls, shifts, draws)]
        lengths = torch.tensor([len(r) for r in rolls])
        targets = torch.nn.utils.rnn.pad_sequence(rolls, batch_first=True)  # (b, T, P)
        frames = torch.cat([torch.zeros_like(targets[:, :1]), targets[:, :-1]], dim=1)  # x_0 = 0, then x_1 ..
        return FrameBatch(frames, lengths), targets
