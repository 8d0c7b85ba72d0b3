"""The loop over time: ``Recurrent(cell)`` applies one cell to a whole batch of sequences."""

from __future__ import annotations

import torch
from torch import nn

from rnnkit.cells.base import RecurrentCell
from rnnkit.cells.min_rnn import ScanCell
from rnnkit.errors import RnnkitError, unknown_choice
from rnnkit.layers.cpu_engine import cpu_step, run_cpu
from rnnkit.layers.linear_sweep import sweep_cell, sweeps
from rnnkit.layers.fused_engine import (MODES, choose_gpu_engine, fused_spec, persistent_fits, run_fused, triton_available,
                                       triton_runs_on)
from rnnkit.layers.state import map_state, reverse_padded
from rnnkit.layers.torch_engine import run_torch, torch_kernel

ENGINES = ("auto", "loop", "torch", "scan", "cpu", "fused", "fused-step", "fused-persistent")


def check_lengths(lengths: torch.Tensor | None, B: int, T: int) -> torch.Tensor | None:
    if lengths is None:
        return None
    lengths = torch.as_tensor(lengths)
    if lengths.shape != (B,) or lengths.dtype.is_floating_point:
        raise RnnkitError(f"lengths must be an integer tensor of shape ({B},), got {tuple(lengths.shape)} {lengths.dtype}")
    if bool((lengths < 1).any()) or bool((lengths > T).any()):
        raise RnnkitError(f"lengths must lie in 1..{T} (the padded length), got {lengths.tolist()}")
    return lengths.long()


