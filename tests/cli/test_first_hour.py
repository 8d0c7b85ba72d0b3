"""What a new user meets in the first hour: flags over presets, help texts, ``rnnkit cells``,
stored paths, run folders only for valid inputs (the language model's part: tests/tasks/lm/test_lm_first_hour.py)."""

import json
import re
from pathlib import Path

import pytest

from conftest import one_line_error, run_cli
from rnnkit.cli import main

SMALL = ["--hidden", "16", "--layers", "1", "--embedding", "8", "--seq-len", "16", "--batch-size", "4",
         "--eval-windows", "4", "--eval-window", "32", "--log-every", "10", "--warmup", "0", "--threads", "1"]


def train(tmp_path, corpus, *extra, name="run"):
    out = tmp_path / name
    return main(["train", "--corpus", str(corpus), "--out", str(out), *SMALL, *extra]), out


@pytest.fixture
def reviews(tmp_path):
    rows = [("a good film", 1), ("simply great", 1), ("a bad film", 0), ("simply awful", 0)]
    path = tmp_path / "train.tsv"
    path.write_text("sentence\tlabel\n" + "".join(f"{t}\t{l}\n" for t, l in rows * 10))
    return path


def test_flags_given_beat_the_preset(tmp_path, reviews, capsys, one_thread):
    out = tmp_path / "course"
    assert main(["classify", "train", "--preset", "course", "--train", str(reviews), "--out", str(out), "--steps", "3",
                 "--threads", "1"]) == 0  # the preset says epochs=10; --steps 3 wins
    meta = json.loads((out / "checkpoint" / "config.json").read_text())
    assert meta["step"] == 3 and meta["configs"]["data"]["epochs"] == 0
    assert meta["configs"]["model"]["hidden"] == 64  # the rest of the preset still applies
    capsys.readouterr()
    assert main(["classify", "train", "--preset", "course", "--train", str(reviews), "--out", str(tmp_path / "both"),
                 "--steps", "3", "--epochs", "2"]) == 2
    one_line_error(capsys, r"--steps and --epochs both set the length of training; give only one of them")
    assert not (tmp_path / "both").exists()


def test_data_paths_are_stored_absolute(tmp_path, reviews, periodic_corpus, monkeypatch, one_thread):
    monkeypatch.chdir(reviews.parent)
    assert main(["classify", "train", "--train", "train.tsv", "--out", "run", "--steps", "2", "--threads", "1"]) == 0
    meta = json.loads((reviews.parent / "run" / "checkpoint" / "config.json").read_text())
    assert meta["configs"]["data"]["train"] == str(reviews)
    monkeypatch.chdir(periodic_corpus.parent)
    code, out = train(tmp_path, periodic_corpus.name, "--steps", "2", "--sample-every", "0", name="lm")
    assert code == 0
    assert json.loads((out / "checkpoint" / "config.json").read_text())["configs"]["data"]["corpus"] == str(periodic_corpus)


def test_failed_runs_leave_no_folder(tmp_path, reviews, capsys, one_thread):
    unseen = tmp_path / "unseen.tsv"
    unseen.write_text("sentence\tlabel\nok then\t2\n")
    assert main(["classify", "train", "--train", str(reviews), "--val", str(unseen), "--steps", "2"]) == 2
    one_line_error(capsys, r"label\(s\) not seen in training")
    assert not Path("runs").exists()  # no runs/classify-<time>/ (conftest runs each test in a tmp folder)


def test_cells_prints_each_cells_own_equations(capsys):
    from rnnkit.cells import CELLS
    from rnnkit.cells.equations import EQUATIONS

    assert set(EQUATIONS) == set(CELLS)
    assert main(["cells"]) == 0
    text = capsys.readouterr().out
    blocks = {b.split(" ", 1)[0]: b for b in text.strip().split("\n\n")}
    assert set(blocks) == set(CELLS)
    assert "c_t = c_{t-1} + tanh(W_h [h_{t-1}; x_t] + b_h)" in blocks["simple-lstm"]  # not a truncated first line
    assert "w_cf * c_{t-1}" in blocks["peephole-lstm"] and "w_cf" not in blocks["lstm"]  # variants: their own
    assert "(1 - f_t) * g_t" in blocks["coupled-lstm"] and "i_t" not in blocks["coupled-lstm"]
    assert "W [r_t * h_{t-1}; x_t]" in blocks["gru-course"] and "r_t * (W_hn h_{t-1} + b_hn)" in blocks["gru"]
    assert all(len(b.splitlines()) >= 2 for b in blocks.values())  # every cell shows at least one equation


def all_parsers(parser, path=()):
    import argparse

    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from all_parsers(child, (*path, name))


def test_help_texts(capsys):
    from rnnkit.cli import build_parser

    for path, parser in all_parsers(build_parser()):
        for action in parser._actions:
            text = action.help or ""
            assert "(default: None)" not in text, (path, action.dest)
            assert text.count("(default") <= 1, (path, action.dest, text)
        helps = {a.dest: a.help for a in parser._actions}
        if len(path) == 2 and path[1] == "train" and path[0] not in ("scratch", "lab"):  # classify train, ...
            assert f"runs/{path[0]}-<time>" in helps["out"], path
            assert path[0] == "lm" or "streams" not in helps["batch_size"], path  # the LM's batch is streams
    try:
        code = main(["--version"])
    except SystemExit as e:  # argparse's version action exits
        code = e.code
    assert code in (0, None)
    assert re.fullmatch(r"rnnkit \d+\.\d+\.\d+\S*\n", capsys.readouterr().out)
    result = run_cli("--help")
    assert "``" not in result.stdout and "rnnkit <command>: train" in result.stdout


def test_failed_translate_run_leaves_no_folder(tmp_path, capsys, one_thread):
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("a very long sentence indeed with many words in it\tune phrase\n" * 5)
    assert main(["translate", "train", "--data", str(pairs), "--max-words", "3", "--steps", "1"]) == 2
    one_line_error(capsys, r"raise --max-words")
    assert not Path("runs").exists()
