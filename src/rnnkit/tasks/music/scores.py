"""Scores of a next-frame model over whole pieces, and the two baselines a frame model must beat.

    NLL per frame = -(1/N) sum_frames sum_pitches [x log p + (1 - x) log(1 - p)]    (nats; Chung et al. 2014)
    accuracy      = TP / (TP + FP + FN), pitches with p > 0.5 predicted on        (Bay et al. 2009, as JSB reports)

The frequency baseline gives pitch k the probability f_k, its share of the training frames (Laplace
smoothed): independent Bernoullis. The repeat baseline predicts the previous frame, smoothed towards
the frequencies, p = (1 - a) x_{t-1} + a f (the first frame: f), a fitted on the training pieces.
"""

from __future__ import annotations

import numpy as np
import torch

EPS = 1e-7  # probabilities are clipped to [EPS, 1 - EPS] before the log (a baseline may say 0)


@torch.no_grad()
def model_scores(model, pieces, batch_size: int = 64) -> dict:
    """``{"nll": per frame, "accuracy": ..., "frames": N}`` of ``model`` over every piece of ``pieces``."""
    from rnnkit.models.frame_model import frame_mask, frame_nll

    model.eval()
    device = next(model.parameters()).device
    order = sorted(range(len(pieces)), key=lambda i: len(pieces.rolls[i]))  # similar lengths: less padding
    total, frames, tp, fp, fn = 0.0, 0, 0, 0, 0
    for start in range(0, len(order), batch_size):
        inputs, targets = pieces.batch(order[start : start + batch_size])
        inputs, targets = type(inputs)(*(t.to(device) for t in inputs)), targets.to(device)
        logits, _, _ = model(inputs)
        nll, n = frame_nll(logits, targets, inputs.lengths)
        total, frames = total + float(nll), frames + int(n)
        mask = frame_mask(inputs.lengths, targets.shape[1])[..., None]
        on, truth = (logits.float() > 0) & mask, targets.bool() & mask
        tp, fp, fn = tp + int((on & truth).sum()), fp + int((on & ~truth).sum()), fn + int((~on & truth).sum())
    return {"nll": total / max(frames, 1), "accuracy": tp / max(tp + fp + fn, 1), "frames": frames}


def bernoulli_nll(p: np.ndarray, x: np.ndarray) -> float:
    """Summed NLL of binary ``x`` under probabilities ``p`` (same shape)."""
    p = np.clip(p, EPS, 1 - EPS)
    return float(-(x * np.log(p) + (1 - x) * np.log1p(-p)).sum())


def accuracy(p: np.ndarray, x: np.ndarray) -> tuple[int, int, int]:
    on, truth = p > 0.5, x.astype(bool)
    return int((on & truth).sum()), int((on & ~truth).sum()), int((~on & truth).sum())


def frequencies(rolls: list[np.ndarray]) -> np.ndarray:
    """``(P,)``: each pitch's share of the training frames, Laplace smoothed."""
    counts = sum(r.sum(0) for r in rolls).astype(np.float64)
    return (counts + 1) / (sum(len(r) for r in rolls) + 2)


def repeat_probabilities(roll: np.ndarray, f: np.ndarray, a: float) -> np.ndarray:
    """``(T, P)``: frame t's probabilities under the repeat baseline."""
    previous = np.concatenate([np.zeros_like(roll[:1]), roll[:-1]]).astype(np.float64)
    p = (1 - a) * previous + a * f[None, :]
    p[0] = f
    return p


def fit_repeat(rolls: list[np.ndarray], f: np.ndarray) -> float:
    """The smoothing ``a`` of the repeat baseline with the lowest training NLL (a search over [1e-4, 1])."""
    grid = np.geomspace(1e-4, 1.0, 81)
    losses = [sum(bernoulli_nll(repeat_probabilities(r, f, a), r) for r in rolls) for a in grid]
    return float(grid[int(np.argmin(losses))])


def baseline_scores(train: list[np.ndarray], rolls: list[np.ndarray]) -> dict:
    """Both baselines, fitted on ``train``, scored on ``rolls``: ``{name: {"nll", "accuracy"}}``."""
    f = frequencies(train)
    a = fit_repeat(train, f)
    frames = sum(len(r) for r in rolls)
    out = {}
    for name, probs in (("frequency", lambda r: np.broadcast_to(f, r.shape)),
                        (f"repeat previous frame (smoothing {a:.3g})", lambda r: repeat_probabilities(r, f, a))):
        nll, counts = 0.0, np.zeros(3, dtype=np.int64)
        for r in rolls:
            p = probs(r)
            nll += bernoulli_nll(p, r)
            counts += accuracy(p, r)
        tp, fp, fn = counts
        out[name] = {"nll": nll / frames, "accuracy": float(tp / max(tp + fp + fn, 1)), "frames": frames}
    return out


def format_scores(scores: dict, where: str) -> str:
    lines = [f"{where}: {'method':42s} {'NLL/frame':>10s} {'accuracy':>9s}"]
    pad = " " * (len(where) + 2)
    lines += [f"{pad}{name:42s} {s['nll']:10.3f} {s['accuracy']:9.2%}" for name, s in scores.items()]
    return "\n".join(lines)
