"""The LSTM's fused step (``rnnkit.cells.LSTMCell``), with its peephole (PEEP) and coupled (COUPLED) variants.

Dimensions: every tensor is a tile (BB, BH), BB rows of the batch by BH hidden units; gates i, f, g, o
(coupled: f, g, o, with i = 1 - f). ``p_k = x_k + a_k`` are the gate pre-activations.

    i = σ(p_i + w_ci c_{t-1})   f = σ(p_f + w_cf c_{t-1})   g = tanh(p_g)    (w_c*: peephole weights)
    c_t = f c_{t-1} + i g       o = σ(p_o + w_co c_t)       h_t = o tanh(c_t)
    saved: i, f, g, o (coupled: f, g, o)

The layer-normalised LSTM needs whole rows: ``ln_lstm.py``.
"""

from __future__ import annotations

import triton
import triton.language as tl

from rnnkit.kernels.steps.activations import tanh


@triton.jit
def lstm_forward(x0, x1, x2, x3, a0, a1, a2, a3, c_prev, p0, p1, p2, PEEP: tl.constexpr, COUPLED: tl.constexpr):
    """``x_k, a_k``: gate k's input and recurrent parts; ``p0..p2``: (w_ci, w_cf, w_co), coupled (w_cf, w_co).
    Returns h_t, c_t and the four saved slots (coupled: f, g, o and an unused zero)."""
    if COUPLED:
        pf, pg, po, w_co = x0 + a0, x1 + a1, x2 + a2, p1
        if PEEP:
            pf += p0 * c_prev
        f = tl.sigmoid(pf)
        i = 1.0 - f
    else:
        pi, pf, pg, po, w_co = x0 + a0, x1 + a1, x2 + a2, x3 + a3, p2
        if PEEP:
            pi += p0 * c_prev
            pf += p1 * c_prev
        i, f = tl.sigmoid(pi), tl.sigmoid(pf)
    g = tanh(pg)
    c = f * c_prev + i * g
    if PEEP:
        po += w_co * c  # the output gate sees the new cell
    o = tl.sigmoid(po)
    h = o * tanh(c)
    if COUPLED:
        s0, s1, s2, s3 = f, g, o, c_prev * 0.0
    else:
        s0, s1, s2, s3 = i, f, g, o
    return h, c, s0, s1, s2, s3


@triton.jit
def lstm_backward(dh, dc, s0, s1, s2, s3, c, c_prev, p0, p1, p2, PEEP: tl.constexpr, COUPLED: tl.constexpr):
    """dh, dc: dL/dh_t, dL/dc_t; s0..s3 the saved gates. Returns dL/dp_k for the gates (coupled: f, g, o and an
    unused zero) and dL/dc_{t-1}."""
    if COUPLED:
        f, g, o, w_co = s0, s1, s2, p1
        i = 1.0 - f
    else:
        i, f, g, o, w_co = s0, s1, s2, s3, p2
    tc = tanh(c)
    dpo = dh * tc * o * (1.0 - o)
    dct = dc + dh * o * (1.0 - tc * tc)
    if PEEP:
        dct += dpo * w_co
    di = dct * g
    df = dct * c_prev
    if COUPLED:
        df -= di  # i = 1 - f
    dpg = dct * i * (1.0 - g * g)
    dpf = df * f * (1.0 - f)
    dc_prev = dct * f
    if COUPLED:
        if PEEP:
            dc_prev += dpf * p0
        dp0, dp1, dp2, dp3 = dpf, dpg, dpo, dh * 0.0
    else:
        dpi = di * i * (1.0 - i)
        if PEEP:
            dc_prev += dpi * p0 + dpf * p1
        dp0, dp1, dp2, dp3 = dpi, dpf, dpg, dpo
    return dp0, dp1, dp2, dp3, dc_prev
