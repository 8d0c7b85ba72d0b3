"""Checkpoints from elsewhere are data: every damaged field gives one line, weights with NaN are refused,
no file outside the paths given on the command line is opened; the divergence rule; the memory estimate;
and smaller faults (binary stdin, long CSV fields, ragged rows, a forecast past 9999).
"""

from __future__ import annotations

import builtins
import io
import json
import math
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from rnnkit.cli import main
from rnnkit.errors import RnnkitError
from rnnkit.train.files import unlock_run

from conftest import one_line_error

TINY = ["--hidden", "8", "--layers", "1", "--embedding", "4", "--seq-len", "16", "--batch-size", "4",
        "--eval-windows", "2", "--eval-window", "16", "--log-every", "1", "--warmup", "0", "--sample-every", "0",
        "--threads", "1"]

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory):
    """A tiny trained LM run, made once; tests copy it before damaging it."""
    root = tmp_path_factory.mktemp("lm")
    corpus = root / "corpus.txt"
    corpus.write_text("the cat sat on the mat.\n" * 200)
    out = root / "run"
    assert main(["train", "--corpus", str(corpus), "--out", str(out), "--steps", "2", "--eval-every", "2", *TINY]) == 0
    unlock_run(out)
    return out


@pytest.fixture(scope="module")
def forecast_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("fc")
    t = np.arange(120)
    csv = root / "monthly.csv"
    csv.write_text("Month,Sales\n" + "".join(f"{2000 + i // 12}-{i % 12 + 1:02d},{100 + v:.2f}\n"
                                             for i, v in enumerate(20 * np.sin(2 * np.pi * t / 12))))
    out = root / "run"
    assert main(["forecast", "train", "--data", str(csv), "--window", "12", "--steps", "3", "--eval-every", "3",
                 "--hidden", "4", "--threads", "1", "--out", str(out)]) == 0
    unlock_run(out)
    return out, csv


def damaged(lm_run, tmp_path, edit=None, weights=None) -> Path:
    """A copy of the run whose checkpoint's config.json went through ``edit(meta)``."""
    copy = tmp_path / "run"
    shutil.copytree(lm_run, copy)
    for name in ("checkpoint", "best"):
        folder = copy / name
        if edit is not None:
            meta = json.loads((folder / "config.json").read_text())
            edit(meta)
            (folder / "config.json").write_text(json.dumps(meta))
        if weights is not None:
            w = load_file(str(folder / "model.safetensors"))
            weights(w)
            save_file(w, str(folder / "model.safetensors"))
    return copy


def setter(*keys, value=None, delete=False):
    def edit(meta):
        target = meta
        for k in keys[:-1]:
            target = target[k]
        if delete:
            del target[keys[-1]]
        else:
            target[keys[-1]] = value
    return edit


LOAD_CASES = [
    (setter("configs", "model", value=[1, 2]), r"configs.model: expected a JSON object of settings, got list"),
    (setter("configs", "model", delete=True), r"config.json lacks configs.model"),
    (setter("configs", "model", "hidden", value="abc"), r"configs.model: hidden must be an integer, got 'abc'"),
    (setter("configs", "model", "hidden", value=-3), r"configs.model: hidden must be an integer >= 1, got -3"),
    (setter("configs", "model", "dropout", value=float("nan")), r"dropout must be a finite number in \[0, 1\)"),
    (setter("configs", "model", "cell", value="magic"), r"cell must be one of: .*lstm.*got 'magic'"),
    (setter("configs", "model", "residual", value="yes"), r"residual must be true or false"),
    (setter("vocab", value=["ab", "c"]), r"vocab entry 'ab' is not a single character"),
    (setter("vocab", value=7), r"vocab must be a non-empty list of strings"),
    (setter("vocab", value="aab"), r"vocab has repeated entries"),
    (setter("configs", "model", "hidden", value=100_000), r"the model needs about .* GB .* but this machine has .* available; its sizes come from .*config.json: load it on a machine with more memory"),
]


@pytest.mark.parametrize("edit, message", LOAD_CASES)
def test_each_damaged_field_gives_one_line(lm_run, tmp_path, capsys, edit, message):
    run = damaged(lm_run, tmp_path, edit)
    assert main(["sample", "--checkpoint", str(run), "--length", "3"]) == 2
    one_line_error(capsys, message)


