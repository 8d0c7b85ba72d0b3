"""Multiple timescales (Tani 2008, course-notes §4): a fast layer of leaky units feeding a slow one.

Task: forecast, ``horizon`` steps ahead, a fast oscillation whose amplitude follows a slow wave,

    x_t = sin(2 pi t / P_fast + a) * (1 + 0.8 sin(2 pi t / P_slow + b)),   a, b random per sequence

Getting x_{t+h} right needs the fast phase (where in its cycle the carrier will be) and the slow phase
(whether the envelope is rising or falling, visible only over ~P_slow / 4 steps). The MTRNN's slow
units (large tau) integrate over that span; a single-timescale RNN of the same size (every tau = 1)
must learn to do it through its recurrent weights alone.
"""

from __future__ import annotations

import math
import sys
import time
from functools import partial
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from rnnkit.cells import MTRNNCell
from rnnkit.lab.sequence_tasks import train_on_task
from rnnkit.layers import Recurrent
from rnnkit.train.progress import clock


def two_timescale_series(batch: int, length: int, generator: torch.Generator | None = None, horizon: int = 20,
                         p_fast: float = 7.0, p_slow: float = 150.0):
    """``(inputs (B, L, 1), targets (B, L, 1))``: x_1..x_L and x_{1+h}..x_{L+h}."""
    t = torch.arange(length + horizon, dtype=torch.float32)  # (L + h,)
    a, b = (torch.rand(2, batch, 1, generator=generator) * 2 * math.pi).unbind(0)  # (B, 1) each
    x = torch.sin(2 * math.pi * t / p_fast + a) * (1 + 0.8 * torch.sin(2 * math.pi * t / p_slow + b))  # (B, L+h)
    return x[:, :length, None], x[:, horizon:, None]


class TimescaleStack(nn.Module):
    """Input -> fast leaky layer (tau_fast) -> slow leaky layer (tau_slow); the linear head reads both
    layers' states. With tau_fast = tau_slow = 1 it is a 2-layer Elman RNN with the same parameters."""

    def __init__(self, hidden_fast: int = 32, hidden_slow: int = 16, tau_fast: float = 1.0, tau_slow: float = 30.0):
        super().__init__()
        self.fast = Recurrent(MTRNNCell(1, hidden_fast, tau=tau_fast))
        self.slow = Recurrent(MTRNNCell(hidden_fast, hidden_slow, tau=tau_slow))
        self.head = nn.Linear(hidden_fast + hidden_slow, 1)

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor | None = None, state=None, skip: int = 50):
        fast_state, slow_state = state if state is not None else (None, None)
        h_fast, fast_state = self.fast(inputs, fast_state)  # (B, L, H_f)
        h_slow, slow_state = self.slow(h_fast, slow_state)  # (B, L, H_s)
        y = self.head(torch.cat([h_fast, h_slow], dim=-1))  # (B, L, 1)
        loss = F.mse_loss(y[:, skip:], targets[:, skip:]) if targets is not None else None  # after a warm-up
        return y, loss, (fast_state, slow_state)


def compare_timescales(steps: int = 600, horizon: int = 20, length: int = 300, hidden_fast: int = 32,
                       hidden_slow: int = 16, tau_slow: float = 30.0, lr: float = 3e-3, seed: int = 0,
                       out="runs/lab-mtrnn") -> dict:
    """Train the MTRNN and the single-timescale RNN of the same size on the same batches, with the one
    trainer; test MSE of each, and of predicting zero (the series' mean)."""
    generate = partial(two_timescale_series, horizon=horizon)
    _, test_y = generate(512, length, torch.Generator().manual_seed(10_000 + seed))
    results = {"predict zero (baseline)": float((test_y[:, 50:] ** 2).mean())}
    for name, tau in ((f"MTRNN (tau 1 and {tau_slow:g})", tau_slow), ("RNN (tau 1 and 1)", 1.0)):
        torch.manual_seed(seed)
        model = TimescaleStack(hidden_fast, hidden_slow, tau_fast=1.0, tau_slow=tau)
        run_dir = Path(out) / ("mtrnn" if tau > 1 else "rnn")
        print(f"training {name}: {steps} steps on series of {length} (run folder {run_dir})", file=sys.stderr, flush=True)
        started = time.perf_counter()
        test, _, _ = train_on_task(model, generate, length, run_dir, {"task": "lab-timescales", "model": name},
                                   steps=steps, lr=lr, seed=seed)
        print(f"  done in {clock(time.perf_counter() - started)}: test MSE {test:.4f}", file=sys.stderr, flush=True)
        results[name] = test
    return results
