"""``rnnkit speech``: FSDD splits, connected-digit synthesis, the scores, the models, and the CLI end to
end (train, eval, transcribe with a plot, exact --resume) on a tiny FSDD-like folder of synthetic tones."""

import json
import math
import re
import wave

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from conftest import SHARED_DATA, one_line_error
from rnnkit.cli import main
from rnnkit.errors import RnnkitError
from rnnkit.models.speech import CTCRecognizer, WordClassifier, stack_frames
from rnnkit.models.speech_config import SpeechModelConfig
from rnnkit.schema import from_flat
from rnnkit.tasks.speech.fsdd import ConnectedDigits, list_recordings, split_recordings
from rnnkit.tasks.speech.scores import align, sequence_scores, word_scores

pytestmark = pytest.mark.usefixtures("one_thread")
SPEAKERS = ("ann", "bob")


def tone(digit: int, speaker: int, take: int, rate=8000) -> np.ndarray:
    """A 0.12-0.16 s chord whose pitches name the digit (a learnable stand-in for a spoken digit)."""
    g = np.random.default_rng(1000 * digit + 100 * speaker + take)
    t = np.arange(int(rate * (0.12 + 0.01 * (take % 5)))) / rate
    f = 250 + 160 * digit + 20 * speaker
    x = 0.3 * np.sin(2 * math.pi * f * t) + 0.2 * np.sin(2 * math.pi * 2.3 * f * t) + 0.01 * g.standard_normal(len(t))
    return (x * np.hanning(len(t)) * 32767).astype("<i2")


@pytest.fixture(scope="module")
def fsdd(tmp_path_factory):
    """recordings/{digit}_{speaker}_{take}.wav: 2 speakers x 10 digits x 7 takes."""
    root = tmp_path_factory.mktemp("fsdd")
    (root / "recordings").mkdir()
    for s, speaker in enumerate(SPEAKERS):
        for d in range(10):
            for take in range(7):
                with wave.open(str(root / "recordings" / f"{d}_{speaker}_{take}.wav"), "wb") as w:
                    w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
                    w.writeframes(tone(d, s, take).tobytes())
    return root


def test_splits(fsdd):
    recs = list_recordings(fsdd)
    assert len(recs) == 140 and recs[0].path.name == "0_ann_0.wav"
    s = split_recordings(recs, val_fraction=0.25, seed=0)
    assert {r.take for r in s["test"]} == set(range(5)) and len(s["test"]) == 100
    assert len(s["val"]) == 10 and len(s["train"]) == 30
    names = [{r.path.name for r in s[k]} for k in ("train", "val", "test")]
    assert not (names[0] & names[1] or names[0] & names[2] or names[1] & names[2])
    h = split_recordings(recs, holdout="bob", val_fraction=0.1)
    assert {r.speaker for r in h["test"]} == {"bob"} and {r.speaker for r in h["train"] + h["val"]} == {"ann"}
    p = split_recordings(recs, holdout="bob", val_fraction=0.1, per_digit=2)
    assert len(p["train"]) + len(p["val"]) == 20 and {r.take for r in p["train"] + p["val"]} == {0, 1}
    with pytest.raises(RnnkitError, match="unknown speaker 'eve' for --holdout; choose one of: ann, bob"):
        split_recordings(recs, holdout="eve")


def test_connected_synthesis(fsdd):
    s = split_recordings(list_recordings(fsdd), val_fraction=0.25)
    train = ConnectedDigits(s["train"], 2, 7).utterances(60, seed=1)
    test = ConnectedDigits(s["test"], 2, 7).utterances(60, seed=2)
    for u in train + test:
        assert 2 <= len(u.digits) <= 7
        assert u.digits == [r.digit for r in u.sources]  # the labels are the recordings' digits, in order
        assert {r.speaker for r in u.sources} == {u.speaker}  # one speaker per utterance
        assert len(u.samples) > sum(int(0.12 * 8000) for _ in u.digits) + int(0.03 * 8000) * (len(u.digits) + 1) - 1
        assert float(u.samples.abs().max()) <= 1.0
    takes = lambda utts: {(r.speaker, r.take) for u in utts for r in u.sources}
    assert not takes(train) & takes(test)  # disjoint takes
    assert {t for _, t in takes(test)} <= set(range(5)) and {t for _, t in takes(train)} <= {5, 6}
    assert {len(u.digits) for u in train + test} == set(range(2, 8))  # every length occurs
    again = ConnectedDigits(s["test"], 2, 7).utterances(60, seed=2)
    assert all(torch.equal(a.samples, b.samples) and a.digits == b.digits for a, b in zip(test, again))
    with pytest.raises(RnnkitError, match="--min-digits"):
        ConnectedDigits(s["test"], 3, 2)