RESUME_CASES = [
    (setter("step", value="abc"), r"'step' must be an integer >= 0, got 'abc'"),
    (setter("trainer", delete=True), r"config.json has no 'trainer' object"),
    (setter("trainer", "best", value="low"), r"trainer.best is 'low'"),
    (setter("trainer", "optimizer", value={"param_groups": 3}), r"trainer.optimizer lacks its param_groups"),
    (setter("configs", "train", value=[]), r"configs.train: expected a JSON object"),
    (setter("configs", "train", "batch_size", value=0), r"configs.train: batch_size must be an integer >= 1, got 0"),
    (setter("configs", "train", "optimizer", value="magic"), r"optimizer must be one of: .*got 'magic'"),
]


@pytest.mark.parametrize("edit, message", RESUME_CASES)
def test_each_damaged_training_state_gives_one_line_on_resume(lm_run, tmp_path, capsys, edit, message):
    run = damaged(lm_run, tmp_path, edit)
    assert main(["train", "--out", str(run), "--resume", "--steps", "4"]) == 2
    one_line_error(capsys, message)


def test_weights_with_nan_or_inf_are_refused_at_load(lm_run, tmp_path, capsys):
    def poison(w):
        name = sorted(w)[0]
        w[name] = w[name].clone()
        w[name].view(-1)[0] = math.inf
    run = damaged(lm_run, tmp_path, weights=poison)
    assert main(["eval", "--checkpoint", str(run)]) == 2
    one_line_error(capsys, r"corrupt checkpoint .*: weights .* hold NaN or infinite values")


@pytest.fixture
def opened(monkeypatch):
    """Every path ``open``ed (builtins and io) from now on."""
    paths, real = [], builtins.open

    def spy(file, *args, **kwargs):
        paths.append(str(file))
        return real(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy)
    monkeypatch.setattr(io, "open", spy)
    return paths


