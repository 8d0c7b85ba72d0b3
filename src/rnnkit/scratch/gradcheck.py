"""Checking the hand-written backward passes against centred finite differences, in float64.

For every cell, the loss ``sum_t CE(softmax(W_hy h_t + b_y), y_t) + <R, final state>`` (the second term
sends a gradient into the final state too) is differentiated two ways: by the cell's ``backward`` (a) and
by ``(L(θ + ε) - L(θ - ε)) / 2ε`` (n) for every element θ of every parameter, of the input x and of the
initial state. A table row gives, over a parameter's elements, the max of

    relative error = |a - n| / max(|a| + |n|, tiny)

Why ε = 1e-5 and tiny = 1e-2: a centred difference errs by O(ε²) from truncation plus about
|L| · 2^-52 / ε from rounding (|L| ≈ 30 here), and ε = 1e-5 balances the two at ≈ 1e-9 absolute. So
no float64 difference resolves an element much smaller than 1e-3 to 1e-6 relative; the floor turns the
test of those (rare, tiny) elements into an absolute one, |a - n| ≤ 1e-8, while every element above
1e-2 (gradients here are O(1)) is held to the full relative tolerance. ``max_abs_error`` is reported too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnkit.errors import RnnkitError
from rnnkit.scratch.head import SoftmaxHead
from rnnkit.scratch.model import CELLS, make_cell

TOLERANCE = 1e-6  # the largest relative error that passes
TINY = 1e-2  # the floor of the denominator (see above): below it, the test is |a - n| <= TOLERANCE * TINY
EPS = 1e-5  # the step of the centred differences (see above)


@dataclass
class GradcheckRow:
    cell: str
    parameter: str
    shape: tuple
    max_rel_error: float
    max_abs_error: float

    @property
    def passed(self) -> bool:
        return self.max_rel_error <= TOLERANCE


def relative_error(analytic: np.ndarray, numeric: np.ndarray, tiny: float = TINY) -> float:
    """Max over elements of ``|a - n| / max(|a| + |n|, tiny)``."""
    return float(np.max(np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), tiny)))


def numerical_gradient(loss_fn, array: np.ndarray, eps: float) -> np.ndarray:
    """Centred differences of ``loss_fn()`` with respect to every element of ``array`` (perturbed in place)."""
    grad = np.zeros_like(array)
    flat, gflat = array.reshape(-1), grad.reshape(-1)  # views: writing flat[j] perturbs the array
    for j in range(flat.size):
        old = flat[j]
        flat[j] = old + eps
        plus = loss_fn()
        flat[j] = old - eps
        minus = loss_fn()
        flat[j] = old
        gflat[j] = (plus - minus) / (2 * eps)
    return grad


def check_cell(name: str, batch: int = 3, steps: int = 5, input_size: int = 4, hidden_size: int = 5,
               vocab_size: int = 6, eps: float = EPS, seed: int = 0) -> list[GradcheckRow]:
    """Gradient check of cell ``name`` (with a softmax head) on random data; one row per array."""
    if eps <= 0:
        raise RnnkitError(f"eps must be positive, got {eps}")
    rng = np.random.default_rng(seed)
    cell = make_cell(name, input_size, hidden_size, seed=seed, dtype=np.float64)
    head = SoftmaxHead(hidden_size, vocab_size, seed=seed + 1)
    x = rng.normal(size=(batch, steps, input_size))  # (B, T, F)
    targets = rng.integers(0, vocab_size, size=(batch, steps))  # (B, T)
    state0 = cell.init_state(batch)
    state0 = tuple(rng.normal(scale=0.5, size=s.shape) for s in state0) if cell.has_cell_state \
        else rng.normal(scale=0.5, size=state0.shape)
    states = state0 if cell.has_cell_state else (state0,)
    R = [rng.normal(size=s.shape) for s in states]  # weights of the final-state term

    def loss_fn() -> float:
        hs, final, _ = cell.forward(x, state0)
        loss, _ = head.forward(hs, targets, reduction="sum")
        finals = final if cell.has_cell_state else (final,)
        return loss + sum(float((r * s).sum()) for r, s in zip(R, finals))

    # analytic: head backward, then the cell's BPTT with dLoss/d(final state) = R
    hs, _, cache = cell.forward(x, state0)
    _, head_cache = head.forward(hs, targets, reduction="sum")
    head_grads, dhs = head.backward(head_cache)
    dstate = tuple(R) if cell.has_cell_state else R[0]
    cell_grads, dx, dstate0 = cell.backward(dhs, cache, dstate)
    dstates0 = dstate0 if cell.has_cell_state else (dstate0,)

    arrays = [(f"cell.{k}", v, cell_grads[k]) for k, v in cell.params.items()]
    arrays += [(f"head.{k}", v, head_grads[k]) for k, v in head.params.items()]
    arrays.append(("input x", x, dx))
    arrays += [(f"initial {s}", v, d) for s, v, d in zip("hc", states, dstates0)]
    rows = []
    for label, value, grad in arrays:
        numeric = numerical_gradient(loss_fn, value, eps)
        rows.append(GradcheckRow(name, label, value.shape, relative_error(grad, numeric),
                                 float(np.max(np.abs(grad - numeric)))))
    return rows


def check_cells(names: list[str] | None = None, **kwargs) -> list[GradcheckRow]:
    """``check_cell`` for each name (default: every scratch cell)."""
    return [row for name in (names or list(CELLS)) for row in check_cell(name, **kwargs)]


def format_table(rows: list[GradcheckRow]) -> str:
    lines = [f"{'cell':14s} {'parameter':17s} {'shape':8s} {'max rel error':>13s} {'max abs error':>13s}  ok",
             "-" * 74]
    for r in rows:
        shape = "x".join(map(str, r.shape))
        lines.append(f"{r.cell:14s} {r.parameter:17s} {shape:8s} {r.max_rel_error:13.2e} {r.max_abs_error:13.2e}  "
                     f"{'yes' if r.passed else 'NO'}")
    worst = max(rows, key=lambda r: r.max_rel_error)
    verdict = "all pass" if worst.passed else "FAILED"
    lines.append(f"{verdict}: worst {worst.max_rel_error:.2e} ({worst.cell} {worst.parameter}); "
                 f"tolerance {TOLERANCE:.0e}; centred differences in float64, eps {EPS:.0e}, "
                 f"relative error |a - n| / max(|a| + |n|, {TINY:.0e})")
    return "\n".join(lines)
