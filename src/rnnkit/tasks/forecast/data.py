"""The forecast task's data: a series split chronologically and scaled as configured (``Setup``), and
its sliding windows as the trainer's examples (``Windows``)."""

from __future__ import annotations

import numpy as np
import torch

from rnnkit.data.series import Scaler, Series, Split, make_windows, origins_between, split_series
from rnnkit.errors import RnnkitError
from rnnkit.tasks.forecast.config import ForecastDataConfig


class Setup:
    """A series prepared as configured: its split, scaler and scaled values ``z``."""

    def __init__(self, series: Series, d: ForecastDataConfig, scaler: Scaler | None = None):
        self.series, self.d = series, d
        self.split: Split = split_series(len(series), d.window, d.horizon, d.test_fraction, d.val_fraction)
        self.scaler = scaler or Scaler.fit(series.values[: self.split.val_start], d.scale, d.log)
        self.z = self.scaler.transform(series.values)  # (N,)
        self.outputs = d.horizon if d.strategy == "direct" else 1
        self.season = d.season or series.default_season()
        if self.split.test_start - self.season < 0:
            raise RnnkitError(f"--season {self.season} is longer than the data before the test part "
                              f"({self.split.test_start} values); use a smaller --season")

    def windows(self, first: int, last: int, many_to_many: bool):
        origins = origins_between(first, last, self.d.window)
        return make_windows(self.z, origins, self.d.window, self.outputs, many_to_many, self.d.residual)

    def test_origins(self) -> np.ndarray:
        return origins_between(self.split.test_start, len(self.z) - self.d.horizon, self.d.window)


class Windows:
    """Windows and their targets as examples: ``batch(indices) -> (inputs (b, W), targets (b, K) or (b, W, K))``."""

    def __init__(self, x: np.ndarray, y: np.ndarray):
        self.x, self.y = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)

    def __len__(self) -> int:
        return len(self.x)

    def batch(self, indices, generator=None):
        i = torch.as_tensor(indices, dtype=torch.long)
        return self.x[i], self.y[i]
