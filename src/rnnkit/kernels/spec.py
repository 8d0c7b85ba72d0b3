"""What the fused kernels need to know of a cell: plain data, importable without triton."""

from __future__ import annotations

import os
from typing import NamedTuple

# cell ids, compile-time constants of the kernels (fused_cells: per-tile steps; fused_rows, fused_ln_lstm: whole rows)
ELMAN, SIMPLE_LSTM, LSTM, GRU, GRU_COURSE, LN_LSTM = 0, 1, 2, 3, 4, 5
ROW_CELLS = (GRU_COURSE, LN_LSTM)  # their step needs every unit of a row mid-step
ACTIVATION_IDS = {"tanh": 0, "relu": 1, "sigmoid": 2}


class FusedSpec(NamedTuple):
    cell: int  # one of the ids above
    act: int = 0  # ACTIVATION_IDS
    leaky: bool = False  # MTRNN
    peep: bool = False
    coupled: bool = False
    gates: int = 1  # G
    saved: int = 1  # NS, saved activations per unit and step
    has_c: bool = False


def interpreted() -> bool:
    """Triton runs kernels through its interpreter (on a CPU): ``TRITON_INTERPRET=1``."""
    return os.environ.get("TRITON_INTERPRET") == "1"
