"""How far back does the gradient reach? The norm of dL/dh_{T-k} for k = 0..T (course-notes §4).

d h_t / d h_{t-K} is a product of K Jacobians diag(act') W_hh; with eigenvalues of W_hh below 1 (and
tanh' <= 1) it shrinks geometrically, above 1 it can grow. We run a cell over T random inputs, take
L = <v, h_T> for a fixed random v, and measure ||dL/dh_t|| (mean over the batch) for every t, the
initial state h_0 included.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch

from rnnkit.cells import LSTMState, init_cell_, make_cell, spectral_radius
from rnnkit.errors import RnnkitError

#: shorthand specs of the course's remedies
ALIASES = {"irnn": "elman-relu:identity", "tanh": "elman", "relu": "elman-relu"}


@dataclass
class ModelSpec:
    """``cell[:init[=radius]][:fb=forget_bias][:lr=learning_rate]``, e.g. ``elman``, ``elman-relu:spectral=2``,
    ``elman-relu:identity`` (IRNN), ``lstm:default:fb=5``, ``irnn:lr=1e-4`` (the alias, then options;
    ``lr`` is this model's own learning rate in the lab's training runs)."""

    text: str
    cell: str
    init: str = "default"
    radius: float = 1.0
    forget_bias: float | None = None
    lr: float | None = None

    @classmethod
    def parse(cls, text: str) -> "ModelSpec":
        head, *options = text.split(":")
        cell, *rest = ALIASES.get(head, head).split(":")
        spec = cls(text=text, cell=cell)
        for part in rest + options:
            if part.startswith(("fb=", "lr=")):
                setattr(spec, "forget_bias" if part.startswith("fb=") else "lr", _number(part[:2], part[3:], text))
            elif "=" in part:
                spec.init, radius = part.split("=", 1)
                spec.radius = _number(spec.init, radius, text)
            else:
                spec.init = part
        return spec

    def build(self, input_size: int, hidden: int, seed: int):
        torch.manual_seed(seed)
        cell = make_cell(self.cell, input_size, hidden)
        return init_cell_(cell, self.init, self.radius, self.forget_bias)


def recurrent_spectrum(cell) -> dict:
    """Largest |eigenvalue| and largest singular value over the gate blocks of W_hh (NaN for a cell
    without one, such as minGRU and minLSTM, whose step Jacobian dh_t/dh_{t-1} is diagonal)."""
    H = cell.hidden_size
    if not cell.has_recurrent_weights:
        return {"max_abs_eigenvalue": float("nan"), "max_singular_value": float("nan")}
    blocks = cell.weight_hh.detach().double().view(cell.num_gates, H, H)
    return {"max_abs_eigenvalue": max(spectral_radius(b) for b in blocks),
            "max_singular_value": max(float(torch.linalg.matrix_norm(b, ord=2)) for b in blocks)}


def gradient_norms(cell, T: int, batch: int = 16, input_scale: float = 1.0, seed: int = 0) -> list[float]:
    """``[||dL/dh_T||, ||dL/dh_{T-1}||, ..., ||dL/dh_0||]``: index k is the gradient k steps back.

    Computed in float64 so that a vanishing gradient reaches ~1e-300 before it underflows to 0.
    """
    if T < 1:
        raise RnnkitError(f"T must be >= 1, got {T}")
    cell = copy.deepcopy(cell).double()
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, T, cell.input_size, generator=g, dtype=torch.float64) * input_scale  # (B, T, F)
    v = torch.randn(batch, cell.hidden_size, generator=g, dtype=torch.float64)
    state = cell.init_state(batch)
    h0 = state.h if isinstance(state, LSTMState) else state
    h0.requires_grad_(True)
    hs = [h0]
    for t in range(T):
        out, state = cell(x[:, t], state)
        hs.append(out)  # h_t, (B, H)
    loss = (v * hs[-1]).sum()
    grads = torch.autograd.grad(loss, hs, allow_unused=True)
    norms = [float(gr.norm(dim=1).mean()) if gr is not None else 0.0 for gr in grads]
    return norms[::-1]  # k = 0 is h_T


def decay_per_step(norms: list[float]) -> float:
    """Geometric-mean ratio ||dL/dh_{T-k-1}|| / ||dL/dh_{T-k}|| over the curve (1: kept; < 1: vanishing)."""
    first, last = norms[0], norms[-1]
    if first <= 0 or last <= 0:
        return 0.0
    return math.exp((math.log(last) - math.log(first)) / (len(norms) - 1))


def _number(name: str, value: str, spec: str) -> float:
    """A spec's ``name=value`` as a finite number, or one line naming the spec."""
    import math

    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise RnnkitError(f"{name} in model spec {spec!r} must be a finite number, got {value!r} "
                          "(e.g. elman:spectral=1.0, lstm:default:fb=1, irnn:lr=1e-4)")
    return number
