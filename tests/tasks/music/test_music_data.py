"""The music task's pieces: a MIDI file holds exactly the notes of its roll (read back by music21's own
MIDI reader), a score parses back to its roll, the cache returns what parsing did, the split is fixed
by name, batches shift the targets by one frame and transpose within the range, padding never changes
the NLL, the baselines' NLL equals the formula, and sampling carries the state forward."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from music_pieces import chord_roll
from rnnkit.errors import RnnkitError
from rnnkit.tasks.music import data as music_data
from rnnkit.tasks.music.data import Pieces, split_pieces
from rnnkit.tasks.music.midi import TICKS_PER_QUARTER, roll_notes, write_midi

music21 = pytest.importorskip("music21", reason="the music task reads scores with music21 (pip install 'rnnkit[music]')")


def midi_notes(path) -> list[tuple[int, int, int]]:
    """``(start tick, end tick, pitch)`` of every note, from the raw events (music21.midi: no quantisation)."""
    mf = music21.midi.MidiFile()
    mf.open(str(path))
    mf.read()
    mf.close()
    assert mf.ticksPerQuarterNote == TICKS_PER_QUARTER and len(mf.tracks) == 1
    now, sounding, notes = 0, {}, []
    for e in mf.tracks[0].events:
        if isinstance(e, music21.midi.DeltaTime):
            now += e.time
        elif int(e.type) == 0x90 and e.velocity > 0:
            assert e.pitch not in sounding, "a note started twice"
            sounding[e.pitch] = now
        elif int(e.type) == 0x80 or (int(e.type) == 0x90 and e.velocity == 0):
            notes.append((sounding.pop(e.pitch), now, e.pitch))
    assert not sounding, "a note never ended"
    return sorted(notes)


@pytest.mark.parametrize("grid", [1, 2, 4])
def test_a_midi_file_holds_exactly_the_notes_of_its_roll(tmp_path, grid):
    roll = np.random.default_rng(grid).random((50, 30)) < 0.25
    write_midi(tmp_path / "x.mid", roll, 45, grid)
    ticks = TICKS_PER_QUARTER // grid
    back = np.zeros_like(roll)
    for start, end, pitch in midi_notes(tmp_path / "x.mid"):
        assert start % ticks == 0 and end % ticks == 0
        back[start // ticks : end // ticks, pitch - 45] = True
    assert (back == roll).all()
    assert len(midi_notes(tmp_path / "x.mid")) == len(roll_notes(roll, 45))  # held frames merged into one note


@pytest.mark.parametrize("grid", [1, 2])
def test_a_written_piece_parses_back_to_its_roll(tmp_path, grid):
    roll = chord_roll(3, 1)
    write_midi(tmp_path / "x.mid", roll, 40, grid)
    parsed = music_data.parse_piece(tmp_path / "x.mid", grid, "satb")  # no SATB parts named: every part
    assert parsed.shape == (len(roll), 128) and not parsed[:, :40].any() and not parsed[:, 80:].any()
    assert (parsed[:, 40:80] == roll).all()


def test_the_cache_returns_what_parsing_did_and_keeps_failures(tmp_path, monkeypatch):
    write_midi(tmp_path / "x.mid", chord_roll(2, 0), 40, 1)
    (tmp_path / "bad.mid").write_bytes(b"not midi")
    first = music_data.read_roll(tmp_path / "x.mid", 1, "all", str(tmp_path / "cache"))
    with pytest.raises(ValueError) as failure:
        music_data.read_roll(tmp_path / "bad.mid", 1, "all", str(tmp_path / "cache"))
    assert len(list((tmp_path / "cache" / "music").glob("*.npz"))) == 2

    def no_parsing(*args):
        raise AssertionError("parsed again despite the cache")

    monkeypatch.setattr(music_data, "parse_piece", no_parsing)
    assert (music_data.read_roll(tmp_path / "x.mid", 1, "all", str(tmp_path / "cache")) == first).all()
    with pytest.raises(ValueError, match=str(failure.value)[:20]):
        music_data.read_roll(tmp_path / "bad.mid", 1, "all", str(tmp_path / "cache"))
    with pytest.raises(ValueError, match="parsed again"):  # another grid is another cache entry
        music_data.read_roll(tmp_path / "x.mid", 2, "all", str(tmp_path / "cache"))


def test_the_split_is_fixed_by_name_60_20_20():
    names = [f"bwv{i}.mxl" for i in range(100)]
    split = split_pieces(names)
    assert [len(split[k]) for k in ("train", "val", "test")] == [60, 20, 20]
    assert sorted(sum(split.values(), [])) == sorted(names)
    assert split_pieces(list(reversed(names))) == split  # the order read does not matter
    assert all(len(v) == 1 for v in split_pieces(["a", "b", "c"]).values())
    with pytest.raises(RnnkitError, match="at least 3"):
        split_pieces(["a", "b"])


def test_batches_shift_targets_one_frame_and_transpose_within_the_range():
    rolls = [chord_roll(2, 0), chord_roll(3, 2)]
    plain = Pieces(rolls)
    inputs, targets = plain.batch([0, 1])
    assert inputs.frames.shape == targets.shape == (2, 24, 40) and inputs.lengths.tolist() == [16, 24]
    assert not inputs.frames[:, 0].any() and torch.equal(inputs.frames[:, 1:], targets[:, :-1])
    assert torch.equal(targets[0, :16], torch.from_numpy(rolls[0]).float()) and not targets[0, 16:].any()
    assert inputs.tokens == 40
    moved = Pieces(rolls, transpose=12)
    seen = set()
    for seed in range(30):
        _, t = moved.batch([0, 1], torch.Generator().manual_seed(seed))
        for row, roll in zip(t, rolls):
            row = row[: len(roll)].numpy().astype(bool)
            shift = int(np.flatnonzero(row[0])[0] - np.flatnonzero(roll[0])[0])
            assert abs(shift) <= 12 and (np.roll(roll, shift, axis=1) == row).all() and row.sum() == roll.sum()
            seen.add(shift)
    assert len(seen) > 10  # shifts up and down, within what keeps the notes inside the 40 pitches


def test_padding_never_changes_the_nll():
    from rnnkit.layers.config import RNNConfig
    from rnnkit.models.frame_model import FrameModel
    from rnnkit.models.frame_model_config import FrameModelConfig

    torch.manual_seed(0)
    model = FrameModel(40, FrameModelConfig(rnn=RNNConfig(cell="gru", hidden=8))).eval()
    rolls = [chord_roll(1, 0), chord_roll(4, 1)]
    data = Pieces(rolls)
    together = model(*data.batch([0, 1]))[1]
    alone = [model(*data.batch([i]))[1] for i in (0, 1)]
    per_frame = (alone[0] * 8 + alone[1] * 32) / 40  # the frame-weighted mean of each piece's NLL
    assert torch.allclose(together, per_frame, atol=1e-5)


def test_the_baselines_nll_is_the_formula():
    from rnnkit.tasks.music.scores import baseline_scores, fit_repeat, frequencies

    train = [np.array([[1, 0], [1, 0], [1, 1], [0, 1]], dtype=bool)]
    f = frequencies(train)
    assert np.allclose(f, [(3 + 1) / 6, (2 + 1) / 6])
    test = [np.array([[1, 1], [0, 0]], dtype=bool)]
    s = baseline_scores(train, test)
    by_hand = -(math.log(f[0]) + math.log(f[1]) + math.log(1 - f[0]) + math.log(1 - f[1])) / 2
    assert s["frequency"]["nll"] == pytest.approx(by_hand) and s["frequency"]["frames"] == 2
    steady = [np.ones((50, 3), dtype=bool)]  # a roll that always repeats: the least smoothing searched
    assert fit_repeat(steady, frequencies(steady)) == pytest.approx(1e-4)


def test_sampling_carries_the_state_and_caps_the_notes():
    from rnnkit.layers.config import RNNConfig
    from rnnkit.models.frame_model import FrameBatch, FrameModel
    from rnnkit.models.frame_model_config import FrameModelConfig
    from rnnkit.tasks.music.generate import sample_roll

    torch.manual_seed(0)
    model = FrameModel(20, FrameModelConfig(rnn=RNNConfig(cell="lstm", hidden=12))).eval()
    with torch.no_grad():
        model.head.bias += 1.0  # many pitches likely on: the cap has work to do
    roll = sample_roll(model, 30, temperature=1e-4, seed=0)  # ~argmax: on where the logit is > 0
    frames = torch.from_numpy(roll).float()[None]
    logits = model(FrameBatch(torch.cat([torch.zeros(1, 1, 20), frames[:, :-1]], 1), torch.tensor([30])))[0]
    assert torch.equal(logits[0] > 0, frames[0].bool())  # the state carried step by step == the whole sequence read
    assert (sample_roll(model, 30, seed=3) == sample_roll(model, 30, seed=3)).all()
    capped = sample_roll(model, 30, seed=3, max_notes=2)
    assert capped.sum(1).max() <= 2 and sample_roll(model, 30, seed=3).sum(1).max() > 2
    primer = chord_roll(1, 0)[:, 10:30]
    primed = sample_roll(model, 5, seed=1, primer=primer)
    assert primed.shape == (13, 20) and (primed[:8] == primer).all()
