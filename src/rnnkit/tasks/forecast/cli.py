"""``rnnkit forecast predict``: the forecast task's verb beyond train and eval (torch is imported inside
the handler)."""

from __future__ import annotations

import sys


def data_path(args, d) -> str:
    """``--data``, else the training file named in the checkpoint, said before it is read (a
    checkpoint is data from elsewhere: its paths are not followed silently)."""
    if args.data:
        return args.data
    print(f"--data not given: reading {d.data}, the training file named in the checkpoint", file=sys.stderr)
    return d.data


def cmd_predict(args) -> int:
    from pathlib import Path

    import numpy as np

    from rnnkit.data.series import read_series
    from rnnkit.errors import RnnkitError
    from rnnkit.tasks.forecast.plots import plot_future
    from rnnkit.tasks.forecast.scores import forecast
    from rnnkit.tasks.runner import load

    run = load(args.checkpoint, args.device, "forecast")
    d, scaler = run.configs["data"], run.vocabs["scaler"]
    series = read_series(data_path(args, d), d.date_column, d.value_column)
    steps = args.steps or d.horizon
    if len(series) < d.window:
        raise RnnkitError(f"the series has {len(series)} values, shorter than the model's window of {d.window}")
    try:  # the dates first: a forecast past year 9999 fails at once, not after the model has run
        dates = series.future_dates(steps) or [f"+{i + 1}" for i in range(steps)]
    except (OverflowError, ValueError):
        raise RnnkitError(f"--steps {steps} reaches past the year 9999 from {series.dates[-1]:%Y-%m-%d}; "
                          "ask for fewer steps") from None
    z = scaler.transform(series.values)
    values = scaler.inverse(forecast(run.model, z, np.array([len(z)]), d.window, steps, d.strategy, d.residual)[0])
    for date, value in zip(dates, values):
        print(f"{date},{value:.6g}")
    if args.plot:
        plot_future(series, dates, values, args.plot, f"{Path(args.data or d.data).name}: {steps}-step forecast")
    return 0


def register(sub) -> None:
    from rnnkit.cli_args import number, output_file
    from rnnkit.tasks.cli import add_checkpoint_flags

    p = sub.add_parser("predict", help="forecast the values after the end of a series (date,value lines)")
    add_checkpoint_flags(p, json_help="")
    p.add_argument("--data", default=None, help="CSV whose continuation to forecast (default: the training file)")
    p.add_argument("--steps", type=number(int, low=1, high=100_000, allow_zero=True), default=0,
                   help="steps to forecast (default: the model's horizon)")
    p.add_argument("--plot", type=output_file, default=None, help="write a PNG of the history and the forecast here")
    p.set_defaults(func=cmd_predict)
