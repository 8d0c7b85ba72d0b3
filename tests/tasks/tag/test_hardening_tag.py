"""The tagger reads text by every task's rules: NUL bytes or non-UTF-8 in a training file or on standard
input are one line, never tagged or trained on."""

import io
import sys

from conftest import one_line_error
from rnnkit.cli import main
from test_tag_cli import FAST, conllu, toy_sentences


def test_nul_or_latin1_in_a_training_file_is_refused(tmp_path, capsys):
    for name, content in (("nul", conllu(toy_sentences(8, 0)).replace("cat", "c\x00at", 1).encode()),
                          ("latin1", conllu(toy_sentences(8, 0)).replace("cat", "caf\xe9", 1).encode("latin-1"))):
        path = tmp_path / f"{name}.conllu"
        path.write_bytes(content)
        assert main(["tag", "train", "--train", str(path), "--steps", "1", "--out", str(tmp_path / name), *FAST]) == 2
        one_line_error(capsys, "looks binary" if name == "nul" else "is not UTF-8 text")
        assert not (tmp_path / name).exists()


def test_binary_stdin_is_not_tagged(tmp_path, capsys, monkeypatch):
    train = tmp_path / "train.conllu"
    train.write_text(conllu(toy_sentences(32, 0)))
    run = tmp_path / "run"
    assert main(["tag", "train", "--train", str(train), "--steps", "2", "--out", str(run), *FAST]) == 0
    capsys.readouterr()
    for data, message in ((b"the cat\x00 sees\n", "looks binary"), (b"the caf\xe9\n", "is not UTF-8")):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
        assert main(["tag", "predict", "--checkpoint", str(run)]) == 2
        one_line_error(capsys, f"standard input {message}")
