"""A piano roll out: a standard MIDI file (format 0, written here: no MIDI library needed) and a PNG.

A binary roll says which pitches sound in each frame, not where a note starts: consecutive frames of
one pitch become one note (a repeated note is merged, as in every piano-roll data set).
"""

from __future__ import annotations

import struct

import numpy as np

TICKS_PER_QUARTER = 480


def roll_notes(roll: np.ndarray, low: int) -> list[tuple[int, int, int]]:
    """``[(start frame, end frame (exclusive), MIDI pitch)]`` of a roll ``(T, P)``, sorted by start and pitch."""
    padded = np.pad(roll.astype(np.int8), ((1, 1), (0, 0)))
    change = np.diff(padded, axis=0)  # (T + 1, P): +1 where a note starts, -1 where it ends
    notes = []
    for k in range(roll.shape[1]):
        starts, ends = np.flatnonzero(change[:, k] == 1), np.flatnonzero(change[:, k] == -1)
        notes += [(int(s), int(e), low + k) for s, e in zip(starts, ends)]
    return sorted(notes)


def read_midi_notes(path) -> list[tuple[float, float, int]]:
    """``[(start, end, MIDI pitch)]`` in quarter notes, from a MIDI file's note events (music21's
    low-level reader; its score import merges notes that start together into one chord of one length,
    which a piano roll must not). Channel 10 (drums) is skipped; a note still on at the end ends there."""
    from rnnkit.tasks.music.data import music21_module

    midi = music21_module().midi
    mf = midi.MidiFile()
    mf.open(str(path))
    try:
        mf.read()
    finally:
        mf.close()
    per_quarter, notes = mf.ticksPerQuarterNote, []
    for track in mf.tracks:
        now, sounding = 0, {}
        for e in track.events:
            if isinstance(e, midi.DeltaTime):
                now += e.time
                continue
            kind, channel = int(e.type), getattr(e, "channel", None)
            if kind not in (0x80, 0x90) or channel == 10:
                continue
            key = (channel, e.pitch)
            if key in sounding:
                notes.append((sounding.pop(key), now, e.pitch))  # an off, or a new on of a sounding note
            if kind == 0x90 and e.velocity > 0:
                sounding[key] = now
        notes += [(start, now, pitch) for (_, pitch), start in sounding.items()]
    return [(s / per_quarter, e / per_quarter, p) for s, e, p in notes if e > s]


def _vlq(n: int) -> bytes:
    """MIDI's variable-length quantity: 7 bits a byte, the high bit set on all but the last."""
    out = [n & 0x7F]
    while n > 0x7F:
        n >>= 7
        out.append(0x80 | (n & 0x7F))
    return bytes(reversed(out))


def midi_bytes(roll: np.ndarray, low: int, grid: int, bpm: float = 90.0, velocity: int = 80,
               program: int = 19) -> bytes:
    """A format-0 standard MIDI file of ``roll`` (``grid`` frames per quarter note) at ``bpm`` quarter
    notes a minute; ``program``: the General MIDI instrument (19: church organ)."""
    ticks = TICKS_PER_QUARTER // grid
    events = []  # (tick, order, bytes): note-offs (order 0) before note-ons (1) at the same tick
    for start, end, pitch in roll_notes(roll, low):
        events.append((start * ticks, 1, bytes([0x90, pitch, velocity])))
        events.append((end * ticks, 0, bytes([0x80, pitch, 0])))
    tempo = round(60_000_000 / bpm)  # microseconds per quarter note
    track = b"\x00\xff\x51\x03" + tempo.to_bytes(3, "big") + b"\x00\xff\x58\x04\x04\x02\x18\x08"  # tempo, 4/4
    track += b"\x00" + bytes([0xC0, program])
    now = 0
    for tick, _, data in sorted(events):
        track += _vlq(tick - now) + data
        now = tick
    track += b"\x00\xff\x2f\x00"  # end of track
    return b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS_PER_QUARTER) + b"MTrk" + struct.pack(">I", len(track)) + track


def write_midi(path, roll: np.ndarray, low: int, grid: int, bpm: float = 90.0) -> None:
    from rnnkit.train.files import atomic_write

    data = midi_bytes(roll, low, grid, bpm)
    atomic_write(path, lambda p: p.write_bytes(data), f"the MIDI file {path}")


def plot_roll(path, roll: np.ndarray, low: int, grid: int, title: str, primed: int = 0) -> None:
    """The roll as an image: time across (quarter notes), pitch up; ``primed`` frames shaded (given, not sampled)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rnnkit.train.files import save_figure

    T, P = roll.shape
    fig, ax = plt.subplots(figsize=(min(14, 3 + T / (6 * grid)), 4))
    ax.imshow(roll.T, origin="lower", aspect="auto", cmap="Greys", interpolation="nearest",
              extent=(0, T / grid, low - 0.5, low + P - 0.5))
    if primed:
        ax.axvspan(0, primed / grid, color="C0", alpha=0.12, label="primed (given)")
        ax.legend(loc="upper right", fontsize=8)
    for c in range(((low + 11) // 12) * 12, low + P, 12):
        ax.axhline(c - 0.5, color="C3", lw=0.4, alpha=0.5)  # every C
    ax.set_xlabel("quarter notes")
    ax.set_ylabel("MIDI pitch (lines: C)")
    ax.set_title(title)
    fig.tight_layout()
    save_figure(fig, path)
