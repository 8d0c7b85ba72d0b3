"""The GRU's fused step, reset-after (``rnnkit.cells.GRUCell(reset_after=True)``, torch's and cuDNN's GRU).

Dimensions: every tensor is a tile (BB, BH), BB rows of the batch by BH hidden units; gates r, z, n.

    r = σ(x_r + a_r)     z = σ(x_z + a_z)     n = tanh(x_n + r a_n)     h_t = (1 - z) n + z h_{t-1}
    saved: r, z, n, a_n

The course's GRU (reset before the product, r ⊙ h_{t-1}) needs whole rows: ``gru_course.py``.
"""

from __future__ import annotations

import triton
import triton.language as tl

from rnnkit.kernels.steps.activations import tanh


@triton.jit
def gru_forward(x_r, x_z, x_n, a_r, a_z, a_n, h_prev):
    """Returns h_t and the saved r, z, n, a_n."""
    r = tl.sigmoid(x_r + a_r)
    z = tl.sigmoid(x_z + a_z)
    n = tanh(x_n + r * a_n)
    h = (1.0 - z) * n + z * h_prev
    return h, r, z, n, a_n


@triton.jit
def gru_backward(dh, r, z, n, a_n, h_prev):
    """dh: dL/dh_t. Returns dL/dx_{r,z,n}, dL/da_n (a_n enters as r a_n; dL/da_{r,z} = dL/dx_{r,z}) and the
    elementwise part of dL/dh_{t-1}."""
    dz = dh * (h_prev - n)
    dx_n = dh * (1.0 - z) * (1.0 - n * n)  # d pre-activation of n
    dx_r = dx_n * a_n * r * (1.0 - r)
    dx_z = dz * z * (1.0 - z)
    return dx_r, dx_z, dx_n, dx_n * r, dh * z
