"""Each cell's pointwise step, written once in Triton, forward and backward (used by ``fused_kernels`` and ``fused_products``).

The recurrent product is the same for every cell and lives in ``fused_kernels`` and ``fused_products``: for gate k,

    x_k = (W_ih x_t + b_ih)_k   (precomputed for all steps, one GEMM)     a_k = (W_hh h_{t-1} + b_hh)_k

A cell's step turns the tile's gate pre-activations ``x_0..x_3, a_0..a_3`` (each ``(BB, BH)``: BB rows of
the batch, BH hidden units), the previous state and its per-unit parameters ``p_0..p_2`` into the new
state and up to four saved activations ``s_0..s_3`` (what its backward needs):

    step(x, a, h_{t-1}, c_{t-1}, p)  ->  h_t, c_t, s_0..s_3

The backward receives dL/dh_t and dL/dc_t (everything that flows into the new state) and returns the
gradients of the pre-activations, ``dx_k = dL/dx_k`` and ``da_k = dL/da_k`` (equal except in the
GRU's candidate, where a_n is gated by r), and the *elementwise* part of dL/dh_{t-1} and dL/dc_{t-1};
the kernel adds ``W_hh^T da`` itself. The equations are those of ``rnnkit.cells`` (see each cell's
docstring); a cell id selects the function at compile time:

    ELMAN (tanh / relu / sigmoid; LEAKY: MTRNN's h_t = (1 - α) h_{t-1} + α u, α = 1/τ),
    SIMPLE_LSTM, LSTM (PEEP: peephole, COUPLED: i = 1 - f), GRU (reset-after).
"""

from __future__ import annotations

import triton
import triton.language as tl

# the cell ids (CELL == 0, ...) and activation ids (ACT) are those of rnnkit.kernels.spec


@triton.jit
def tanh(x):
    return 2.0 * tl.sigmoid(2.0 * x) - 1.0


@triton.jit
def _act(x, ACT: tl.constexpr):
    if ACT == 0:
        y = tanh(x)
    elif ACT == 1:
        y = tl.maximum(x, 0.0)
    else:
        y = tl.sigmoid(x)
    return y


@triton.jit
def _act_grad(u, ACT: tl.constexpr):
    """d act / d pre, written with the activation's output u."""
    if ACT == 0:
        d = 1.0 - u * u
    elif ACT == 1:
        d = tl.where(u > 0.0, 1.0, 0.0)
    else:
        d = u * (1.0 - u)
    return d


@triton.jit
def cell_forward(x0, x1, x2, x3, a0, a1, a2, a3, h_prev, c_prev, p0, p1, p2,
                 CELL: tl.constexpr, ACT: tl.constexpr, LEAKY: tl.constexpr, PEEP: tl.constexpr,
                 COUPLED: tl.constexpr):
    """One step of the cell on a (BB, BH) tile. Returns h_t, c_t, s0, s1, s2, s3."""
    zero = h_prev * 0.0
    c, s1, s2, s3 = zero, zero, zero, zero
    if CELL == 0:  # Elman / MTRNN: u = act(x + a); h = u, or (1 - α) h + α u
        u = _act(x0 + a0, ACT)
        h = u
        if LEAKY:
            h = (1.0 - p0) * h_prev + p0 * u
        s0 = u
    elif CELL == 1:  # simple LSTM: c = c + tanh(x + a); h = tanh(c)
        s0 = tanh(x0 + a0)
        c = c_prev + s0
        h = tanh(c)
    elif CELL == 2:  # LSTM: gates i, f, g, o (coupled: f, g, o with i = 1 - f)
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
            s0, s1, s2 = f, g, o
        else:
            s0, s1, s2, s3 = i, f, g, o
    else:  # GRU, reset-after: r, z, n; h = (1 - z) n + z h
        r = tl.sigmoid(x0 + a0)
        z = tl.sigmoid(x1 + a1)
        n = tanh(x2 + r * a2)
        h = (1.0 - z) * n + z * h_prev
        s0, s1, s2, s3 = r, z, n, a2
    return h, c, s0, s1, s2, s3


@triton.jit
def cell_backward(dh, dc, s0, s1, s2, s3, h, c, h_prev, c_prev, p0, p1, p2,
                  CELL: tl.constexpr, ACT: tl.constexpr, LEAKY: tl.constexpr, PEEP: tl.constexpr,
                  COUPLED: tl.constexpr):
    """The step's backward. Returns dx0..dx3, da0..da3 (pre-activation gradients), and the elementwise
    parts of dL/dh_{t-1} and dL/dc_{t-1}."""
    zero = dh * 0.0
    dx1, dx2, dx3, dh_prev, dc_prev = zero, zero, zero, zero, zero
    if CELL == 0:
        du = dh
        if LEAKY:
            du = dh * p0
            dh_prev = dh * (1.0 - p0)
        dx0 = du * _act_grad(s0, ACT)
        da0, da1, da2, da3 = dx0, dx1, dx2, dx3
    elif CELL == 1:
        dct = dc + dh * (1.0 - h * h)  # h = tanh(c)
        dx0 = dct * (1.0 - s0 * s0)
        dc_prev = dct
        da0, da1, da2, da3 = dx0, dx1, dx2, dx3
    elif CELL == 2:
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
            dx0, dx1, dx2 = dpf, dpg, dpo
        else:
            dpi = di * i * (1.0 - i)
            if PEEP:
                dc_prev += dpi * p0 + dpf * p1
            dx0, dx1, dx2, dx3 = dpi, dpf, dpg, dpo
        da0, da1, da2, da3 = dx0, dx1, dx2, dx3
    else:
        r, z, n, hn = s0, s1, s2, s3
        dz = dh * (h_prev - n)
        dx2 = dh * (1.0 - z) * (1.0 - n * n)  # d pre-activation of n
        dx0 = dx2 * hn * r * (1.0 - r)
        dx1 = dz * z * (1.0 - z)
        dh_prev = dh * z
        da0, da1, da2, da3 = dx0, dx1, dx2 * r, dx3  # a_n enters as r * a_n
    return dx0, dx1, dx2, dx3, da0, da1, da2, da3, dh_prev, dc_prev
