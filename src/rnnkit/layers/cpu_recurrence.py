"""The CPU engine's autograd Function: the recurrence over a whole sequence, forward and backward.

Dimension legend: T steps, B rows of the batch, H hidden units, G gates (the columns of ``xp`` are G*H).
Every buffer is time-major, ``(T, B, ...)``, so one step's rows are one contiguous block.

``CpuRecurrence.apply(step_type, cell, sizes, xp, h0, c0, *params) -> hs (T+1, B, H)[, cs (T+1, B, H)]``

- ``xp (T, B, G*H)``: the input's part of every gate at every step, computed before the loop in one
  GEMM (and differentiated by torch, so the gradients of ``W_ih``, ``b_ih`` and ``x`` come from there);
- ``sizes``: the rows alive at each step (the batch is sorted by length, longest first, so the rows
  alive at step t are the first ``sizes[t]``: each step works on a prefix of the batch, as torch's
  packed sequences do, and a row that has ended keeps its state);
- ``step_type``: the cell's step (``cpu_steps``, ``cpu_ln_lstm``), which owns the buffers and does one GEMM
  and a few fused element-wise operations per step, in place, under no autograd;
- ``hs[0] = h0`` and ``hs[t+1]`` the state after step t (zero past a row's length).

The backward runs the recurrence in reverse from the saved activations; each step writes the gradients
of its pre-activations into a ``(T, B, G*H)`` buffer (zero for rows that have ended), and the weight
gradients are one GEMM over all steps at the end (``step.grads``):

    dW_hh = sum_t dA_t^T h_{t-1}    (dA: (T*B, G*H), h: (T*B, H))
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable


class Step:
    """What every cell's step shares: the state buffers and the carried gradients.

    A subclass sets ``has_c`` (an LSTM-like state), lists its parameters (``params(cell)``, the tensors the
    Function differentiates), and writes ``forward(t, n)``, ``backward(t, n, dh, dc) -> (dh_prev, dc_prev)``
    (``dh``, ``dc``: everything that flows into the state after step t, ``(n, H)`` views of the carried
    gradients, which a step may overwrite with dL/dh_{t-1}, dL/dc_{t-1} and return) and
    ``grads() -> gradients of params``.
    """

    has_c = False

    def __init__(self, cell, xp: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor | None, params: tuple,
                 sizes: list[int]):
        self.cell, self.xp, self.params, self.sizes = cell, xp, params, sizes
        T, B, _ = xp.shape
        self.full = all(n == B for n in sizes)  # no row ends early
        self.T, self.B, self.H = T, B, h0.shape[1]
        self.hs = xp.new_empty(T + 1, B, self.H)  # (T+1, B, H): h_0 .. h_T
        self.hs[0] = h0
        if self.has_c:
            self.cs = xp.new_empty(T + 1, B, self.H)  # (T+1, B, H): c_0 .. c_T
            self.cs[0] = c0
        self.dA = None  # (T, B, G*H) in the backward: the gradients of the pre-activations
        # buffers are allocated empty (zero-filling them costs a pass over memory): the rows of ended
        # sequences are zeroed step by step, in these (indexed by step t; the states by t + 1), since they
        # enter the sums over all steps (multiplied by zero gradients) and past a row's length h is zero
        self.dead_rows: list[torch.Tensor] = []  # forward buffers (T, B, ...)
        self.dead_grad_rows: list[torch.Tensor] = []  # backward buffers (T, B, ...)

    @staticmethod
    def params(cell) -> tuple:
        return (cell.weight_hh,)

    def per_step(self, buffer: torch.Tensor, first: int = 0) -> list[torch.Tensor]:
        """``buffer[first + t, :n_t]`` for every step t: made once, since a view costs as much as a small
        operation (~3 µs), and a step would otherwise make a dozen."""
        if self.full:
            return buffer[first:first + self.T].unbind(0)
        return [buffer[first + t, :n] for t, n in enumerate(self.sizes)]

    def start_backward(self) -> None:
        self.dA = torch.empty_like(self.xp)
        self.dead_grad_rows.append(self.dA)

    def zero_dead_rows(self, t: int, n: int) -> None:
        """Rows n.. have ended before step t: their state after it, and what step t saves of them, is zero."""
        for s in (self.hs, self.cs) if self.has_c else (self.hs,):
            s[t + 1, n:] = 0
        for buffer in self.dead_rows:
            buffer[t, n:] = 0

    def hh_weight_grad(self, dA: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        """``sum_t dA_t^T inputs_t`` over every step and row: one GEMM, ``(G'*H, H)``."""
        return dA.reshape(-1, dA.shape[-1]).t().mm(inputs.reshape(-1, inputs.shape[-1]))


class CpuRecurrence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, step_type, cell, sizes, xp, h0, c0, *params):
        run = step_type(cell, xp, h0, c0, params, sizes)
        for t, n in enumerate(sizes):
            run.forward(t, n)
            if n < run.B:
                run.zero_dead_rows(t, n)
        ctx.run, ctx.sizes, ctx.has_c0 = run, sizes, c0 is not None
        # views, not the buffers themselves: the buffers are kept for the backward, and an output kept on
        # ctx would make a reference cycle through its grad_fn
        return (run.hs[:], run.cs[:]) if run.has_c else run.hs[:]

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_hs, grad_cs=None):
        run, sizes = ctx.run, ctx.sizes
        del ctx.run  # the saved activations are freed once the gradients are out
        run.start_backward()
        dh = torch.zeros_like(grad_hs[0], memory_format=torch.contiguous_format)  # (B, H): what flows into h_t
        dc = torch.zeros_like(dh) if run.has_c else None
        full = run.full
        gh, gc = grad_hs.unbind(0), grad_cs.unbind(0) if run.has_c else None
        for t in range(len(sizes) - 1, -1, -1):
            n = sizes[t]
            if n < run.B:
                for buffer in run.dead_grad_rows:
                    buffer[t, n:] = 0
            dh_t = (dh if full else dh[:n]).add_(gh[t + 1] if full else gh[t + 1][:n])  # (n, H): all into h_t
            dc_t = (dc if full else dc[:n]).add_(gc[t + 1] if full else gc[t + 1][:n]) if run.has_c else None
            dh_prev, dc_prev = run.backward(t, n, dh_t, dc_t)  # a step may return dh_t, dc_t, overwritten
            if dh_prev is not dh_t:
                dh_t.copy_(dh_prev)
            if run.has_c and dc_prev is not dc_t:
                dc_t.copy_(dc_prev)
        dh += grad_hs[0]
        if run.has_c:
            dc += grad_cs[0]
        grads = run.grads()
        return (None, None, None, run.dA, dh, dc if ctx.has_c0 else None, *grads)