def test_alignment_scores():
    assert align([1, 2, 3], [1, 3]) == [(1, 1), (2, None), (3, 3)]
    assert align([1], [4, 1]) == [(None, 4), (1, 1)]
    s = sequence_scores([[1, 2, 3], [4, 5]], [[1, 3], [4, 6, 7]], num_classes=10)
    assert (s["substitutions"], s["deletions"], s["insertions"], s["reference_digits"]) == (1, 1, 1, 5)
    assert s["digit_error_rate"] == pytest.approx(3 / 5) and s["sequence_accuracy"] == 0.0
    c = s["confusion"]  # 5 -> 6 or 7 substituted, the other inserted: both are minimal
    assert c[2][10] == 1 and sum(c[10]) == 1 and c[5][6] + c[5][7] == 1 and c[1][1] == c[3][3] == c[4][4] == 1
    w = word_scores([0, 1, 1], [0, 1, 2], num_classes=3)
    assert w["accuracy"] == pytest.approx(2 / 3) and w["confusion"] == [[1, 0, 0], [0, 1, 1], [0, 0, 0]]


def test_models_shapes_and_engine():
    x, lengths = torch.randn(3, 11, 4), torch.tensor([11, 7, 1])
    y, n = stack_frames(x, lengths, 3)
    assert y.shape == (3, 4, 12) and n.tolist() == [4, 3, 1] and torch.equal(y[0, 0], x[0, :3].flatten())
    clf = WordClassifier(4, 10, from_flat(SpeechModelConfig, dict(cell="gru", hidden=8, layers=2, stack=2)))
    assert clf.encoder.rnn.layers[0].engine_used == "torch"  # the fused kernel
    logits, loss, _ = clf((x, lengths), torch.tensor([1, 2, 3]))
    assert logits.shape == (3, 10) and torch.isfinite(loss)
    ctc = CTCRecognizer(4, 10, from_flat(SpeechModelConfig, dict(cell="lstm", hidden=8, layers=1, stack=2)))
    (log_probs, out_lengths), loss, _ = ctc((x, lengths), (torch.tensor([[1, 2], [3, 0], [5, 0]]), torch.tensor([2, 1, 1])))
    assert log_probs.shape == (3, 6, 11) and out_lengths.tolist() == [6, 4, 1] and torch.isfinite(loss)
    assert torch.allclose(log_probs.exp().sum(-1), torch.ones(3, 6))
    loss.backward()


@pytest.mark.parametrize("model", [WordClassifier, CTCRecognizer])
@pytest.mark.parametrize("k", [2, 3])
def test_stacked_frames_ignore_padding(model, k):
    """With --stack k > 1 a row's output is the same alone and padded beside a longer row, whatever its
    padding holds: the frames past its length are zeroed before k frames are stacked."""
    torch.manual_seed(0)
    net = model(4, 10, from_flat(SpeechModelConfig, dict(cell="gru", hidden=8, layers=1, stack=k,
                                                          dropout=0.0, head_dropout=0.0))).eval()
    short, long = torch.randn(1, 7, 4), torch.randn(1, 12, 4)
    padded = torch.cat([torch.cat([short, torch.full((1, 5, 4), 7.0)], 1), long])  # (2, 12, 4), padding 7.0
    with torch.no_grad():
        alone, _, _ = net((short, torch.tensor([7])))
        beside, _, _ = net((padded, torch.tensor([7, 12])))
    if model is CTCRecognizer:
        (alone, n), (beside, _) = alone, beside
        alone, beside = alone[0, : int(n[0])], beside[0, : int(n[0])]
    else:
        alone, beside = alone[0], beside[0]
    assert torch.allclose(alone, beside, atol=1e-6), (alone - beside).abs().max()
    y, _ = stack_frames(padded, torch.tensor([7, 12]), k)
    assert torch.equal(y[0], stack_frames(torch.cat([short, torch.zeros(1, 5, 4)], 1), torch.tensor([7]), k)[0][0])


TINY = ["--threads", "1", "--hidden", "24", "--layers", "1", "--log-every", "10", "--val-fraction", "0.2",
        "--lr", "0.01", "--warmup", "5", "--batch-size", "16"]


