"""Helpers of the music tests: a small synthetic corpus of MIDI files, written by rnnkit's own MIDI writer: a learnable structure
(a cycle of four held chords, in a few keys) that a next-frame model must predict better than both
baselines; plus one unreadable file and one without notes, which reading must skip and count."""

import numpy as np
import pytest

#: Four chords (MIDI pitches), each held for two frames, then the cycle again.
CHORDS = [(48, 52, 55, 60), (53, 57, 60, 65), (55, 59, 62, 67), (48, 52, 55, 64)]


def chord_roll(reps: int, shift: int, low: int = 40, pitches: int = 40) -> np.ndarray:
    """``(8 * reps, pitches)`` bool: the chord cycle transposed by ``shift``, pitch ``low`` in column 0."""
    roll = np.zeros((8 * reps, pitches), dtype=bool)
    for t in range(8 * reps):
        for p in CHORDS[(t // 2) % 4]:
            roll[t, p + shift - low] = True
    return roll


def write_chorales(folder):
    """``{name: roll (T, 40) from MIDI pitch 40}``: ten pieces of the chord cycle written into ``folder``,
    plus ``broken.mid`` (not MIDI) and ``silent.mid`` (no notes)."""
    pytest.importorskip("music21", reason="the music task reads scores with music21 (pip install 'rnnkit[music]')")
    from rnnkit.tasks.music.midi import write_midi

    folder.mkdir()
    r = np.random.default_rng(0)
    rolls = {}
    for i in range(10):
        roll = chord_roll(int(r.integers(3, 7)), int(r.integers(-2, 3)))
        write_midi(folder / f"piece{i:02d}.mid", roll, 40, 1)
        rolls[f"piece{i:02d}.mid"] = roll
    (folder / "broken.mid").write_bytes(b"this is not a MIDI file")
    write_midi(folder / "silent.mid", np.zeros((4, 40), dtype=bool), 40, 1)
    return rolls


@pytest.fixture(scope="module")
def chorale_folder(tmp_path_factory):
    """``(folder, rolls)``: ``write_chorales`` into a fresh folder, shared by a module's tests."""
    folder = tmp_path_factory.mktemp("corpus") / "pieces"
    return folder, write_chorales(folder)
