"""``rnnkit classify`` end to end on tiny files: train (the course preset), eval, predict from arguments
and stdin, exact resume, the author-attribution data, and a one-line error for each bad input."""

import io
import json
import re

import pytest
import torch
from safetensors.torch import load_file

from conftest import one_line_error
from rnnkit.cli import main

FAST = ["--threads", "1", "--log-every", "10"]


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def sentiment(tmp_path):
    """A sentiment rule: 'good'/'great' mean positive, 'bad'/'awful' negative."""
    rows = [("a good film", 1), ("great acting , good plot", 1), ("simply great", 1), ("the plot is good", 1),
            ("a bad film", 0), ("awful acting , bad plot", 0), ("simply awful", 0), ("the plot is bad", 0)]
    train, dev = tmp_path / "train.tsv", tmp_path / "dev.tsv"
    train.write_text("sentence\tlabel\n" + "".join(f"{t} \t{l}\n" for t, l in rows * 12))
    dev.write_text("sentence\tlabel\ngood good \t1\nbad , awful \t0\n")
    return train, dev


def test_course_preset_train_eval_predict(tmp_path, sentiment, capsys, monkeypatch):
    train, dev = sentiment
    out = tmp_path / "run"
    assert main(["classify", "train", "--preset", "course", "--train", str(train), "--out", str(out),
                 "--epochs", "6", "--lr", "0.005", *FAST]) == 0
    text = capsys.readouterr().out
    assert re.search(r"data: 77 training and 19 validation texts, 2 classes", text)  # the 20% split
    meta = json.loads((out / "best" / "config.json").read_text())
    assert meta["task"] == "classify" and meta["classes"] == ["0", "1"] and meta["vocab"][:2] == ["<pad>", "<unk>"]
    m, t = meta["configs"]["model"], meta["configs"]["train"]
    assert (m["embedding"], m["hidden"], m["dense"], m["head_dropout"], t["optimizer"]) == (50, 64, 256, 0.5, "rmsprop")
    weights = load_file(str(out / "best" / "model.safetensors"))
    assert weights["head.weight"].shape == (1, 256)  # Dense(1) -> sigmoid
    assert (out / "loss.png").stat().st_size > 1000
    records = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if "val_accuracy" in r][0] == 3  # once per epoch: 77 texts, batches of 32

    assert main(["classify", "eval", "--checkpoint", str(out), "--data", str(dev), "--json", str(tmp_path / "s.json")]) == 0
    assert "accuracy 100.00%" in capsys.readouterr().out
    assert json.loads((tmp_path / "s.json").read_text())["confusion"] == [[1, 0], [0, 1]]

    assert main(["classify", "predict", "--checkpoint", str(out), "good plot", "an awful film"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [l.split("\t")[0] for l in lines] == ["1", "0"] and lines[0].endswith("\tgood plot")
    monkeypatch.setattr("sys.stdin", io.StringIO("great film\n\nbad acting\n"))
    assert main(["classify", "predict", "--checkpoint", str(out)]) == 0
    assert [l.split("\t")[0] for l in capsys.readouterr().out.splitlines()] == ["1", "0"]


@pytest.mark.slow
def test_bidirectional_char_model_multiclass_and_exact_resume(tmp_path, capsys):
    data = tmp_path / "langs.csv"
    words = {"en": ["the cat", "a dog", "the house"], "fr": ["le chat", "un chien", "la maison"],
             "de": ["die katze", "ein hund", "das haus"]}
    data.write_text("text,label\n" + "".join(f"{w},{l}\n" for l, ws in words.items() for w in ws) * 6)
    flags = ["classify", "train", "--train", str(data), "--tokens", "char", "--bidirectional", "--pooling", "mean",
             "--cell", "gru", "--hidden", "16", "--embedding", "8", "--layers", "2", "--batch-size", "8",
             "--eval-every", "5", "--patience", "0", *FAST]
    assert main([*flags, "--steps", "20", "--out", str(tmp_path / "full")]) == 0
    assert main([*flags, "--steps", "10", "--out", str(tmp_path / "half")]) == 0
    assert main([*flags, "--steps", "20", "--out", str(tmp_path / "half"), "--resume"]) == 0
    capsys.readouterr()
    a = load_file(str(tmp_path / "full" / "checkpoint" / "model.safetensors"))
    b = load_file(str(tmp_path / "half" / "checkpoint" / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert json.loads((tmp_path / "full" / "best" / "config.json").read_text())["classes"] == ["de", "en", "fr"]
    assert main([*flags, "--steps", "30", "--out", str(tmp_path / "half"), "--resume", "--hidden", "32"]) == 2
    one_line_error(capsys, "--hidden cannot change when resuming")


def test_authors_command_writes_splits(tmp_path, capsys):
    play = tmp_path / "play.txt"
    play.write_text("".join(f"ROMEO:\nline {i} of romeo\nand more\n\nJULIET:\nline {i} of juliet\n\nNURSE:\nhush\n\n"
                            for i in range(20)))
    assert main(["classify", "authors", "--corpus", str(play), "--top", "2", "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert "ROMEO (40), JULIET (20)" in out
    rows = [l.split("\t") for name in ("train", "val", "test") for l in (tmp_path / "a" / f"{name}.tsv").read_text().splitlines()[1:]]
    assert len(rows) == 60 and {r[1] for r in rows} == {"ROMEO", "JULIET"}


def test_bad_input_one_line_errors(tmp_path, sentiment, capsys):
    train, dev = sentiment
    run = tmp_path / "run"
    assert main(["classify", "train", "--train", str(train), "--out", str(run), "--steps", "2", "--hidden", "4",
                 "--embedding", "4", *FAST]) == 0
    capsys.readouterr()
    empty = tmp_path / "empty.tsv"
    empty.write_text("")
    unseen = tmp_path / "unseen.tsv"
    unseen.write_text("sentence\tlabel\nok then \t2\n")
    ragged = tmp_path / "ragged.tsv"
    ragged.write_text("sentence\tlabel\nfine \t1\ntoo\tmany\tcolumns\n")
    nolabel = tmp_path / "nolabel.tsv"
    nolabel.write_text("sentence\tlabel\nfine \t\n")
    cases = [
        (["classify", "train", "--train", str(empty)], r"empty.tsv is empty: expected a header line"),
        (["classify", "train", "--train", str(train), "--val", str(unseen)],
         r"unseen.tsv has label\(s\) not seen in training: '2'; the model knows: '0', '1'"),
        (["classify", "eval", "--checkpoint", str(run), "--data", str(unseen)], r"label\(s\) not seen in training: '2'"),
        (["classify", "eval", "--checkpoint", str(run), "--data", str(empty)], r"is empty"),
        (["classify", "train", "--train", str(ragged)], r"ragged.tsv, line 3: 3 column\(s\), but the header has 2"),
        (["classify", "train", "--train", str(nolabel)], r"line 2: the label is empty"),
        (["classify", "train", "--train", str(tmp_path / "nope.tsv")], r"file not found: .*nope.tsv"),
        (["classify", "train"], r"--train FILE is required"),
        (["classify", "train", "--train", str(train), "--pooling", "avg"], r"--pooling must be one of: last, max, mean, got 'avg'"),
        (["classify", "train", "--train", str(train), "--tokens", "bpe"], r"--tokens must be one of: char, word, got 'bpe'"),
        (["classify", "train", "--train", str(train), "--preset", "keras"], r"unknown preset 'keras'; choose one of: course"),
        (["classify", "train", "--train", str(train), "--cell", "lstn"], r"--cell must be one of: .*got 'lstn'"),
        (["classify", "train", "--train", str(train), "--out", str(run)], r"already holds a run"),
        (["classify", "predict", "--checkpoint", str(tmp_path / "nowhere"), "hi"], r"checkpoint not found"),
    ]
    for argv, expected in cases:
        assert main(argv) == 2, argv
        one_line_error(capsys, expected)
