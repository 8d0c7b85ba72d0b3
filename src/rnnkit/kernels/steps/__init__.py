"""Each cell's fused step, forward and backward, one file per cell, named after it:

    elman.py  simple_lstm.py  lstm.py  gru.py       pointwise steps on a tile (BB rows x BH units)
    gru_course.py  ln_lstm.py                        whole-row steps (they need every unit of a row mid-step)

Dimensions: B batch, H hidden units, G gates, BB x BH a tile (rows of the batch x hidden units).

A tile cell's step turns its gate pre-activations ``x_0..x_3, a_0..a_3`` (each ``(BB, BH)``), the previous
state and its per-unit parameters ``p_0..p_2`` into the new state and up to four saved activations
``s_0..s_3`` (what its backward needs):

    x_k = (W_ih x_t + b_ih)_k   (precomputed for all steps, one GEMM)     a_k = (W_hh h_{t-1} + b_hh)_k
    step(x, a, h_{t-1}, c_{t-1}, p)  ->  h_t, c_t, s_0..s_3

Its backward receives dL/dh_t and dL/dc_t (everything that flows into the new state) and returns the
gradients of the pre-activations, ``dx_k = dL/dx_k`` and ``da_k = dL/da_k`` (equal except in the GRU's
candidate, where a_n is gated by r), and the *elementwise* part of dL/dh_{t-1} and dL/dc_{t-1}; the
kernel (``rnnkit.kernels.tile``) adds ``W_hh^T da`` itself. The equations are those of ``rnnkit.cells``.

``cell_forward`` and ``cell_backward`` below give every tile cell that one signature, choosing the cell
by its id (``rnnkit.kernels.spec``) at compile time; an id without a tile step fails to compile.
The whole-row cells are called by their own kernels (``rnnkit.kernels.rows``).
"""

from __future__ import annotations

import triton
import triton.language as tl

from rnnkit.kernels.constants import ELMAN, GRU, LSTM, SIMPLE_LSTM
from rnnkit.kernels.steps.elman import elman_backward, elman_forward
from rnnkit.kernels.steps.gru import gru_backward, gru_forward
from rnnkit.kernels.steps.lstm import lstm_backward, lstm_forward
from rnnkit.kernels.steps.simple_lstm import simple_lstm_backward, simple_lstm_forward


@triton.jit
def cell_forward(x0, x1, x2, x3, a0, a1, a2, a3, h_prev, c_prev, p0, p1, p2,
                 CELL: tl.constexpr, ACT: tl.constexpr, LEAKY: tl.constexpr, PEEP: tl.constexpr,
                 COUPLED: tl.constexpr):
    """One step of cell CELL on a (BB, BH) tile. Returns h_t, c_t, s0, s1, s2, s3 (zeros where unused)."""
    zero = h_prev * 0.0
    c, s0, s1, s2, s3 = zero, zero, zero, zero, zero
    if CELL == ELMAN:
        h, s0 = elman_forward(x0, a0, h_prev, p0, ACT, LEAKY)
    elif CELL == SIMPLE_LSTM:
        h, c, s0 = simple_lstm_forward(x0, a0, c_prev)
    elif CELL == LSTM:
        h, c, s0, s1, s2, s3 = lstm_forward(x0, x1, x2, x3, a0, a1, a2, a3, c_prev, p0, p1, p2, PEEP, COUPLED)
    else:
        tl.static_assert(CELL == GRU, "cell_forward: no tile step for this cell id (rnnkit.kernels.spec)")
        h, s0, s1, s2, s3 = gru_forward(x0, x1, x2, a0, a1, a2, h_prev)
    return h, c, s0, s1, s2, s3


@triton.jit
def cell_backward(dh, dc, s0, s1, s2, s3, h, c, h_prev, c_prev, p0, p1, p2,
                  CELL: tl.constexpr, ACT: tl.constexpr, LEAKY: tl.constexpr, PEEP: tl.constexpr,
                  COUPLED: tl.constexpr):
    """The step's backward. Returns dx0..dx3, da0..da3 (pre-activation gradients), and the elementwise
    parts of dL/dh_{t-1} and dL/dc_{t-1} (zeros where unused)."""
    zero = dh * 0.0
    dx1, dx2, dx3, dh_prev, dc_prev = zero, zero, zero, zero, zero
    if CELL == ELMAN:
        dx0, dh_prev = elman_backward(dh, s0, p0, ACT, LEAKY)
        da0, da1, da2, da3 = dx0, dx1, dx2, dx3
    elif CELL == SIMPLE_LSTM:
        dx0, dc_prev = simple_lstm_backward(dh, dc, s0, h)
        da0, da1, da2, da3 = dx0, dx1, dx2, dx3
    elif CELL == LSTM:
        dx0, dx1, dx2, dx3, dc_prev = lstm_backward(dh, dc, s0, s1, s2, s3, c, c_prev, p0, p1, p2, PEEP, COUPLED)
        da0, da1, da2, da3 = dx0, dx1, dx2, dx3
    else:
        tl.static_assert(CELL == GRU, "cell_backward: no tile step for this cell id (rnnkit.kernels.spec)")
        dx0, dx1, dx2, da2, dh_prev = gru_backward(dh, s0, s1, s2, s3, h_prev)
        da0, da1, da3 = dx0, dx1, dx3
    return dx0, dx1, dx2, dx3, da0, da1, da2, da3, dh_prev, dc_prev
