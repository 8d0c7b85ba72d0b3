"""Univariate time series: a CSV of dates and values read with clear errors, the chronological split,
scaling fitted on the training part only, and the sliding windows a forecaster learns from.

    values  z_0 ........ z_{v-1} | z_v ...... z_{t-1} | z_t ........ z_{N-1}
            training part        | validation part    | test part (hold-out)
    window at origin o:  inputs z_{o-W} .. z_{o-1}  ->  targets z_o .. z_{o+K-1}
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from rnnkit.errors import RnnkitError, unknown_choice

#: The largest magnitude a series value may have: its square stays finite in float64.
MAX_VALUE = 1e150

DATE_FORMATS = ("%Y-%m-%d", "%Y-%m", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y/%m/%d", "%Y")
SCALERS = ("standard", "minmax", "none")


@dataclass
class Series:
    dates: list[datetime]
    values: np.ndarray  # (N,) float64
    name: str
    date_format: str

    def __len__(self) -> int:
        return len(self.values)

    @property
    def monthly(self) -> bool:
        return all(d.day == 1 for d in self.dates) and len({_months(a, b) for a, b in zip(self.dates, self.dates[1:])}) <= 1

    def future_dates(self, n: int) -> list[str]:
        """The ``n`` dates after the last one, at the series' own step (months, or the last gap)."""
        last = self.dates[-1]
        if self.monthly and len(self.dates) > 1:
            k = _months(self.dates[-2], last)
            dates = [_add_months(last, k * (i + 1)) for i in range(n)]
        else:
            gap = last - self.dates[-2] if len(self.dates) > 1 else None
            dates = [last + gap * (i + 1) for i in range(n)] if gap else []
        return [d.strftime(self.date_format) for d in dates]

    def default_season(self) -> int:
        """12 for monthly data, 365 for daily data (a yearly cycle), else 1 (no season)."""
        if len(self.dates) < 2:
            return 1
        if self.monthly:
            return 12 // max(1, _months(self.dates[0], self.dates[1]))
        return 365 if (self.dates[1] - self.dates[0]).days == 1 else 1


def _months(a: datetime, b: datetime) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


def _add_months(d: datetime, k: int) -> datetime:
    m = d.month - 1 + k
    return d.replace(year=d.year + m // 12, month=m % 12 + 1)


def _parse_date(text: str) -> tuple[datetime, str] | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt), fmt
        except ValueError:
            pass
    return None


def _pick(header: list[str], wanted: str | None, default: int, path, what: str) -> int:
    if wanted is None:
        return default
    if wanted in header:
        return header.index(wanted)
    if wanted.isdigit() and int(wanted) < len(header):
        return int(wanted)
    raise RnnkitError(f"{path} has no {what} column {wanted!r}; its columns are: {', '.join(header)}")


