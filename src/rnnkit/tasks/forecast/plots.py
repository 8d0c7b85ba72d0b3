"""PNG plots of a forecast: the hold-out forecasts over the history, and a forecast after its end."""

from __future__ import annotations

from rnnkit.train.files import save_figure


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
