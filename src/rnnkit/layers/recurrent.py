"""The loop over time: ``Recurrent(cell)`` applies one cell to a whole batch of sequences."""

from __future__ import annotations

import torch
from torch import nn

from rnnkit.cells.base import RecurrentCell
from rnnkit.errors import RnnkitError, unknown_choice
from rnnkit.layers.state import map_state, reverse_padded
from rnnkit.layers.torch_engine import run_torch, torch_kernel

ENGINES = ("auto", "loop", "torch")


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
    cell through torch's fused RNN kernel with the same weights (standard cells only); ``"auto"`` picks
    ``"torch"`` where it is valid and ``"loop"`` otherwise. ``engine_used`` says which one ran.
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
        self.cell, self.reverse, self.engine = cell, reverse, engine

    @property
    def engine_used(self) -> str:
        if self.engine == "auto":
            return "torch" if torch_kernel(self.cell) is not None else "loop"
        return self.engine

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
        run = run_torch if self.engine_used == "torch" else self.loop
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

    def extra_repr(self) -> str:
        return f"reverse={self.reverse}, engine={self.engine!r}"