def test_paths_in_a_checkpoint_are_not_followed(lm_run, forecast_run, tmp_path, capsys, opened):
    decoy = tmp_path / "secret.txt"
    decoy.write_text("root:x:0:0\n")
    run = damaged(lm_run, tmp_path, setter("configs", "data", "corpus", value=str(decoy)))
    opened.clear()
    assert main(["sample", "--checkpoint", str(run), "--length", "3", "--seed", "0"]) == 0
    assert main(["eval", "--checkpoint", str(run), "--corpus", str(lm_run.parent / "corpus.txt")]) == 0

    fc, csv = forecast_run
    fc_copy = tmp_path / "fc"
    shutil.copytree(fc, fc_copy)
    for name in ("checkpoint", "best"):
        meta = json.loads((fc_copy / name / "config.json").read_text())
        meta["configs"]["data"]["data"] = str(decoy)
        (fc_copy / name / "config.json").write_text(json.dumps(meta))
    assert main(["forecast", "eval", "--checkpoint", str(fc_copy), "--data", str(csv)]) == 0
    assert str(decoy) not in opened and not any("secret" in p for p in opened), opened
    capsys.readouterr()
    # without --data (--corpus), the path named in the checkpoint is said before it is read
    assert main(["eval", "--checkpoint", str(run)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"--corpus not given: reading {decoy}, the corpus named in the checkpoint", err
    assert main(["forecast", "eval", "--checkpoint", str(fc_copy)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"--data not given: reading {decoy}, the training file named in the checkpoint", err
    assert err[1].startswith("error: ") and len(err) == 2


def test_a_strategy_that_does_not_exist_is_refused(forecast_run, tmp_path, capsys):
    fc, _ = forecast_run
    copy = tmp_path / "fc"
    shutil.copytree(fc, copy)
    for name in ("checkpoint", "best"):
        meta = json.loads((copy / name / "config.json").read_text())
        meta["configs"]["data"]["strategy"] = "magic"
        (copy / name / "config.json").write_text(json.dumps(meta))
    assert main(["forecast", "predict", "--checkpoint", str(copy)]) == 2
    one_line_error(capsys, r"configs.data: strategy must be one of: direct, recursive, got 'magic'")


def test_a_forecast_past_the_year_9999_fails_at_once(forecast_run, capsys):
    fc, csv = forecast_run
    assert main(["forecast", "predict", "--checkpoint", str(fc), "--data", str(csv), "--steps", "100000"]) == 2
    one_line_error(capsys, r"--steps 100000 reaches past the year 9999 from 2009-12-01; ask for fewer steps")


def test_ragged_series_rows_and_long_fields(tmp_path):
    from rnnkit.data.series import read_series
    from rnnkit.data.text import read_labelled

    ragged = tmp_path / "ragged.csv"
    ragged.write_text("Month,Sales\n2000-01,1\n2000-02,2,7\n")
    with pytest.raises(RnnkitError, match=r"ragged.csv, line 3: 3 column\(s\); expected 2"):
        read_series(ragged)
    long = tmp_path / "long.tsv"
    long.write_text("sentence\tlabel\n" + "word " * 200_000 + "\t1\nshort\t0\n")  # a 1 MB field
    texts, labels = read_labelled(long)
    assert len(texts[0]) > 900_000 and labels == ["1", "0"]


@pytest.mark.parametrize("argv", [["classify", "predict"], ["translate", "translate"]])
def test_binary_stdin_is_refused(argv, monkeypatch, capsys, tmp_path):
    class Stdin:
        buffer = io.BytesIO(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

    monkeypatch.setattr(sys, "stdin", Stdin())
    assert main([*argv, "--checkpoint", str(tmp_path / "nowhere")]) == 2
    one_line_error(capsys, r"standard input looks binary \(it contains NUL bytes\)")
    Stdin.buffer = io.BytesIO(b"caf\xe9\n")
    assert main([*argv, "--checkpoint", str(tmp_path / "nowhere")]) == 2
    one_line_error(capsys, r"standard input is not UTF-8 text \(byte 3\)")


def test_too_big_a_model_is_refused_before_it_is_allocated(periodic_corpus, tmp_path, capsys):
    assert main(["train", "--corpus", str(periodic_corpus), "--out", str(tmp_path / "r"), "--hidden", "100000",
                 "--steps", "1"]) == 2
    one_line_error(capsys, r"the model needs about \d+\.\d GB \(120,\d{3},\d{3},\d{3} parameters, their gradients, the "
                           r"optimiser state and the activations\) but this machine has .* available; lower --hidden")


def test_divergence_far_above_the_initial_loss_and_nan(periodic_corpus, tmp_path, monkeypatch, capsys):
    import rnnkit.tasks.lm.data as lm_data
    from rnnkit.train.checkpoint import load_checkpoint
    from rnnkit.train.trainer import divergence_limit

    assert divergence_limit(4.5) == 45.0 and divergence_limit(0.05) == pytest.approx(10.05)
    for bad, shown in ((240_000.0, r"240000 at step 4, above \d+\.?\d* \(10 times the initial loss"),
                       (math.nan, r"nan at step 4;")):
        losses = iter([2.0, bad])
        monkeypatch.setattr(lm_data, "window_loss", lambda model, windows: next(losses))
        out = tmp_path / f"run-{bad}"
        assert main(["train", "--corpus", str(periodic_corpus), "--out", str(out), "--steps", "8", "--eval-every", "2",
                     "--checkpoint-every", "2", *TINY]) == 2
        one_line_error(capsys, rf"the validation loss became {shown}.*the last good checkpoint \(step 2\)")
        for name in ("checkpoint", "best"):
            meta = load_checkpoint(out / name)[1]
            assert meta["step"] == 2 and meta["metrics"]["val_loss"] == 2.0
        unlock_run(out)


def test_the_parameter_count_on_the_meta_device_is_exact():
    """The memory estimate counts parameters without allocating them: the count equals the real one for
    every cell and initialisation (the meta device has no values: spectral scaling and MTRNN's tau
    checks must not read any)."""
    from rnnkit.cells import CELLS, INITS
    from rnnkit.models.language_model import CharLM
    from rnnkit.models.language_model_config import LMConfig
    from rnnkit.schema import from_flat
    from rnnkit.train.memory import count_parameters

    for cell in CELLS:
        for init in INITS:
            if init != "default" and cell in ("mingru", "minlstm"):
                continue  # no recurrent weights to initialise: refused with one line
            make = lambda: CharLM(20, from_flat(LMConfig, dict(cell=cell, init=init, hidden=6, embedding=3)))
            assert count_parameters(make) == sum(p.numel() for p in make().parameters()), (cell, init)