class Recurrent(nn.Module):
    """Unrolls ``cell`` over time: ``outputs, state = Recurrent(cell)(x, state=None, lengths=None)``.

        x (B, T, F) -> outputs (B, T, H), final state (B, H) or LSTMState

    ``state`` in: the state to start from (zero if None), so a caller can carry it across chunks
    (stateful and truncated BPTT). ``lengths (B,)``: sequence b has ``lengths[b]`` valid steps; past
    them its state is frozen and its outputs are zero. ``reverse=True`` reads each sequence backwards
    within its own length (for ``Bidirectional``) and returns outputs in the original order.

    ``engine``: ``"loop"`` is the readable Python loop over ``cell(x_t, state)``; ``"torch"`` runs the
    cell through torch's fused RNN kernel with the same weights (standard cells only); ``"scan"`` runs a
    ``ScanCell`` (minGRU, minLSTM) in its parallel mode, the whole sequence in one log-domain scan;
    ``"cpu"`` runs the whole sequence in one autograd Function (``cpu_engine``: one GEMM per step);
    ``"fused-step"`` and ``"fused-persistent"`` run the Triton kernels of ``rnnkit.kernels`` (``recurrence.py``, ``rows.py``) (one
    launch per step, or one for the whole sequence), ``"fused"`` the persistent one where it fits the
    GPU and per-step otherwise; on a CPU, where Triton runs only under ``TRITON_INTERPRET=1`` (for
    tests), ``"fused"`` acts as ``"auto"``, so a model trained with it on a GPU samples on a CPU. ``"auto"`` picks
    ``"scan"`` for scan cells; on a GPU, by shape, the persistent kernel, cuDNN (``"torch"``) or the
    per-step kernel (``fused_engine.choose_gpu_engine``); on a CPU ``"torch"`` where valid and
    ``"cpu"`` otherwise. ``engine_used`` says which one ran last (or would run, before the first
    call). The scan and cpu engines still take a single step (T = 1, as in generation) through the cell's
    sequential mode.
    """

    def __init__(self, cell: RecurrentCell, reverse: bool = False, engine: str = "auto"):
        super().__init__()
        if engine not in ENGINES:
            raise unknown_choice("engine", engine, ENGINES)
        if engine == "torch" and torch_kernel(cell) is None:
            raise RnnkitError(
                f"engine 'torch' cannot run {cell!r}: torch implements only the tanh/relu Elman RNN, "
                "the standard LSTM and the reset-after GRU; use engine 'auto' or 'loop'"
            )
        if engine == "scan" and not isinstance(cell, ScanCell):
            raise RnnkitError(
                f"engine 'scan' cannot run {cell!r}: only cells whose gates see x_t alone (mingru, minlstm) "
                "have a parallel mode; use engine 'auto' or 'loop'"
            )
        if engine == "cpu" and cpu_step(cell) is None:
            raise RnnkitError(f"engine 'cpu' cannot run {cell!r}: use engine 'auto', 'loop' or 'scan' (min-cells)")
        if engine.startswith("fused") and fused_spec(cell) is None:
            raise RnnkitError(
                f"engine {engine!r} cannot run {cell!r}: the fused kernels implement the Elman (tanh, relu, "
                "sigmoid), MTRNN, simple, standard, peephole, coupled and layer-normalised LSTM and both GRUs; "
                "use engine 'auto' or 'loop' (or 'scan' for the min-cells)"
            )
        if engine in MODES and not triton_available():
            raise RnnkitError(f"engine {engine!r} needs triton (pip install triton); use engine 'auto'")
        self.cell, self.reverse, self.engine = cell, reverse, engine
        self.last_engine: str | None = None

    def pick_engine(self, batch: int | None = None, device=None) -> str:
        """The concrete engine for a batch of ``batch`` rows on ``device`` (None: not known yet)."""
        device = torch.device(device) if device is not None else self.cell.weight_ih.device
        on_gpu = device.type == "cuda" and batch is not None
        if self.engine == "fused" and triton_runs_on(device):
            return "fused-persistent" if on_gpu and persistent_fits(self.cell, batch, device) else "fused-step"
        if self.engine not in ("auto", "fused"):  # 'fused' where Triton cannot run: as 'auto'
            return self.engine
        if isinstance(self.cell, ScanCell):
            return "scan"
        has_torch = torch_kernel(self.cell) is not None
        if on_gpu:
            return choose_gpu_engine(self.cell, batch, has_torch)
        return "torch" if has_torch else "cpu" if cpu_step(self.cell) is not None else "loop"

    @property
    def engine_used(self) -> str:
        return self.last_engine or self.pick_engine()

    @property
    def output_size(self) -> int:
        return self.cell.hidden_size

    def init_state(self, batch: int, device=None, dtype=None):
        return self.cell.init_state(batch, device, dtype)

    def forward(self, x: torch.Tensor, state=None, lengths: torch.Tensor | None = None):
        if x.dim() != 3 or x.shape[2] != self.cell.input_size:
            raise RnnkitError(
                f"expected input of shape (batch, time, {self.cell.input_size}), got {tuple(x.shape)}"
            )
        B, T, _ = x.shape
        lengths = check_lengths(lengths, B, T)
        if state is None:
            state = self.cell.init_state(B, x.device, x.dtype)
        if self.reverse:
            x = reverse_padded(x, lengths)
        engine = self.last_engine = self.pick_engine(B, x.device)
        if engine in MODES:
            outputs, state = run_fused(self.cell, x, state, lengths, MODES[engine])
        else:
            run = (run_torch if engine == "torch" else self.run_scan if engine == "scan" and T > 1
                   else run_cpu if engine == "cpu" and T > 1 else self.loop)
            outputs, state = run(self.cell, x, state, lengths)
        if self.reverse:
            outputs = reverse_padded(outputs, lengths)
        return outputs, state

    @staticmethod
    def loop(cell: RecurrentCell, x: torch.Tensor, state, lengths: torch.Tensor | None):
        """The readable engine: one ``cell(x_t, state)`` call per time step."""
        outputs = []
        for t in range(x.shape[1]):
            out, new_state = cell(x[:, t], state)  # (B, H)
            if lengths is not None:  # rows that have ended keep their state and output zeros
                alive = (lengths > t).to(x.device).unsqueeze(1)  # (B, 1)
                new_state = map_state(lambda new, old: torch.where(alive, new, old), new_state, state)
                out = out * alive
            state = new_state
            outputs.append(out)
        return torch.stack(outputs, dim=1), state  # (B, T, H)

    @staticmethod
    def run_scan(cell: ScanCell, x: torch.Tensor, state, lengths: torch.Tensor | None):
        """The parallel engine: every step at once, ``h = cell.parallel(x, h_0)`` (on a CPU, from B*H = 128,
        the same coefficients in the linear domain and one sweep: ``linear_sweep.sweep_cell``).

        A row's steps past its length do not change its earlier ones (the recurrence is causal), so the
        padding is scanned like the rest; the final state is taken at each row's last valid step.
        """
        h = sweep_cell(cell, x, state) if sweeps(cell, x) else cell.parallel(x, state)  # (B, T, H)
        if lengths is None:
            return h, h[:, -1]
        last = (lengths.to(x.device) - 1).view(-1, 1, 1).expand(-1, 1, h.shape[2])  # (B, 1, H)
        alive = torch.arange(x.shape[1], device=x.device).unsqueeze(0) < lengths.to(x.device).unsqueeze(1)
        return h * alive.unsqueeze(2), h.gather(1, last).squeeze(1)  # (B, T, H), (B, H)

    def extra_repr(self) -> str:
        return f"reverse={self.reverse}, engine={self.engine!r}"
