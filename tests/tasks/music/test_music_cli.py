"""``rnnkit music`` end to end, as a user runs it: train on a folder of MIDI files (an unreadable one and
a silent one skipped and counted), the printed eval command, ``generate`` writing a MIDI file whose notes
equal the sampled frames and a PNG, the Python API, a one-line error for each bad input, and (slow) the
real Bach chorales of music21's corpus, where every cell must beat both baselines."""

import json
import re

import numpy as np
import pytest

from conftest import one_line_error, run_cli
from music_pieces import chorale_folder  # noqa: F401  (a fixture)
from rnnkit.cli import main

FAST = ["--threads", "1", "--hidden", "24", "--log-every", "50", "--lr", "0.01", "--batch-size", "4"]
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def trained(chorale_folder, tmp_path_factory):  # noqa: F811
    """One run trained by the command line, shared by this module's tests (they only read it)."""
    folder, rolls = chorale_folder
    tmp = tmp_path_factory.mktemp("trained")
    out = tmp / "run"
    r = run_cli("music", "train", "--corpus", folder, "--cache", tmp / "cache", "--steps", "150",
                "--eval-every", "50", "--out", out, *FAST)
    assert r.returncode == 0, r.stderr
    return out, rolls, r


def test_train_skips_bad_pieces_and_beats_both_baselines(trained):
    out, rolls, r = trained
    text = r.stdout + r.stderr
    assert re.search(r"skipped 2 of 12 pieces: broken\.mid \(.+\); silent\.mid \(no notes\)", text), text
    assert re.search(r"corpus \S+: 6 training, 2 validation and 2 test pieces", text), text
    assert "pitches 46..69 (MIDI, 24)" in text  # the chord cycle in keys -2..+2
    results = json.loads((out / "results.json").read_text())
    scores = {k.split(" (")[0]: v["nll"] for k, v in results["scores"].items()}
    assert set(scores) == {"model", "frequency", "repeat previous frame"}
    assert scores["model"] < 0.5 * min(scores["frequency"], scores["repeat previous frame"]), scores
    meta = json.loads((out / "best" / "config.json").read_text())
    assert meta["task"] == "music" and meta["pitch_low"] == 46 and meta["pitches"] == 24
    assert sorted(sum(meta["split"].values(), [])) == sorted(rolls) and set(meta["skipped"]) == {"broken.mid", "silent.mid"}
    hint = r.stdout.strip().splitlines()[-1]
    assert hint.endswith(f"score it with: rnnkit music eval --checkpoint {out}")
    e = run_cli("music", "eval", "--checkpoint", out, "--json", out / "eval.json", "--threads", "1")
    assert e.returncode == 0, e.stderr
    scored = json.loads((out / "eval.json").read_text())
    assert scored["scores"] == results["scores"] and scored["pieces"] == 2  # the same test pieces, the same scores


def test_eval_scores_another_corpus_and_counts_notes_outside_the_range(trained, chorale_folder, tmp_path, capsys):  # noqa: F811
    from music_pieces import chord_roll
    from rnnkit.tasks.music.midi import write_midi

    other = tmp_path / "other"
    other.mkdir()
    high = chord_roll(2, 12)  # an octave up: some notes above the model's highest pitch, 69
    outside = int(high[:, : 46 - 40].sum() + high[:, 70 - 40 :].sum())
    assert outside > 0
    write_midi(other / "high.mid", high, 40, 1)
    write_midi(other / "same.mid", chord_roll(2, 0), 40, 1)
    assert main(["music", "eval", "--checkpoint", str(trained[0]), "--corpus", str(other), "--json",
                 str(tmp_path / "o.json")]) == 0
    o = json.loads((tmp_path / "o.json").read_text())
    assert o["pieces"] == 2 and o["dropped_note_frames"] == outside and o["corpus"] == str(other)
    assert f"{outside} note frame(s) outside the model's pitches 46..69 were dropped" in capsys.readouterr().out


