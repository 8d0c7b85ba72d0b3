"""The forecasting task: windows of a scaled series -> a forecaster (RNN, or the MLP / 1-D conv
baselines) trained with early stopping on the validation part, then scored on the chronological
hold-out against the naive and seasonal-naive forecasts with MAE, RMSE and MASE.

Every hold-out origin ``o`` (each step of the test part with ``horizon`` values after it) gets a
forecast of ``z_o .. z_{o+H-1}`` from the true values before ``o``. ``recursive``: a one-step model,
its forecast appended to the window (which slides by one) H times; ``direct``: one model output per
step ahead. MASE divides the MAE by the mean absolute one-step change in the training part.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import torch

from rnnkit.data.series import SCALERS, Scaler, Series, Split, make_windows, origins_between, read_series, split_series
from rnnkit.errors import RnnkitError
from rnnkit.schema import check_config, check_fields
from rnnkit.models.forecaster import build_forecaster
from rnnkit.models.configs import ForecasterConfig
from rnnkit.tasks.configs import ForecastDataConfig
from rnnkit.tasks.supervised import EpochSampler, make_train_config
from rnnkit.train.checkpoint import load_checkpoint, load_weights, run_folder, saved_config
from rnnkit.train.files import lock_run
from rnnkit.train.memory import ACTIVATION_FLOATS_PER_UNIT, build_within_memory
from rnnkit.train.trainer import Trainer, resolve_device
from rnnkit.runtime import set_threads

TASK = "forecast"
STRATEGIES = ("recursive", "direct")


class WindowBatches:
    """The trainer's data: shuffled windows, ``batch(step) -> (inputs (b, W), targets, reset)``."""

    stateful = False

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, seed: int):
        self.x, self.y = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
        self.sampler = EpochSampler(len(self.x), batch_size, seed)

    def batch(self, step: int):
        i = self.sampler.indices(step)
        return self.x[i], self.y[i], True


class Setup:
    """A series prepared as configured: its split, scaler and scaled values ``z``."""

    def __init__(self, series: Series, d: ForecastDataConfig, scaler: Scaler | None = None):
        check_data_config(d)
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


@torch.no_grad()
def forecast(model, z: np.ndarray, origins: np.ndarray, window: int, steps: int, strategy: str,
             residual: bool) -> np.ndarray:
    """Scaled forecasts ``(len(origins), steps)`` of ``z[o:o+steps]`` from ``z[o-W:o]``, for each origin."""
    model.eval()
    device = next(model.parameters()).device
    x = torch.tensor(z[origins[:, None] + np.arange(-window, 0)], dtype=torch.float32, device=device)  # (n, W)

    def ahead(x):  # (n, W) -> the model's outputs for the step(s) after the window, (n, K)
        out = model(x)[0].float()
        out = out[:, -1] if out.dim() == 3 else out  # many-to-many: the forecast after the last step
        return out + x[:, -1:] if residual else out

    if strategy == "direct":
        out = ahead(x)
        if steps > out.shape[1]:
            raise RnnkitError(f"a direct model forecasts {out.shape[1]} steps; ask for at most that many")
        return out[:, :steps].cpu().numpy().astype(np.float64)
    preds = []
    for _ in range(steps):
        p = ahead(x)[:, :1]  # (n, 1)
        preds.append(p)
        x = torch.cat([x[:, 1:], p], dim=1)  # the window slides over its own forecast
    return torch.cat(preds, dim=1).cpu().numpy().astype(np.float64)


def naive(values: np.ndarray, origins: np.ndarray, steps: int) -> np.ndarray:
    """The last value before each origin, repeated: ``(n, steps)``."""
    return np.repeat(values[origins - 1][:, None], steps, axis=1)


