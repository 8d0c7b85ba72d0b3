"""Forecasting: reading series, the chronological split, scaling, windows, the naive baselines and
the metrics, and a forecaster that beats the naive forecast on a noisy sine."""

import math

import numpy as np
import pytest
import torch

from conftest import SHARED_DATA, fit_batches
from rnnkit.data.series import Scaler, make_windows, read_series, split_series
from rnnkit.errors import RnnkitError
from rnnkit.models.forecaster import build_forecaster
from rnnkit.models.forecaster_config import ForecasterConfig
from rnnkit.schema import from_flat
from rnnkit.tasks.batches import ShuffledBatches
from rnnkit.tasks.forecast.config import ForecastDataConfig
from rnnkit.tasks.forecast.data import Setup, Windows
from rnnkit.tasks.forecast.scores import errors, forecast, hold_out_scores, naive, seasonal_naive


pytestmark = pytest.mark.usefixtures("one_thread")


def write_csv(path, values, start_year=2000, monthly=True):
    rows = [f'"{start_year + i // 12}-{i % 12 + 1:02d}",{v}' if monthly else f'"2000-01-01+{i}",{v}'
            for i, v in enumerate(values)]
    path.write_text('"Month","Value"\r\n' + "\r\n".join(rows))  # the shared files' own style: CRLF, no final newline
    return path


def test_read_series_quoted_crlf_and_future_dates(tmp_path):
    s = read_series(write_csv(tmp_path / "s.csv", [1, 2.5, 3]))
    assert s.name == "Value" and s.values.tolist() == [1, 2.5, 3] and s.monthly and s.default_season() == 12
    assert s.future_dates(3) == ["2000-04", "2000-05", "2000-06"]
    daily = tmp_path / "d.csv"
    daily.write_text("Date,Temp,Other\n1981-12-30,1.5,x\n1981-12-31,2,y\n")
    d = read_series(daily)
    assert d.default_season() == 365 and d.future_dates(2) == ["1982-01-01", "1982-01-02"]
    assert read_series(daily, value_column="Temp").values.tolist() == [1.5, 2.0]


def test_split_and_scaler():
    split = split_series(100, window=10, horizon=5, test_fraction=0.2, val_fraction=0.1)
    assert (split.val_start, split.test_start) == (72, 80)
    x = np.array([1.0, 10.0, 100.0])
    for kind in ("standard", "minmax", "none"):
        for log in (False, True):
            s = Scaler.fit(x, kind, log)
            assert np.allclose(s.inverse(s.transform(x)), x)
    assert np.allclose(Scaler.fit(x, "minmax", True).transform(x), [0, 0.5, 1])
    with pytest.raises(RnnkitError, match="shorter than the window of 30"):
        split_series(20, 30, 1, 0.2, 0.1)
    with pytest.raises(RnnkitError, match="too short for a window of 15 and a horizon of 5"):
        split_series(30, 15, 5, 0.2, 0.1)


def test_windows_and_targets():
    z = np.arange(20.0)
    x, y = make_windows(z, np.array([5, 9]), window=3, outputs=2)
    assert x.tolist() == [[2, 3, 4], [6, 7, 8]] and y.tolist() == [[5, 6], [9, 10]]
    _, r = make_windows(z, np.array([5]), window=3, outputs=2, residual=True)
    assert r.tolist() == [[1, 2]]  # changes from the last value read
    x2, y2 = make_windows(z, np.array([5, 9]), window=3, outputs=2, many_to_many=True)
    assert y2.shape == (2, 3, 2) and y2[:, -1].tolist() == y.tolist() and y2[0, 0].tolist() == [3, 4]


def test_naive_baselines_and_metrics():
    v = np.arange(30.0)
    origins = np.array([24, 25])
    assert naive(v, origins, 3).tolist() == [[23, 23, 23], [24, 24, 24]]
    # m = 4: step h reads the value one season before it, from data before the origin
    assert seasonal_naive(v, origins, 6, 4).tolist() == [[20, 21, 22, 23, 20, 21], [21, 22, 23, 24, 21, 22]]
    e = errors(np.array([[1.0, 2.0]]), np.array([[0.0, 4.0]]), scale=0.5)
    assert (e["mae"], e["mase"]) == (1.5, 3.0) and math.isclose(e["rmse"], math.sqrt(2.5))
    assert e["mae_by_step"] == [1.0, 2.0]