def read_series(path, date_column: str | None = None, value_column: str | None = None) -> Series:
    """A series from a CSV with a header: the date column (default: the first) and the value column
    (default: the second). Dates must parse (e.g. 1949-01 or 1981-01-01) and increase; values must
    be finite numbers."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise RnnkitError(f"file not found: {path}") from None
    except (IsADirectoryError, UnicodeDecodeError) as e:
        raise RnnkitError(f"cannot read {path} as UTF-8 text ({e.__class__.__name__})") from None
    if not any(l.strip() for l in lines):
        raise RnnkitError(f"{path} is empty: expected a header line (date,value) and one row per time step")
    csv.field_size_limit(2**31 - 1)  # a long field is data, not an error
    reader = csv.reader(lines)
    header = [h.strip() for h in next(reader)]
    if len(header) < 2:
        raise RnnkitError(f"{path}: the header {header} has one column; expected a date column and a value column")
    d = _pick(header, date_column, 0, path, "date")
    v = _pick(header, value_column, 1 if d != 1 else 0, path, "value")
    dates, values, fmt = [], [], None
    for line_no, row in enumerate(reader, start=2):
        if not row or not "".join(row).strip():
            continue
        if len(row) != len(header):  # a ragged row is an error, not silently read
            raise RnnkitError(f"{path}, line {line_no}: {len(row)} column(s); expected {len(header)} ({', '.join(header)})")
        text, cell = row[d].strip(), row[v].strip()
        if not text:
            raise RnnkitError(f"{path}, line {line_no}: missing date in column {header[d]!r}")
        parsed = _parse_date(text)
        if parsed is None:
            raise RnnkitError(f"{path}, line {line_no}: cannot parse date {text!r} in column {header[d]!r}; "
                              "expected e.g. 1949-01, 1981-01-01 or 1981-01-01 12:00:00")
        if dates and parsed[0] <= dates[-1]:
            raise RnnkitError(f"{path}, line {line_no}: date {text!r} is not after the previous one; rows must be "
                              "in chronological order, one per date")
        try:
            value = float(cell)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            what = f"missing value in column {header[v]!r}" if not cell else \
                f"value {cell!r} in column {header[v]!r} is not a number"
            raise RnnkitError(f"{path}, line {line_no}: {what}; each row needs a finite number such as 112 or 20.7")
        if abs(value) > MAX_VALUE:  # its square (a variance, a squared error) would overflow float64
            raise RnnkitError(f"{path}, line {line_no}: value {cell!r} in column {header[v]!r} is too large to scale; "
                              f"values must lie within ±{MAX_VALUE:g} (rescale the column, e.g. to thousands)")
        dates.append(parsed[0])
        values.append(value)
        fmt = fmt or parsed[1]
    if not values:
        raise RnnkitError(f"{path} has a header but no rows")
    return Series(dates, np.asarray(values, dtype=np.float64), header[v], fmt)


@dataclass
class Scaler:
    """``z = (f(x) - shift) / scale`` with ``f = log`` or identity; fitted on the training part only."""

    kind: str = "standard"
    log: bool = False
    shift: float = 0.0
    scale: float = 1.0

    @classmethod
    def fit(cls, x: np.ndarray, kind: str, log: bool) -> "Scaler":
        if kind not in SCALERS:
            raise unknown_choice("scaling", kind, SCALERS)
        if log and x.min() <= 0:
            raise RnnkitError(f"--log needs positive values, but the series goes down to {x.min():g}")
        f = np.log(x) if log else x
        if kind == "standard":
            shift, scale = float(f.mean()), float(f.std())
        elif kind == "minmax":
            shift, scale = float(f.min()), float(f.max() - f.min())
        else:
            shift, scale = 0.0, 1.0
        return cls(kind, log, shift, scale if scale > 0 else 1.0)

    def transform(self, x: np.ndarray) -> np.ndarray:
        return ((np.log(x) if self.log else x) - self.shift) / self.scale

    def inverse(self, z: np.ndarray) -> np.ndarray:
        f = z * self.scale + self.shift
        return np.exp(f) if self.log else f


@dataclass
class Split:
    """Where the validation and test parts start; the training part is ``[0, val_start)``."""

    val_start: int
    test_start: int


def split_series(n: int, window: int, horizon: int, test_fraction: float, val_fraction: float) -> Split:
    """A chronological split that leaves at least one training window, one validation window and one
    test forecast of ``horizon`` steps."""
    if n < window:
        raise RnnkitError(f"the series has {n} values, shorter than the window of {window}; use a smaller --window")
    if not 0 < test_fraction < 1 or not 0 < val_fraction < 1:
        raise RnnkitError(f"--test-fraction and --val-fraction must be in (0, 1), got {test_fraction} and {val_fraction}")
    n_test = max(horizon, round(n * test_fraction))
    n_val = max(horizon, round((n - n_test) * val_fraction))
    split = Split(n - n_test - n_val, n - n_test)
    if split.val_start - horizon - window + 1 < 1:
        need = window + 3 * horizon + max(0, round(n * test_fraction) - horizon)
        raise RnnkitError(f"the series has {n} values: too short for a window of {window} and a horizon of {horizon} "
                          f"with these fractions (about {need} values or more needed); use a smaller --window "
                          f"or --horizon")
    return split


def make_windows(z: np.ndarray, origins: np.ndarray, window: int, outputs: int, many_to_many: bool = False,
                 residual: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``z[o-W:o]`` ``(N, W)`` for each origin ``o`` and targets: ``z[o:o+K]`` ``(N, K)``, or
    with ``many_to_many`` the K values after every input step ``(N, W, K)``. With ``residual`` the
    targets are changes from the last value read (a random walk is then the zero forecast)."""
    steps = np.arange(-window, 0)
    idx = origins[:, None] + steps  # (N, W)
    x = z[idx]
    if many_to_many:
        y = z[idx[:, :, None] + 1 + np.arange(outputs)]  # (N, W, K)
        return x, (y - x[:, :, None]) if residual else y
    y = z[origins[:, None] + np.arange(outputs)]  # (N, K)
    return x, (y - x[:, -1:]) if residual else y


def origins_between(first: int, last: int, window: int) -> np.ndarray:
    """Origins ``first..last`` (inclusive) that have a full window before them."""
    return np.arange(max(first, window), last + 1)