def seasonal_naive(values: np.ndarray, origins: np.ndarray, steps: int, m: int) -> np.ndarray:
    """The value one season (``m`` steps) before each forecast step, from the data before the origin."""
    h = np.arange(steps)
    return values[origins[:, None] + h - m * (h // m + 1)]


def errors(pred: np.ndarray, truth: np.ndarray, scale: float) -> dict:
    e = pred - truth
    mae = float(np.abs(e).mean())
    return {"mae": mae, "rmse": float(np.sqrt((e**2).mean())), "mase": mae / scale,
            "mae_by_step": np.abs(e).mean(0).tolist()}


def hold_out_scores(model, s: Setup) -> tuple[dict, dict]:
    """Scores on the test part of the model and both naive forecasts, and the arrays behind them."""
    values, origins, H = s.series.values, s.test_origins(), s.d.horizon
    truth = values[origins[:, None] + np.arange(H)]  # (n, H)
    scale = float(np.abs(np.diff(values[: s.split.val_start])).mean()) or 1.0
    preds = {"naive": naive(values, origins, H), f"seasonal naive (m={s.season})": seasonal_naive(values, origins, H, s.season)}
    if model is not None:
        z = forecast(model, s.z, origins, s.d.window, H, s.d.strategy, s.d.residual)
        preds = {"model": s.scaler.inverse(z), **preds}
    scores = {name: errors(p, truth, scale) for name, p in preds.items()}
    return scores, {"origins": origins, "truth": truth, **preds}


def check_data_config(d: ForecastDataConfig) -> None:
    if d.data is None:
        raise RnnkitError("--data FILE is required: a CSV with a header, a date column and a value column")
    check_fields(d)


def train_forecaster(model_config: ForecasterConfig, data_config: ForecastDataConfig, flags, log=print) -> dict:
    """Train as configured, score the best checkpoint on the hold-out, and return the summary."""
    d, m = data_config, model_config
    check_data_config(d)
    torch.manual_seed(flags.seed)
    set_threads(flags.threads)  # 0: torch's default
    s = Setup(read_series(d.data, d.date_column, d.value_column), d)
    many = m.mode == "many-to-many"
    x, y = s.windows(d.window, s.split.val_start - s.outputs, many)
    vx, vy = s.windows(s.split.val_start, s.split.test_start - s.outputs, many)
    model = build_within_memory(lambda: build_forecaster(d.window, s.outputs, m), resolve_device(flags.device),
                                activations=ACTIVATION_FLOATS_PER_UNIT * flags.batch_size * d.window * m.hidden * m.layers)
    run_dir = run_folder(flags.out, "forecast", flags.resume, create=False)  # made once the inputs are known good
    data = WindowBatches(x, y, flags.batch_size, flags.seed)
    config = make_train_config(flags, data.sampler.steps_per_epoch, d.epochs)
    meta = {"task": TASK, "configs": {"model": asdict(m), "data": asdict(d), "train": asdict(flags)},
            "scaler": asdict(s.scaler)}
    val_x, val_y = torch.tensor(vx, dtype=torch.float32), torch.tensor(vy, dtype=torch.float32)

    def evaluate(model):
        device = next(model.parameters()).device
        _, loss, _ = model(val_x.to(device), val_y.to(device))
        return {"val_loss": float(loss)}

    lock_run(run_dir)  # makes the folder (one line if it cannot) and refuses a second run on it
    trainer = Trainer(model, config, data, evaluate, run_dir, meta)
    if flags.resume:
        trainer.resume()
        log(f"resuming {run_dir} at step {trainer.step}")
    log(f"series {s.series.name!r}: {len(s.series)} values; {len(x)} training and {len(vx)} validation windows, "
        f"test from value {s.split.test_start} ({s.series.dates[s.split.test_start]:%Y-%m-%d}), "
        f"{len(s.test_origins())} forecast origins")
    log(f"model: {m.model}, {sum(p.numel() for p in model.parameters()):,} parameters, device {trainer.device}")
    summary = trainer.fit()
    best, _ = load_checkpoint(run_dir / "best")
    load_weights(trainer.model, best, run_dir / "best")
    scores, arrays = hold_out_scores(trainer.model, s)
    summary.update(run_dir=str(run_dir), scores=scores)
    log(f"done ({summary['stopped']}) at step {summary['step']} after {summary['elapsed']:.0f} s\n" + format_scores(scores, d.horizon))
    return {**summary, "arrays": arrays, "setup": s}


def format_scores(scores: dict, horizon: int) -> str:
    lines = [f"hold-out, horizon {horizon}: {'method':24s} {'MAE':>10s} {'RMSE':>10s} {'MASE':>7s}"]
    lines += [f"{'':21s}{name:24s} {r['mae']:10.4g} {r['rmse']:10.4g} {r['mase']:7.3f}" for name, r in scores.items()]
    return "\n".join(lines)


def load_forecaster(path, device: str = "cpu"):
    """``(model, data config, scaler, meta)`` from a checkpoint or run folder, the model in eval mode."""
    weights, meta = load_checkpoint(path, task=TASK, what="a forecaster")
    model_config = saved_config(ForecasterConfig, meta, "configs", "model", where=path)
    d = saved_config(ForecastDataConfig, meta, "configs", "data", where=path)
    scaler = check_config(Scaler, meta.get("scaler"), f"corrupt checkpoint {path}: scaler")
    if scaler.kind not in SCALERS or scaler.scale == 0:
        raise RnnkitError(f"corrupt checkpoint {path}: scaler {scaler.kind!r} with scale {scaler.scale} cannot be used")
    model = build_within_memory(lambda: build_forecaster(d.window, d.horizon if d.strategy == "direct" else 1,
                                                         model_config), "cpu", training=False)
    load_weights(model, weights, path)
    return model.to(resolve_device(device)).eval(), d, scaler, meta
