"""The forecasting task, declared: windows of a scaled series -> a forecaster (RNN, or the MLP / 1-D conv
baselines) trained with early stopping on the validation part, then scored on the chronological
hold-out against the naive and seasonal-naive forecasts with MAE, RMSE and MASE (``scores.py``).

A run folder holds ``results.json`` (the hold-out scores of the best checkpoint) and ``forecast.png``
beside the checkpoints; a checkpoint's ``config.json`` holds the configs and the fitted scaler.
"""

from __future__ import annotations

from rnnkit.errors import RnnkitError
from rnnkit.models.forecaster_config import ForecasterConfig
from rnnkit.tasks.forecast.config import ForecastDataConfig, ForecastTrainFlags
from rnnkit.tasks.spec import Prepared, Task


def check(configs) -> None:
    d, m = configs["data"], configs["model"]
    if d.data is None:
        raise RnnkitError("--data FILE is required: a CSV with a header, a date column and a value column")
    if m.model != "rnn" and m.mode != "many-to-one":
        raise RnnkitError(f"--mode {m.mode} needs --model rnn; the {m.model} baseline forecasts once per window")
    shrink = m.rnn.layers * (m.kernel - 1)  # each convolution shortens the window by kernel - 1
    if m.model == "conv" and d.window - shrink < 1:
        raise RnnkitError(f"--window {d.window} is too short for {m.rnn.layers} convolution(s) of --kernel {m.kernel}; "
                          f"use a window of at least {shrink + 1}")


def vocabularies(meta: dict, where) -> dict:
    from rnnkit.data.series import SCALERS, Scaler
    from rnnkit.schema import check_config

    scaler = check_config(Scaler, meta.get("scaler"), f"corrupt checkpoint {where}: scaler")
    if scaler.kind not in SCALERS or scaler.scale == 0:
        raise RnnkitError(f"corrupt checkpoint {where}: scaler {scaler.kind!r} with scale {scaler.scale} cannot be used")
    return {"scaler": scaler}


def prepare(configs, saved, log) -> Prepared:
    import json
    from dataclasses import asdict
    from pathlib import Path

    import torch

    from rnnkit.data.series import read_series
    from rnnkit.tasks.batches import ShuffledBatches
    from rnnkit.tasks.forecast.data import Setup, Windows
    from rnnkit.tasks.forecast.plots import plot_hold_out
    from rnnkit.tasks.forecast.scores import format_scores, hold_out_scores, jsonable
    from rnnkit.train.files import write_text
    from rnnkit.train.memory import ACTIVATION_FLOATS_PER_UNIT

    d, m, flags = configs["data"], configs["model"], configs["train"]
    s = Setup(read_series(d.data, d.date_column, d.value_column), d)  # a resumed run fits the same scaler again
    many = m.mode == "many-to-many"
    x, y = s.windows(d.window, s.split.val_start - s.outputs, many)
    vx, vy = s.windows(s.split.val_start, s.split.test_start - s.outputs, many)
    batches = ShuffledBatches(Windows(x, y), flags.batch_size, flags.seed)
    val_x, val_y = torch.tensor(vx, dtype=torch.float32), torch.tensor(vy, dtype=torch.float32)

    def evaluate(model):
        device = next(model.parameters()).device
        _, loss, _ = model(val_x.to(device), val_y.to(device))
        return {"val_loss": float(loss)}

    def report(model, summary):
        scores, arrays = hold_out_scores(model, s)
        summary.update(scores=scores)
        run = Path(summary["run_dir"])
        write_text(run / "results.json", json.dumps({"horizon": d.horizon, "scores": jsonable(scores)}, indent=2))
        plot_hold_out(s.series, arrays, run / "forecast.png", f"{Path(d.data).name}: {m.model} on the hold-out")
        return (f"done ({summary['stopped']}) at step {summary['step']} after {summary['elapsed']:.0f} s\n"
                f"{format_scores(scores, d.horizon)}\nwrote {run}/results.json and {run}/forecast.png")

    return Prepared(
        batches=batches, steps_per_epoch=batches.steps_per_epoch, vocabs={"scaler": s.scaler},
        meta={"scaler": asdict(s.scaler)}, evaluate=evaluate, report=report,
        lines=[f"series {s.series.name!r}: {len(s.series)} values; {len(x)} training and {len(vx)} validation "
               f"windows, test from value {s.split.test_start} ({s.series.dates[s.split.test_start]:%Y-%m-%d}), "
               f"{len(s.test_origins())} forecast origins"],
        activations=ACTIVATION_FLOATS_PER_UNIT * flags.batch_size * d.window * m.rnn.hidden * m.rnn.layers)


def build(configs, vocabs):
    from rnnkit.models.forecaster import build_forecaster

    d = configs["data"]
    return build_forecaster(d.window, d.horizon if d.strategy == "direct" else 1, configs["model"])


def describe(model, configs, device) -> str:
    from rnnkit.tasks.report import model_size

    return f"model: {configs['model'].model}, {model_size(model):,} parameters, device {device}"


def eval_arguments(parser) -> None:
    from rnnkit.cli_args import output_file

    parser.add_argument("--data", default=None, help="CSV to score (default: the training file)")
    parser.add_argument("--plot", type=output_file, default=None, help="write a PNG of the hold-out forecasts here")


def evaluate(loaded, args) -> dict:
    """MAE, RMSE and MASE on the hold-out of a series, beside the naive forecasts."""
    from dataclasses import replace
    from pathlib import Path

    from rnnkit.data.series import read_series
    from rnnkit.tasks.forecast.cli import data_path
    from rnnkit.tasks.forecast.data import Setup
    from rnnkit.tasks.forecast.plots import plot_hold_out
    from rnnkit.tasks.forecast.scores import format_scores, hold_out_scores, jsonable

    d = loaded.configs["data"]
    d = replace(d, data=data_path(args, d))
    s = Setup(read_series(d.data, d.date_column, d.value_column), d, loaded.vocabs["scaler"])
    scores, arrays = hold_out_scores(loaded.model, s)
    print(f"{d.data}: {len(s.test_origins())} forecast origins in the last {len(s.series) - s.split.test_start} values")
    print(format_scores(scores, d.horizon))
    if args.plot:
        plot_hold_out(s.series, arrays, args.plot, f"{Path(d.data).name}: hold-out forecasts")
    return {"data": d.data, "horizon": d.horizon, "scores": jsonable(scores)}


TASK = Task(
    name="forecast", help="forecast a univariate time series (RNN or the course's baselines)",
    description="Train a forecaster on windows of a series (chronological split: training, validation for early "
    "stopping, test), then score it on the test part against the naive and seasonal-naive forecasts (MAE, RMSE, "
    "MASE). --model mlp / conv train the course's baselines.",
    configs={"data": ForecastDataConfig, "model": ForecasterConfig, "train": ForecastTrainFlags},
    check=check, prepare=prepare, vocabularies=vocabularies, build=build, describe=describe,
    eval_arguments=eval_arguments, evaluate=evaluate, json_checkpoint=False,
    eval_help="MAE, RMSE and MASE of a trained forecaster on the hold-out of a series",
    verbs="rnnkit.tasks.forecast.cli", what="a forecaster")