def midi_frames(path, low: int) -> list[list[int]]:
    from test_music_data import midi_notes

    notes = midi_notes(path)
    frames = [[] for _ in range(max(e for _, e, _ in notes) // 480)] if notes else []
    for start, end, pitch in notes:
        for t in range(start // 480, end // 480):
            frames[t].append(pitch)
    return [sorted(f) for f in frames]


def test_generate_writes_the_sampled_roll_as_midi_and_png(trained, tmp_path, capsys):
    out = trained[0]
    args = ["music", "generate", "--checkpoint", out, "--steps", "40", "--seed", "5", "--threads", "1"]
    r = run_cli(*args, "--out", tmp_path / "a.mid", "--plot", tmp_path / "a.png", "--json", tmp_path / "a.json")
    assert r.returncode == 0, r.stderr
    assert re.match(r"wrote \S+a\.mid: 40 frames \(40 quarter notes at 90 bpm\), \d+ notes", r.stdout)
    sampled = json.loads((tmp_path / "a.json").read_text())["frames"]
    assert len(sampled) == 40 and any(sampled)
    frames = midi_frames(tmp_path / "a.mid", 46)
    assert frames == [sorted(f) for f in sampled][: len(frames)] and not any(sampled[len(frames):])  # silent tail: no event
    assert (tmp_path / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    args = [str(a) for a in args]  # the same command in this process: the same file, byte for byte
    assert main([*args, "--out", str(tmp_path / "b.mid")]) == 0
    assert (tmp_path / "b.mid").read_bytes() == (tmp_path / "a.mid").read_bytes()
    capsys.readouterr()
    assert main([*args, "--out", str(tmp_path / "c.mid"), "--max-notes", "2", "--prime", "4",
                 "--json", str(tmp_path / "c.json")]) == 0
    c = json.loads((tmp_path / "c.json").read_text())["frames"]
    assert len(c) == 44 and max(map(len, c[4:])) <= 2 and "the first 4 frames from the test piece" in capsys.readouterr().out


def test_the_python_api_trains_and_loads(chorale_folder, tmp_path):  # noqa: F811
    import torch

    import rnnkit.tasks
    from rnnkit.models.frame_model import FrameBatch

    folder, _ = chorale_folder
    summary = rnnkit.tasks.train("music", corpus=str(folder), cache="none", steps=20, cell="gru", hidden=8,
                                 threads=1, out=str(tmp_path / "api"), transpose=2, log_every=10)
    assert summary["step"] == 20 and summary["scores"]["model"]["frames"] > 0
    run = rnnkit.tasks.load(tmp_path / "api")
    assert run.task.name == "music" and run.configs["model"].rnn.cell == "gru" and run.configs["data"].transpose == 2
    logits, loss, _ = run.model(FrameBatch(torch.zeros(1, 5, run.vocabs["pitches"]), torch.tensor([5])))
    assert logits.shape == (1, 5, run.vocabs["pitches"]) and loss is None


@pytest.mark.parametrize("argv, message", [
    (["music", "train", "--corpus", "no/such/folder"], r"--corpus no/such/folder: no such folder"),
    (["music", "train", "--corpus", "nobody-composed-this"], r"holds no scores"),
    (["music", "train", "--grid", "3"], r"--grid must be one of: 1, 2, 4"),
    (["music", "train", "--cell", "lstn"], r"--cell must be one of: .*lstm"),
    (["music", "train", "--bidirectional"], r"unrecognized arguments: --bidirectional"),
    (["music", "generate", "--checkpoint", "missing", "--temperature", "0"], r"--temperature must be a finite number in \(0, 100\]"),
])
def test_bad_input_is_one_line(argv, message, capsys, tmp_path):
    assert main([*argv, "--threads", "1", *(["--out", str(tmp_path / "r")] if "train" in argv else [])]) == 2
    one_line_error(capsys, message)
    assert not (tmp_path / "r").exists()


def test_a_folder_without_scores_and_a_wrong_checkpoint_are_one_line(trained, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["music", "train", "--corpus", str(tmp_path / "empty"), "--threads", "1", "--out", str(tmp_path / "r")]) == 2
    one_line_error(capsys, r"the folder \S+empty holds no scores \(\.mxl")
    out = trained[0]
    assert main(["music", "generate", "--checkpoint", str(out), "--prime", "999", "--out", str(tmp_path / "x.mid")]) == 2
    one_line_error(capsys, r"--prime 999 is not shorter than the test piece")
    assert main(["forecast", "eval", "--checkpoint", str(out)]) == 2
    one_line_error(capsys, r"is not a forecaster \(its task is 'music'\)")


@pytest.mark.slow
def test_the_bach_chorales_every_cell_beats_both_baselines(tmp_path):
    """The real corpus, its first 150 chorales (parsed once into the user's cache, ~40 s, then read in
    a fraction of a second): each cell at about 20k parameters, 1,500 steps, beats the frequency and
    repeat baselines by more than a nat per frame on the test chorales."""
    pytest.importorskip("music21", reason="the music task reads scores with music21 (pip install 'rnnkit[music]')")
    for cell, hidden in (("elman", 101), ("gru", 55), ("lstm", 46)):
        out = tmp_path / cell
        assert main(["music", "train", "--pieces", "150", "--cell", cell, "--hidden", str(hidden), "--steps", "1500",
                     "--patience", "25", "--threads", "1", "--log-every", "1000", "--out", str(out)]) == 0
        results = json.loads((out / "results.json").read_text())
        assert results["pieces"] == 30  # a fifth of the 150
        nll = {k.split(" (")[0]: v["nll"] for k, v in results["scores"].items()}
        assert nll["model"] < min(nll["frequency"], nll["repeat previous frame"]) - 1.0, (cell, nll)
