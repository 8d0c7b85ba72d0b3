"""``rnnkit forecast`` end to end on a small synthetic series (train, eval, predict with plots) and a
one-line error for each bad input: non-numeric values, missing or unparsable dates, a series shorter
than the window, an empty file."""

import json
import re

import numpy as np
import pytest

from conftest import one_line_error
from rnnkit.cli import main

FAST = ["--threads", "1", "--hidden", "16", "--eval-every", "20", "--log-every", "20"]


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def seasonal_csv(tmp_path):
    """Ten years of a monthly series with a trend, a yearly season and a little noise."""
    r = np.random.default_rng(0)
    t = np.arange(120)
    values = 100 + t + 20 * np.sin(2 * np.pi * t / 12) + r.normal(0, 1, 120)
    path = tmp_path / "monthly.csv"
    path.write_text("Month,Sales\n" + "".join(f"{2000 + i // 12}-{i % 12 + 1:02d},{v:.2f}\n" for i, v in enumerate(values)))
    return path


@pytest.mark.slow
def test_train_eval_predict(tmp_path, seasonal_csv, capsys):
    out = tmp_path / "run"
    assert main(["forecast", "train", "--data", str(seasonal_csv), "--window", "12", "--horizon", "3",
                 "--strategy", "direct", "--steps", "300", "--lr", "0.01", "--out", str(out), *FAST]) == 0
    text = capsys.readouterr().out
    assert re.search(r"test from value 96 \(2008-01-01\), 22 forecast origins", text)
    results = json.loads((out / "results.json").read_text())
    scores = results["scores"]
    assert set(scores) == {"model", "naive", "seasonal naive (m=12)"} and results["horizon"] == 3
    assert scores["model"]["mae"] < scores["naive"]["mae"]
    for png in ("forecast.png", "loss.png"):
        assert (out / png).stat().st_size > 1000
    meta = json.loads((out / "best" / "config.json").read_text())
    assert meta["task"] == "forecast" and meta["scaler"]["kind"] == "standard"

    assert main(["forecast", "eval", "--checkpoint", str(out), "--plot", str(tmp_path / "e.png")]) == 0
    assert re.search(r"model\s+" + re.escape(f"{scores['model']['mae']:10.4g}"), capsys.readouterr().out)
    assert (tmp_path / "e.png").exists()

    assert main(["forecast", "predict", "--checkpoint", str(out), "--plot", str(tmp_path / "p.png")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [l.split(",")[0] for l in lines] == ["2010-01", "2010-02", "2010-03"]
    assert all(150 < float(l.split(",")[1]) < 260 for l in lines)
    assert (tmp_path / "p.png").stat().st_size > 1000
    assert main(["forecast", "predict", "--checkpoint", str(out), "--steps", "4"]) == 2  # direct: at most 3
    one_line_error(capsys, "forecasts 3 steps; ask for at most that many")


def test_recursive_rnn_many_to_many_and_baselines_run(tmp_path, seasonal_csv, capsys):
    for name, extra in (("m2m", ["--mode", "many-to-many", "--cell", "gru"]), ("mlp", ["--model", "mlp", "--log"]),
                        ("conv", ["--model", "conv", "--kernel", "5", "--scale", "minmax"])):
        assert main(["forecast", "train", "--data", str(seasonal_csv), "--window", "12", "--horizon", "6",
                     "--steps", "40", "--out", str(tmp_path / name), *FAST, *extra]) == 0, name
    capsys.readouterr()
    assert main(["forecast", "predict", "--checkpoint", str(tmp_path / "m2m"), "--steps", "8"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 8  # recursive: any number of steps


def test_bad_series_one_line_errors(tmp_path, seasonal_csv, capsys):
    def csv(name, text):
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    good = "".join(f"2000-{m:02d}-01,{m}\n" for m in range(1, 13))
    cases = [
        (csv("text.csv", "Month,Sales\n2000-01,12\n2000-02,lots\n"),
         r"text.csv, line 3: value 'lots' in column 'Sales' is not a number"),
        (csv("nan.csv", "Month,Sales\n2000-01,nan\n"), r"line 2: value 'nan' in column 'Sales' is not a number"),
        (csv("novalue.csv", "Month,Sales\n2000-01,\n"), r"line 2: missing value in column 'Sales'"),
        (csv("nodate.csv", "Month,Sales\n2000-01,1\n,2\n"), r"nodate.csv, line 3: missing date in column 'Month'"),
        (csv("baddate.csv", "Month,Sales\n2000-01,1\n2000-13,2\n"),
         r"line 3: cannot parse date '2000-13' in column 'Month'; expected e.g. 1949-01"),
        (csv("order.csv", "Month,Sales\n2000-02,1\n2000-01,2\n"), r"line 3: date '2000-01' is not after the previous one"),
        (csv("short.csv", "Date,Value\n" + good), r"the series has 12 values, shorter than the window of 24"),
        (csv("empty.csv", ""), r"empty.csv is empty: expected a header line \(date,value\)"),
        (csv("header.csv", "Month,Sales\n"), r"header.csv has a header but no rows"),
        (str(tmp_path / "missing.csv"), r"file not found"),
    ]
    for path, expected in cases:
        assert main(["forecast", "train", "--data", path, "--window", "24", "--out", str(tmp_path / "r"), *FAST]) == 2, path
        one_line_error(capsys, expected)
    others = [
        (["--data", str(seasonal_csv), "--strategy", "both"], r"--strategy must be one of: direct, recursive, got 'both'"),
        (["--data", str(seasonal_csv), "--model", "arima"], r"--model must be one of: conv, mlp, rnn, got 'arima'"),
        (["--data", str(seasonal_csv), "--model", "mlp", "--mode", "many-to-many"], r"--mode many-to-many needs --model rnn"),
        (["--data", str(seasonal_csv), "--value-column", "Price"], r"no value column 'Price'; its columns are: Month, Sales"),
        (["--data", str(seasonal_csv), "--window", "80", "--horizon", "12"], r"too short for a window of 80 and a horizon of 12"),
        (["--data", str(seasonal_csv), "--log", "--scale", "robust"], r"--scale must be one of: minmax, none, standard, got 'robust'"),
        ([], r"--data FILE is required"),
    ]
    for argv, expected in others:
        assert main(["forecast", "train", *argv, "--out", str(tmp_path / "r2"), *FAST]) == 2, argv
        one_line_error(capsys, expected)
    assert main(["forecast", "eval", "--checkpoint", str(tmp_path / "nowhere")]) == 2
    one_line_error(capsys, "checkpoint not found")
