"""Run a cell through the CPU engine (``engine="cpu"``): the whole sequence in one autograd Function.

For the cells torch has no kernel for (the peephole, coupled, layer-normalised and simple LSTM, the
course's reset-before GRU, the sigmoid Elman RNN, the MTRNN), and for the standard ones when asked by
name. The input's part of every gate at every step is one GEMM before the loop; the loop does one
recurrent GEMM and the cell's fused element-wise work per step (``cpu_steps``, ``cpu_ln_lstm``); the
backward runs the recurrence in reverse inside the Function and forms the weight gradients as one GEMM
over all steps (``cpu_recurrence``). ``run_cpu`` has the contract of ``Recurrent.loop``.

``engine="auto"`` on a CPU: torch's kernel (``"torch"``) for the cells it implements (tanh/ReLU Elman,
LSTM, reset-after GRU), the parallel scan for minGRU/minLSTM, and this engine for every other cell.
"""

from __future__ import annotations

import torch
from torch import nn

from rnnkit.cells import ElmanCell, GRUCell, LayerNormLSTMCell, LSTMCell, LSTMState, MTRNNCell, SimpleLSTMCell
from rnnkit.cells.base import RecurrentCell
from rnnkit.cells.ln_lstm import EPS
from rnnkit.layers.cpu_ln_lstm import LayerNormLSTMStep
from rnnkit.layers.cpu_recurrence import CpuRecurrence
from rnnkit.layers.cpu_steps import ElmanStep, GRUCourseStep, GRUStep, LSTMStep, SimpleLSTMStep

#: the cells the engine runs (exactly these classes: a subclass may change the equations)
STEPS = {ElmanCell: ElmanStep, MTRNNCell: ElmanStep, SimpleLSTMCell: SimpleLSTMStep, LSTMCell: LSTMStep,
         LayerNormLSTMCell: LayerNormLSTMStep}


def cpu_step(cell: RecurrentCell):
    """The ``Step`` class that runs ``cell``, or None when the engine does not implement it."""
    kind = type(cell)
    if kind is GRUCell:
        return GRUStep if cell.reset_after else GRUCourseStep
    return STEPS.get(kind)


def input_projection(cell: RecurrentCell, step, x: torch.Tensor) -> torch.Tensor:
    """``xp (T, B, G*H)``: the input's part of every gate at every step, time-major, one GEMM.

    Every bias that enters the gates unchanged is added here (both, except for the reset-after GRU,
    whose ``b_hn`` is gated by r); the LN-LSTM's input product is normalised here too."""
    xt = x.transpose(0, 1)  # (T, B, F)
    if step is LayerNormLSTMStep:  # N of each gate block: layer_norm over the last of (T, B, 4, H), as cells.normalise
        T, B, _ = xt.shape
        m = nn.functional.linear(xt, cell.weight_ih).view(T, B, 4, -1)  # (T, B, 4, H)
        normed = nn.functional.layer_norm(m, m.shape[-1:], eps=EPS).view(T, B, -1)  # (T, B, 4H)
        return torch.addcmul(cell.bias_ih + cell.bias_hh, cell.ln_gain_ih, normed)
    bias = cell.bias_ih if step is GRUStep else cell.bias_ih + cell.bias_hh
    return nn.functional.linear(xt, cell.weight_ih, bias)


def run_cpu(cell: RecurrentCell, x: torch.Tensor, state, lengths: torch.Tensor | None):
    """The whole sequence ``x (B, T, F)``: ``(outputs (B, T, H), final state)``.

    With ``lengths``, the rows are sorted longest first, so the rows alive at a step are a prefix of the
    batch; outputs past a row's length are zero and its final state is the one at its length.
    The recurrence runs in float64 for float64 inputs and in float32 otherwise.
    """
    step = cpu_step(cell)
    B, T, _ = x.shape
    dtype = x.dtype
    acc = torch.float64 if dtype == torch.float64 else torch.float32
    h0, c0 = (state.h, state.c) if cell.has_cell_state else (state, None)
    order = None
    if lengths is not None and bool((lengths < T).any()):
        lengths = lengths.to(x.device)
        order = torch.argsort(lengths, descending=True, stable=True)
        lengths = lengths[order]
        x, h0 = x[order], h0[order]
        c0 = c0[order] if c0 is not None else None
        sizes = (lengths.unsqueeze(0) > torch.arange(T, device=x.device).unsqueeze(1)).sum(1).tolist()
    else:
        sizes = [B] * T
    xp = input_projection(cell, step, x)
    params = [p.to(acc) for p in step.params(cell)]
    result = CpuRecurrence.apply(step, cell, sizes, xp.to(acc), h0.to(acc),
                                 c0.to(acc) if c0 is not None else None, *params)
    hs, cs = result if step.has_c else (result, None)  # (T+1, B, H) each
    if order is None:
        out = hs[1:].transpose(0, 1).contiguous()  # (B, T, H)
        finals = [s[T] for s in (hs, cs) if s is not None]
    else:
        unorder = torch.argsort(order)
        rows = torch.arange(B, device=x.device)
        out = hs[1:].transpose(0, 1).index_select(0, unorder)  # (B, T, H)
        finals = [s[lengths, rows].index_select(0, unorder) for s in (hs, cs) if s is not None]
    finals = [f.to(dtype) for f in finals]
    return out.to(dtype), (LSTMState(*finals) if cell.has_cell_state else finals[0])
