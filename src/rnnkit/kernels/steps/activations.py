"""The activations the fused steps share, and their derivatives written with the activation's output."""

from __future__ import annotations

import triton
import triton.language as tl

from rnnkit.kernels.constants import RELU, SIGMOID, TANH


@triton.jit
def tanh(x):
    return 2.0 * tl.sigmoid(2.0 * x) - 1.0


@triton.jit
def act(x, ACT: tl.constexpr):
    """The Elman cell's activation, chosen at compile time by its id (``rnnkit.kernels.spec``)."""
    if ACT == TANH:
        y = tanh(x)
    elif ACT == RELU:
        y = tl.maximum(x, 0.0)
    else:
        tl.static_assert(ACT == SIGMOID, "unknown activation id (rnnkit.kernels.spec.ACTIVATION_IDS)")
        y = tl.sigmoid(x)
    return y


@triton.jit
def act_grad(u, ACT: tl.constexpr):
    """d act / d pre, written with the activation's output u."""
    if ACT == TANH:
        d = 1.0 - u * u
    elif ACT == RELU:
        d = tl.where(u > 0.0, 1.0, 0.0)
    else:
        tl.static_assert(ACT == SIGMOID, "unknown activation id (rnnkit.kernels.spec.ACTIVATION_IDS)")
        d = u * (1.0 - u)
    return d
