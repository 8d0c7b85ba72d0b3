"""No silent wrong results in speech: utterances CTC cannot align are refused before training (a loss
of 0 beside a useless model before), recordings too short to hold a digit are not transcribed, and
eval says which folder of the checkpoint it reads."""

import wave

import pytest
import torch

from conftest import one_line_error
from rnnkit.cli import main
from rnnkit.errors import RnnkitError
from rnnkit.tasks.speech.data import Frames, check_alignable
from test_speech import TINY, fsdd  # noqa: F401 (the fixture)


def frames(lengths, labels):
    return Frames([torch.zeros(n, 3) for n in lengths], labels, True)


def test_ctc_needs_a_step_per_digit_and_a_blank_between_repeats():
    check_alignable({"train": frames([6], [[1, 2, 3]])}, stack=2)  # 3 steps for 3 distinct digits: alignable
    with pytest.raises(RnnkitError, match=r"1 of 2 train utterances are too short .* \(e.g. 3 digits in 2 steps"):
        check_alignable({"train": frames([6, 4], [[1, 2, 3], [4, 5, 6]])}, stack=2)
    with pytest.raises(RnnkitError, match="too short"):  # 7 7 7 needs 7 _ 7 _ 7: 5 steps
        check_alignable({"val": frames([8], [[7, 7, 7]])}, stack=2)
    check_alignable({"val": frames([10], [[7, 7, 7]])}, stack=2)


def test_short_recordings_are_not_transcribed(fsdd, tmp_path, capsys):  # noqa: F811
    run = tmp_path / "iso"
    assert main(["speech", "train", "--data", str(fsdd), "--out", str(run), "--steps", "2", "--eval-every", "2",
                 *TINY]) == 0
    capsys.readouterr()
    for samples in (1, 80):  # 1 sample, 10 ms
        short = tmp_path / f"short{samples}.wav"
        with wave.open(str(short), "wb") as w:
            w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
            w.writeframes(b"\x10\x00" * samples)
        assert main(["speech", "transcribe", "--checkpoint", str(run), str(short)]) == 2
        one_line_error(capsys, rf"short{samples}.wav lasts 0.0\d\d s \({samples} samples\), shorter than any spoken digit")
    assert main(["speech", "eval", "--checkpoint", str(run)]) == 0
    assert f"--data not given: reading {fsdd}, the FSDD folder named in the checkpoint" in capsys.readouterr().err
