"""The Elman cell's fused step (``rnnkit.cells.ElmanCell``; MTRNN with LEAKY, ``rnnkit.cells.MTRNNCell``).

Dimensions: every tensor is a tile (BB, BH), BB rows of the batch by BH hidden units.

    u = act(x + a)        h_t = u,   or (LEAKY) h_t = (1 - α) h_{t-1} + α u,  α = 1/τ per unit
    saved: u
"""

from __future__ import annotations

import triton
import triton.language as tl

from rnnkit.kernels.steps.activations import act, act_grad


@triton.jit
def elman_forward(x, a, h_prev, alpha, ACT: tl.constexpr, LEAKY: tl.constexpr):
    """x, a: the pre-activation's input and recurrent parts; alpha: 1/τ (MTRNN). Returns h_t, u."""
    u = act(x + a, ACT)
    h = u
    if LEAKY:
        h = (1.0 - alpha) * h_prev + alpha * u
    return h, u


@triton.jit
def elman_backward(dh, u, alpha, ACT: tl.constexpr, LEAKY: tl.constexpr):
    """dh: dL/dh_t. Returns dL/d(x + a) and the elementwise part of dL/dh_{t-1} (zero unless LEAKY)."""
    du = dh
    dh_prev = dh * 0.0
    if LEAKY:
        du = dh * alpha
        dh_prev = dh * (1.0 - alpha)
    return du * act_grad(u, ACT), dh_prev
