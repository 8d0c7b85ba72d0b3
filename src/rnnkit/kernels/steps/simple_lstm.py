"""The simple LSTM's fused step (``rnnkit.cells.SimpleLSTMCell``: a memory cell without gates).

Dimensions: every tensor is a tile (BB, BH), BB rows of the batch by BH hidden units.

    g = tanh(x + a)       c_t = c_{t-1} + g       h_t = tanh(c_t)
    saved: g
"""

from __future__ import annotations

import triton
import triton.language as tl  # noqa: F401 - the interpreter runs a jit function only where tl is visible

from rnnkit.kernels.steps.activations import tanh


@triton.jit
def simple_lstm_forward(x, a, c_prev):
    """Returns h_t, c_t, g."""
    g = tanh(x + a)
    c = c_prev + g
    return tanh(c), c, g


@triton.jit
def simple_lstm_backward(dh, dc, g, h):
    """dh, dc: dL/dh_t, dL/dc_t. Returns dL/d(x + a) and dL/dc_{t-1}."""
    dct = dc + dh * (1.0 - h * h)  # h = tanh(c)
    return dct * (1.0 - g * g), dct
