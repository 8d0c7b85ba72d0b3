"""Run a cell through the fused Triton kernels (``rnnkit.kernels``), and choose an engine on a GPU.

The cell's own parameters go to the kernels, so gradients reach them and every engine shares one
parameter layout. ``fused_spec(cell)`` says whether the kernels implement the cell (without importing
triton, so rnnkit runs without it); ``run_fused`` has the contract of ``Recurrent.loop``. The tile cells
run ``rnnkit.kernels.recurrence``, the whole-row cells (course GRU, LN-LSTM) ``rnnkit.kernels.rows``.
"""

from __future__ import annotations

import importlib.util

import torch
from torch import nn

from rnnkit.cells import ElmanCell, GRUCell, LSTMCell, LSTMState, MTRNNCell, SimpleLSTMCell
from rnnkit.cells.base import RecurrentCell
from rnnkit.cells.ln_lstm import LayerNormLSTMCell, normalise
from rnnkit.errors import RnnkitError
from rnnkit.kernels.spec import (ACTIVATION_IDS, ELMAN, GRU, GRU_COURSE, GRU_COURSE_SLOTS, LN_LSTM, LN_LSTM_SLOTS, LSTM,
                                 PERSISTENT, ROW_CELLS, SIMPLE_LSTM, STEP, FusedSpec, LaunchMode, interpreted)

MODES = {"fused-step": STEP, "fused-persistent": PERSISTENT}  # engine name -> how the kernels are launched


def fused_spec(cell: RecurrentCell):
    """The kernels' description of ``cell`` (a ``FusedSpec``), or None when they do not implement it."""
    kind = type(cell)
    spec = None
    if kind in (ElmanCell, MTRNNCell):
        spec = dict(cell=ELMAN, act=ACTIVATION_IDS[cell.activation], leaky=kind is MTRNNCell)
    elif kind is SimpleLSTMCell:
        spec = dict(cell=SIMPLE_LSTM, has_c=True)
    elif kind is LSTMCell:
        G = 3 if cell.coupled else 4
        spec = dict(cell=LSTM, peep=cell.peephole, coupled=cell.coupled, gates=G, saved=G, has_c=True)
    elif kind is GRUCell:
        spec = dict(cell=GRU, gates=3, saved=4) if cell.reset_after else \
            dict(cell=GRU_COURSE, gates=3, saved=GRU_COURSE_SLOTS)
    elif kind is LayerNormLSTMCell:
        spec = dict(cell=LN_LSTM, gates=4, saved=LN_LSTM_SLOTS, has_c=True)
    return None if spec is None else FusedSpec(**spec)


def triton_available() -> bool:
    return importlib.util.find_spec("triton") is not None


def triton_runs_on(device: torch.device) -> bool:
    """Triton kernels can run here: installed, and a CUDA device or its CPU interpreter."""
    return triton_available() and (device.type == "cuda" or interpreted())


def unit_parameters(cell: RecurrentCell, like: torch.Tensor) -> torch.Tensor:
    """The per-unit parameters the step reads, ``(3, H)``: peephole weights (w_ci, w_cf, w_co), or
    (w_cf, w_co) for the coupled LSTM, or MTRNN's leak rate 1/τ; zeros otherwise."""
    H = cell.hidden_size
    zero = like.new_zeros(H)
    if isinstance(cell, LSTMCell) and cell.peephole:
        names = ("w_cf", "w_co") if cell.coupled else ("w_ci", "w_cf", "w_co")
        rows = [getattr(cell, n).to(like.dtype) for n in names]
    elif isinstance(cell, MTRNNCell):
        rows = [(1.0 / cell.tau).to(like.dtype)]
    else:
        rows = []
    return torch.stack(rows + [zero] * (3 - len(rows)))


