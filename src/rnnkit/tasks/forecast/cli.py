"""``rnnkit forecast train|eval|predict``: univariate forecasting from a CSV of dates and values, with
PNG plots of history and forecast (torch is imported inside the handlers)."""

from __future__ import annotations

import json
from pathlib import Path

from rnnkit.train.files import save_figure, write_text


def _classes():
    from rnnkit.models.configs import ForecasterConfig
    from rnnkit.tasks.configs import ForecastDataConfig, ForecastTrainFlags

    return {"model": ForecasterConfig, "data": ForecastDataConfig, "train": ForecastTrainFlags}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_hold_out(series, arrays: dict, path, title: str) -> None:
    """The history, the test part and the model's 1-step and H-step-ahead forecasts over it."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(series.dates, series.values, color="0.6", lw=1, label="history")
    origins, truth = arrays["origins"], arrays["truth"]
    H = truth.shape[1]
    start = max(0, origins[0] - 4 * len(origins))
    ax.set_xlim(series.dates[start], series.dates[-1])
    for h, color in ((H - 1, "C0"), (0, "C3")) if H > 1 else ((0, "C3"),):
        when = [series.dates[o + h] for o in origins]
        ax.plot(when, arrays["model"][:, h], color=color, lw=1.1, label=f"forecast {h + 1} step(s) ahead")
    ax.axvline(series.dates[origins[0]], color="k", lw=0.8, ls=":", label="start of the hold-out")
    ax.set_title(title)
    ax.set_ylabel(series.name)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


def plot_future(series, dates: list[str], values, path, title: str) -> None:
    """The history and the forecast after its end."""
    from datetime import datetime

    plt = _plt()
    fig, ax = plt.subplots(figsize=(10, 4))
    keep = max(0, len(series) - max(8 * len(values), 200))
    ax.plot(series.dates[keep:], series.values[keep:], color="0.4", lw=1, label="history")
    future = [datetime.strptime(d, series.date_format) for d in dates]
    ax.plot([series.dates[-1], *future], [series.values[-1], *values], color="C3", lw=1.5, marker=".", label="forecast")
    ax.set_title(title)
    ax.set_ylabel(series.name)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


def _jsonable(scores: dict) -> dict:
    return {k: {m: v for m, v in r.items()} for k, r in scores.items()}


def _data_path(args, d) -> str:
    """``--data``, else the training file named in the checkpoint, said before it is read (a
    checkpoint is data from elsewhere: its paths are not followed silently)."""
    import sys

    if args.data:
        return args.data
    print(f"--data not given: reading {d.data}, the training file named in the checkpoint", file=sys.stderr)
    return d.data


def cmd_train(args) -> int:
    from rnnkit.tasks.forecast.task import train_forecaster
    from rnnkit.tasks.supervised import configs_from_args

    c = configs_from_args(args, _classes())
    summary = train_forecaster(c["model"], c["data"], c["train"])
    run_dir = Path(summary["run_dir"])
    write_text(run_dir / "results.json", json.dumps({"horizon": c["data"].horizon, "scores": _jsonable(summary["scores"])}, indent=2))
    s = summary["setup"]
    plot_hold_out(s.series, summary["arrays"], run_dir / "forecast.png",
                  f"{Path(c['data'].data).name}: {c['model'].model} on the hold-out")
    print(f"wrote {run_dir}/results.json, {run_dir}/forecast.png and {run_dir}/loss.png; checkpoints in {run_dir}/best")
    return 0


def cmd_eval(args) -> int:
    from rnnkit.data.series import read_series
    from rnnkit.tasks.forecast.task import Setup, format_scores, hold_out_scores, load_forecaster

    model, d, scaler, _ = load_forecaster(args.checkpoint, args.device)
    d.data = _data_path(args, d)
    s = Setup(read_series(d.data, d.date_column, d.value_column), d, scaler)
    scores, arrays = hold_out_scores(model, s)
    print(f"{d.data}: {len(s.test_origins())} forecast origins in the last {len(s.series) - s.split.test_start} values")
    print(format_scores(scores, d.horizon))
    if args.plot:
        plot_hold_out(s.series, arrays, args.plot, f"{Path(d.data).name}: hold-out forecasts")
    if args.json:
        write_text(args.json, json.dumps({"data": d.data, "horizon": d.horizon, "scores": _jsonable(scores)}, indent=2))
    return 0


def cmd_predict(args) -> int:
    import numpy as np

    from rnnkit.data.series import read_series
    from rnnkit.errors import RnnkitError
    from rnnkit.tasks.forecast.task import forecast, load_forecaster

    model, d, scaler, _ = load_forecaster(args.checkpoint, args.device)
    series = read_series(_data_path(args, d), d.date_column, d.value_column)
    steps = args.steps or d.horizon
    if steps < 1:
        raise RnnkitError(f"--steps must be a positive integer, got {steps}")
    if len(series) < d.window:
        raise RnnkitError(f"the series has {len(series)} values, shorter than the model's window of {d.window}")
    try:  # the dates first: a forecast past year 9999 fails at once, not after the model has run
        dates = series.future_dates(steps) or [f"+{i + 1}" for i in range(steps)]
    except (OverflowError, ValueError):
        raise RnnkitError(f"--steps {steps} reaches past the year 9999 from {series.dates[-1]:%Y-%m-%d}; "
                          "ask for fewer steps") from None
    z = scaler.transform(series.values)
    values = scaler.inverse(forecast(model, z, np.array([len(z)]), d.window, steps, d.strategy, d.residual)[0])
    for date, value in zip(dates, values):
        print(f"{date},{value:.6g}")
    if args.plot:
        plot_future(series, dates, values, args.plot, f"{Path(args.data or d.data).name}: {steps}-step forecast")
    return 0


def register(subparsers) -> None:
    from rnnkit.cli_args import add_config_groups, number, output_file

    fc = subparsers.add_parser("forecast", help="forecast a univariate time series (RNN or the course's baselines)")
    sub = fc.add_subparsers(dest="forecast_command", metavar="action", required=True)
    classes = _classes()

    p = sub.add_parser("train", help="train a forecaster on a CSV of dates and values and score it on the hold-out",
                       description="Train a forecaster on windows of a series (chronological split: training, "
                       "validation for early stopping, test), then score it on the test part against the naive and "
                       "seasonal-naive forecasts (MAE, RMSE, MASE). --model mlp / conv train the course's baselines.")
    add_config_groups(p, classes)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="MAE, RMSE and MASE of a trained forecaster on the hold-out of a series")
    p.add_argument("--checkpoint", required=True, help="run folder or checkpoint folder")
    p.add_argument("--data", default=None, help="CSV to score (default: the training file)")
    p.add_argument("--plot", type=output_file, default=None, help="write a PNG of the hold-out forecasts here")
    p.add_argument("--json", type=output_file, default=None, help="also write the scores to this JSON file")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (default: cpu)")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("predict", help="forecast the values after the end of a series (date,value lines)")
    p.add_argument("--checkpoint", required=True, help="run folder or checkpoint folder")
    p.add_argument("--data", default=None, help="CSV whose continuation to forecast (default: the training file)")
    p.add_argument("--steps", type=number(int, low=1, high=100_000, allow_zero=True), default=0, help="steps to forecast (default: the model's horizon)")
    p.add_argument("--plot", type=output_file, default=None, help="write a PNG of the history and the forecast here")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (default: cpu)")
    p.set_defaults(func=cmd_predict)