def test_cli_isolated_train_eval_transcribe(fsdd, tmp_path, capsys):
    out = tmp_path / "iso"
    assert main(["speech", "train", "--data", str(fsdd), "--out", str(out), "--steps", "60", "--eval-every", "20",
                 *TINY]) == 0
    text = capsys.readouterr().out
    assert "data: isolated digits, 32 train, 8 val examples (official split" in text
    meta = json.loads((out / "best" / "config.json").read_text())
    assert meta["task"] == "speech" and meta["classes"] == [str(d) for d in range(10)]
    assert (out / "loss.png").stat().st_size > 1000 and (out / "metrics.jsonl").exists()
    assert main(["speech", "eval", "--checkpoint", str(out), "--json", str(tmp_path / "s.json")]) == 0
    text = capsys.readouterr().out
    accuracy = float(re.search(r"test: 100 recordings, accuracy ([\d.]+)%", text).group(1))
    assert accuracy >= 40 and "true \\ predicted" in text  # chance is 10%; 60 steps of a tiny model
    assert sum(map(sum, json.loads((tmp_path / "s.json").read_text())["beam1"]["confusion"])) == 100
    wav = fsdd / "recordings" / "7_bob_3.wav"
    assert main(["speech", "transcribe", "--checkpoint", str(out), str(wav)]) == 0
    line = capsys.readouterr().out.strip()
    assert re.fullmatch(r"\d\t[\d.]+\t.*7_bob_3\.wav", line)


def test_cli_connected_train_eval_transcribe_and_exact_resume(fsdd, tmp_path, capsys):
    flags = ["speech", "train", "--task", "connected", "--data", str(fsdd), "--train-utterances", "40",
             "--test-utterances", "12", "--max-digits", "4", "--spec-augment", "--eval-every", "5", *TINY]
    assert main([*flags, "--steps", "10", "--out", str(tmp_path / "full")]) == 0
    assert main([*flags, "--steps", "5", "--out", str(tmp_path / "half")]) == 0
    assert main([*flags, "--steps", "10", "--out", str(tmp_path / "half"), "--resume"]) == 0
    assert "resuming" in capsys.readouterr().out
    a = load_file(str(tmp_path / "full" / "checkpoint" / "model.safetensors"))
    b = load_file(str(tmp_path / "half" / "checkpoint" / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)  # SpecAugment's masks too are a function of the step
    run = tmp_path / "full"
    assert main(["speech", "eval", "--checkpoint", str(run), "--beam", "1,4"]) == 0
    text = capsys.readouterr().out
    assert re.search(r"test \( greedy\): 12 utterances, \d+ digits: digit error rate [\d.]+% .* sequence accuracy", text)
    assert re.search(r"test \( beam 4\)", text) and "'-' is a deletion" in text
    wavs = [str(fsdd / "recordings" / f"{d}_ann_0.wav") for d in (3, 4)]
    png = tmp_path / "ctc.png"
    assert main(["speech", "transcribe", "--checkpoint", str(run), *wavs, "--plot", str(png)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and re.fullmatch(r"\d*\t.*3_ann_0\.wav", lines[0]) and png.stat().st_size > 5000
    assert main([*flags, "--steps", "20", "--out", str(run), "--resume", "--hidden", "32"]) == 2
    one_line_error(capsys, "--hidden cannot change when resuming")


def test_cli_bad_input(fsdd, tmp_path, capsys):
    bad = tmp_path / "stereo.wav"
    with wave.open(str(bad), "wb") as w:
        w.setnchannels(2), w.setsampwidth(2), w.setframerate(8000)
        w.writeframes(b"\0\0" * 400)
    run = tmp_path / "iso"
    assert main(["speech", "train", "--data", str(fsdd), "--out", str(run), "--steps", "2", *TINY]) == 0
    capsys.readouterr()
    assert main(["speech", "transcribe", "--checkpoint", str(run), str(bad)]) == 2
    one_line_error(capsys, "2 channels; give a mono recording")
    assert main(["speech", "transcribe", "--checkpoint", str(run), str(tmp_path / "none.wav")]) == 2
    one_line_error(capsys, "audio file not found")
    assert main(["speech", "train", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x")]) == 2
    one_line_error(capsys, "FSDD folder not found")
    assert main(["speech", "train", "--data", str(fsdd), "--task", "words", "--out", str(tmp_path / "y")]) == 2
    one_line_error(capsys, "--task must be one of: connected, isolated, got 'words'")
    assert main(["speech", "eval", "--checkpoint", str(run), "--beam", "0"]) == 2
    one_line_error(capsys, "--beam takes beam widths >= 1")


@pytest.mark.skipif(not (SHARED_DATA / "fsdd" / "recordings").is_dir(), reason="../shared/data/fsdd is absent")
def test_real_fsdd_split_counts():
    s = split_recordings(list_recordings(SHARED_DATA / "fsdd"), val_fraction=0.1)
    assert (len(s["train"]), len(s["val"]), len(s["test"])) == (2430, 270, 300)