def test_seasonal_naive_is_exact_on_a_periodic_series(tmp_path):
    values = [10 + (i % 12) for i in range(120)]
    s = Setup(read_series(write_csv(tmp_path / "p.csv", values)), ForecastDataConfig(data="p", window=12, horizon=6))
    scores, _ = hold_out_scores(None, s)
    assert scores["seasonal naive (m=12)"]["mae"] == 0 and scores["naive"]["mae"] > 1
    assert math.isclose(scores["naive"]["mase"], scores["naive"]["mae"] / (11 * 2 / 12), rel_tol=0.05)


def noisy_sine(n=400, period=20, noise=0.1, seed=0):
    r = np.random.default_rng(seed)
    return np.sin(2 * np.pi * np.arange(n) / period) + noise * r.standard_normal(n)


def train_quick(model, s: Setup, steps, lr=0.01):
    many = getattr(model, "config", None) is not None and model.config.mode == "many-to-many"
    x, y = s.windows(s.d.window, s.split.val_start - s.outputs, many)
    return fit_batches(model, ShuffledBatches(Windows(x, y), 32, seed=0), steps, lr)


@pytest.mark.parametrize("model,mode,strategy", [("rnn", "many-to-one", "recursive"), ("rnn", "many-to-many", "direct"),
                                                 ("mlp", "many-to-one", "direct"), ("conv", "many-to-one", "recursive")])
@pytest.mark.slow
def test_forecasters_beat_naive_on_a_noisy_sine(tmp_path, model, mode, strategy):
    torch.manual_seed(0)
    d = ForecastDataConfig(data="s", window=20, horizon=5, strategy=strategy, season=7)  # a wrong season on purpose
    s = Setup(read_series(write_csv(tmp_path / "s.csv", noisy_sine())), d)
    m = build_forecaster(20, s.outputs, from_flat(ForecasterConfig, dict(model=model, mode=mode, hidden=32, cell="gru")))
    scores, arrays = hold_out_scores(train_quick(m, s, 300), s)
    assert arrays["model"].shape == arrays["truth"].shape == (len(s.test_origins()), 5)
    assert scores["model"]["mae"] < 0.5 * scores["naive"]["mae"], scores
    assert scores["model"]["mae"] < 0.2  # the noise alone gives ~0.08


def test_recursive_forecast_feeds_itself_back():
    class Echo(torch.nn.Module):  # forecasts the value 3 steps back: a period-3 continuation
        def __init__(self):
            super().__init__()
            self.dummy = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x, targets=None, state=None):
            return x[:, -3:-2], None, None

    z = np.array([1.0, 2.0, 3.0, 1.0, 2.0, 3.0])
    assert forecast(Echo(), z, np.array([6]), 6, 7, "recursive", False).tolist() == [[1, 2, 3, 1, 2, 3, 1]]
    assert forecast(Echo(), z, np.array([6]), 6, 1, "direct", False).tolist() == [[1]]
    with pytest.raises(RnnkitError, match="forecasts 1 steps; ask for at most that many"):
        forecast(Echo(), z, np.array([6]), 6, 2, "direct", False)


@pytest.mark.skipif(not (SHARED_DATA / "timeseries").exists(), reason="needs ../shared/data/timeseries")
def test_shared_series_read():
    sizes = {"airline-passengers": (144, 12, "Passengers"), "monthly-sunspots": (2820, 12, "Sunspots"),
             "daily-min-temperatures": (3650, 365, "Temp")}
    for name, (n, season, column) in sizes.items():
        s = read_series(SHARED_DATA / "timeseries" / f"{name}.csv")
        assert (len(s), s.default_season(), s.name) == (n, season, column)
