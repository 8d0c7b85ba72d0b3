"""What the fused kernels need to know of a cell and of a launch: plain data, importable without triton.

The kernels read the same names as Triton compile-time constants (``rnnkit.kernels.constants``), so every
cell id and every saved slot below is written once, here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import NamedTuple

# Cell ids (the kernels' CELL): the steps in rnnkit/kernels/steps/<cell>.py. ELMAN also runs MTRNN (LEAKY).
ELMAN, SIMPLE_LSTM, LSTM, GRU, GRU_COURSE, LN_LSTM = 0, 1, 2, 3, 4, 5
CELL_NAMES = {ELMAN: "elman", SIMPLE_LSTM: "simple_lstm", LSTM: "lstm", GRU: "gru", GRU_COURSE: "gru_course",
              LN_LSTM: "ln_lstm"}
ROW_CELLS = (GRU_COURSE, LN_LSTM)  # their step needs every unit of a row mid-step (rnnkit/kernels/rows.py)

# Activation ids (the kernels' ACT) of the Elman cell.
TANH, RELU, SIGMOID = 0, 1, 2
ACTIVATION_IDS = {"tanh": TANH, "relu": RELU, "sigmoid": SIGMOID}

# The row cells' saved activations ``sv (B, T, slots, H)``, written by the forward step, read by the
# backward step and by the weight gradients after it.
GRU_COURSE_R, GRU_COURSE_Z, GRU_COURSE_N = 0, 1, 2  # the gates r, z and the candidate n
GRU_COURSE_SLOTS = 3
LN_LSTM_PRODUCT = 0  # slots 0-3: N(W_hk h_{t-1}) for the gates k = i, f, g, o (slot PRODUCT + k)
LN_LSTM_I, LN_LSTM_F, LN_LSTM_G, LN_LSTM_O = 4, 5, 6, 7  # the gates
LN_LSTM_NC = 8  # N(c_t)
LN_LSTM_SLOTS = 9
# ... and its per-row statistics ``stats (B, T, LN_LSTM_STATS)``: 1/std of each gate's recurrent product
# (slot k for gate k) and of c_t.
LN_LSTM_STAT_C = 4
LN_LSTM_STATS = 5


class FusedSpec(NamedTuple):
    cell: int  # one of the cell ids above
    act: int = TANH  # ACTIVATION_IDS (Elman)
    leaky: bool = False  # MTRNN: h_t = (1 - α) h_{t-1} + α u
    peep: bool = False  # LSTM: peephole connections
    coupled: bool = False  # LSTM: i = 1 - f
    gates: int = 1  # G: gate blocks in W_ih, W_hh
    saved: int = 1  # NS: saved activations per unit and step (the slots of sv)
    has_c: bool = False  # a memory cell c beside h


@dataclass(frozen=True)
class LaunchMode:
    """How the recurrence is launched: ``STEP`` or ``PERSISTENT`` (docs/fused.md, "Design").

    ``sms`` (tests): the persistent kernel with the tiles it would get on a GPU of that many SMs,
    launched once a step without its grid barrier, so several of its programs run under the interpreter
    (which runs programs one after another: a barrier between two would wait forever)."""

    persistent: bool  # False: one launch per time step, W_hh streamed; True: one launch for the sequence
    sms: int | None = None  # persistent only: the tiles of a GPU with this many SMs, no barrier (tests)

    def __post_init__(self):
        if self.sms is not None and (not self.persistent or self.sms < 1):
            raise ValueError(f"LaunchMode(sms={self.sms}) needs persistent=True and at least one SM")

    @property
    def barrier(self) -> bool:
        """The persistent launch's grid barrier between steps (one launch for all T steps)."""
        return self.persistent and self.sms is None

    def __str__(self) -> str:
        if not self.persistent:
            return "step"
        return "persistent" if self.sms is None else f"persistent (tiles of {self.sms} SMs, one launch a step)"


STEP = LaunchMode(persistent=False)
PERSISTENT = LaunchMode(persistent=True)


def interpreted() -> bool:
    """Triton runs kernels through its interpreter (on a CPU): ``TRITON_INTERPRET=1``."""
    return os.environ.get("TRITON_INTERPRET") == "1"