def run_fused(cell: RecurrentCell, x: torch.Tensor, state, lengths: torch.Tensor | None, mode: LaunchMode = STEP):
    """The whole sequence ``x (B, T, F)`` through the fused kernels: ``(outputs (B, T, H), final state)``.

    ``mode`` (``rnnkit.kernels.spec.LaunchMode``): ``STEP`` (one launch per time step) or ``PERSISTENT``
    (one launch for the sequence).
    The state is kept in float32 (float64 for float64 inputs) whatever the input's dtype; bfloat16 inputs
    give bfloat16 outputs. Outputs past a row's length are zero and its final state is the one at its
    length, as in the readable loop.
    """
    if not isinstance(mode, LaunchMode):
        raise RnnkitError(f"the fused launch mode must be a LaunchMode (rnnkit.kernels.spec: STEP or PERSISTENT), "
                          f"got {mode!r}")
    spec = fused_spec(cell)
    B, T, _ = x.shape
    acc = torch.float64 if x.dtype == torch.float64 else torch.float32
    h0, c0 = (state.h.to(acc), state.c.to(acc)) if cell.has_cell_state else (state.to(acc), None)
    lengths = torch.full((B,), T, device=x.device) if lengths is None else lengths
    lengths = lengths.to(device=x.device, dtype=torch.int32).contiguous()
    # the input's part of every gate at every step: one GEMM (autocast applies to it)
    xp = nn.functional.linear(x, cell.weight_ih.to(x.dtype), None if spec.cell == LN_LSTM else cell.bias_ih.to(x.dtype))
    with torch.autocast(x.device.type, enabled=False):
        xp, w_hh = xp.to(acc), cell.weight_hh.to(acc)  # (B, T, G*H), (G*H, H)
        if spec.cell == LN_LSTM:
            from rnnkit.kernels.rows import ln_lstm_recurrence

            xp = cell.ln_gain_ih.to(acc) * normalise(xp.reshape(B * T, -1), 4).view(B, T, -1) \
                + (cell.bias_ih + cell.bias_hh).to(acc)
            hs, cs = ln_lstm_recurrence(xp, w_hh, cell.ln_gain_hh.to(acc), cell.ln_gain_c.to(acc),
                                        cell.ln_bias_c.to(acc), h0, c0, lengths, mode)
        elif spec.cell == GRU_COURSE:
            from rnnkit.kernels.rows import gru_course_recurrence

            hs = gru_course_recurrence(xp, w_hh, cell.bias_hh.to(acc), h0, lengths, mode)
        else:
            from rnnkit.kernels.recurrence import fused_recurrence

            hs, cs = fused_recurrence(xp, w_hh, cell.bias_hh.to(acc), unit_parameters(cell, xp), h0, c0, lengths,
                                      spec, mode)
    out = hs[:, 1:]  # (B, T, H)
    alive = torch.arange(T, device=x.device).unsqueeze(0) < lengths.unsqueeze(1)  # (B, T)
    out = out * alive.unsqueeze(2)
    dtype = x.dtype
    final = LSTMState(hs[:, T].to(dtype), cs[:, T].to(dtype)) if spec.has_c else hs[:, T].to(dtype)
    return out.to(dtype), final


def persistent_fits(cell: RecurrentCell, B: int, device) -> bool:
    from rnnkit.kernels.tiling import persistent_tiles

    spec = fused_spec(cell)
    if spec is None:
        return False
    return spec.cell in ROW_CELLS or persistent_tiles(B, cell.hidden_size, device, spec.gates) is not None


def choose_gpu_engine(cell: RecurrentCell, B: int, has_torch_kernel: bool) -> str:
    """``engine="auto"`` on a GPU, by shape (the rule from the measurements the design rests on; the
    figures that confirm it for this code come from ``benchmarks/gpu.py``):

    - a small batch (B <= 8) with H <= 512: the persistent kernel (3.5-5.8x cuDNN's forward in the
      design's H100 measurement, where a step is latency-bound), if the tile fits the GPU;
    - otherwise cuDNN for the cells it implements (it wins when the step is arithmetic-bound);
    - otherwise the fused kernels (persistent if it fits, else per-step): any variant cell.
    """
    device = cell.weight_ih.device
    if not triton_available() or fused_spec(cell) is None:
        return "torch" if has_torch_kernel else "loop"
    persistent = persistent_fits(cell, B, device)
    if has_torch_kernel and not (B <= 8 and cell.hidden_size <= 512 and persistent):
        return "torch"
    return "fused-persistent" if persistent else "fused-step"
