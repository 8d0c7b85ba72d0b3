"""Forecasts over the hold-out and their scores against the naive and seasonal-naive forecasts.

Every hold-out origin ``o`` (each step of the test part with ``horizon`` values after it) gets a
forecast of ``z_o .. z_{o+H-1}`` from the true values before ``o``. ``recursive``: a one-step model,
its forecast appended to the window (which slides by one) H times; ``direct``: one model output per
step ahead. MASE divides the MAE by the mean absolute one-step change in the training part.
"""

from __future__ import annotations

import numpy as np
import torch

from rnnkit.errors import RnnkitError


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


def hold_out_scores(model, s) -> tuple[dict, dict]:
    """Scores on the test part of ``s`` (a ``Setup``) of the model and both naive forecasts, and the
    arrays behind them."""
    values, origins, H = s.series.values, s.test_origins(), s.d.horizon
    truth = values[origins[:, None] + np.arange(H)]  # (n, H)
    scale = float(np.abs(np.diff(values[: s.split.val_start])).mean()) or 1.0
    preds = {"naive": naive(values, origins, H), f"seasonal naive (m={s.season})": seasonal_naive(values, origins, H, s.season)}
    if model is not None:
        z = forecast(model, s.z, origins, s.d.window, H, s.d.strategy, s.d.residual)
        preds = {"model": s.scaler.inverse(z), **preds}
    scores = {name: errors(p, truth, scale) for name, p in preds.items()}
    return scores, {"origins": origins, "truth": truth, **preds}


def format_scores(scores: dict, horizon: int) -> str:
    lines = [f"hold-out, horizon {horizon}: {'method':24s} {'MAE':>10s} {'RMSE':>10s} {'MASE':>7s}"]
    lines += [f"{'':21s}{name:24s} {r['mae']:10.4g} {r['rmse']:10.4g} {r['mase']:7.3f}" for name, r in scores.items()]
    return "\n".join(lines)


def jsonable(scores: dict) -> dict:
    return {k: {m: v for m, v in r.items()} for k, r in scores.items()}
