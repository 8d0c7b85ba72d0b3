"""The linear recurrence ``h_t = a_t * h_{t-1} + b_t`` solved by one sweep over time, in one autograd Function.

The min-cells' scan on a CPU (``scan(..., backend="sweep")``): with a_t, b_t computed for every step at
once (one GEMM and the element-wise work over the whole sequence), what remains is T multiply-adds of
``(B, H)`` tensors, one call each, and T more in the backward:

    forward    h_t = a_t h_{t-1} + b_t                         t = 1 .. T
    backward   g_t = dL/dh_t (direct) + a_{t+1} g_{t+1}        t = T .. 1 (g_{T+1} = 0)
               dL/da_t = g_t h_{t-1}    dL/db_t = g_t          dL/dh_0 = a_1 g_1

This is the work of the sequential loop without its per-step autograd; on a CPU, whose threads already
vectorise each step over B*H, it beats the log-domain scan, which does several transcendental functions
per element to reach O(log T) depth. No logarithm is taken, so h_0 and b_t may have any sign.

``sweep_cell`` is the min-cells' parallel mode on a CPU: a_t and b_t straight from the cell's equations
(``linear_coefficients``: sigmoids and a product, where the log-domain ``coefficients`` need softplus,
log and exp, which cost most of the time at T = 128), then the sweep.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable
from torch.nn import functional as F

from rnnkit.cells.min_rnn import MinGRUCell, MinLSTMCell, g


class LinearSweep(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b, h0):  # a, b (B, T, H); h0 (B, H)
        hs = torch.empty_like(b)  # (B, T, H)
        h = h0
        for t in range(a.shape[1]):
            h = torch.addcmul(b[:, t], a[:, t], h, out=hs[:, t])
        ctx.save_for_backward(a, h0, hs)
        return hs

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        a, h0, hs = ctx.saved_tensors
        T = a.shape[1]
        g = torch.empty_like(hs)  # (B, T, H): dL/dh_t, everything that flows into h_t
        g[:, T - 1] = grad[:, T - 1]
        for t in range(T - 2, -1, -1):
            torch.addcmul(grad[:, t], a[:, t + 1], g[:, t + 1], out=g[:, t])
        da = torch.empty_like(a)
        torch.mul(g[:, 1:], hs[:, :-1], out=da[:, 1:])
        torch.mul(g[:, 0], h0, out=da[:, 0])
        return da, g, a[:, 0] * g[:, 0]


def sweep(log_a: torch.Tensor, log_b: torch.Tensor, h0: torch.Tensor) -> torch.Tensor:
    """``h (B, T, H)`` of ``h_t = exp(log_a_t) h_{t-1} + exp(log_b_t)`` from ``h0 (B, H)``. Differentiable."""
    return LinearSweep.apply(log_a.exp(), log_b.exp(), h0)


def linear_coefficients(cell, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``a, b (B, T, H)`` of ``h_t = a_t h_{t-1} + b_t`` for minGRU or minLSTM (``rnnkit.cells.min_rnn``):

        minGRU    a = 1 - z = σ(-k)              b = z g(h_lin)
        minLSTM   a = f / (f + i)                b = i / (f + i) g(h_lin)
    """
    if type(cell) is MinGRUCell:
        k, h_lin = F.linear(x, cell.weight_ih, cell.bias_ih).chunk(2, dim=-1)
        return torch.sigmoid(-k), torch.sigmoid(k) * g(h_lin)
    if type(cell) is MinLSTMCell:
        k_f, k_i, h_lin = F.linear(x, cell.weight_ih, cell.bias_ih).chunk(3, dim=-1)
        f, i = torch.sigmoid(k_f), torch.sigmoid(k_i)
        total = f + i
        return f / total, i / total * g(h_lin)
    raise TypeError(f"no linear coefficients for {cell!r}")


def sweeps(cell, x: torch.Tensor) -> bool:
    """Whether ``sweep_cell`` is the min-cell's faster parallel mode here: a CPU tensor, B*H >= 128."""
    from rnnkit.layers.scan import SWEEP_MIN_ELEMENTS

    return (type(cell) in (MinGRUCell, MinLSTMCell) and not x.is_cuda
            and x.shape[0] * cell.hidden_size >= SWEEP_MIN_ELEMENTS)


def sweep_cell(cell, x: torch.Tensor, h0: torch.Tensor) -> torch.Tensor:
    """``h (B, T, H)`` of a min-cell over ``x (B, T, F)`` from ``h0 (B, H)``, as ``cell.parallel(x, h0)``."""
    a, b = linear_coefficients(cell, x)
    dtype = a.dtype
    if dtype in (torch.float16, torch.bfloat16):  # under autocast: the recurrence accumulates in float32
        a, b = a.float(), b.float()
    return LinearSweep.apply(a, b, h0.to(a.dtype)).to(dtype)
