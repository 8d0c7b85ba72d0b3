"""The course's recurrent cells, one small module each, and a registry of them by name.

Every cell computes one step, ``output, state = cell(x_t, state)``, and makes its zero state with
``cell.init_state(batch, device, dtype)``. ``make_cell("lstm", 10, 20)`` builds one by name.
"""

from __future__ import annotations

from functools import partial

from rnnkit.cells.base import LSTMState, RecurrentCell, State
from rnnkit.cells.elman import ElmanCell
from rnnkit.cells.gru import GRUCell
from rnnkit.cells.init import INITS, init_cell_, spectral_radius
from rnnkit.cells.ln_lstm import LayerNormLSTMCell
from rnnkit.cells.lstm import LSTMCell
from rnnkit.cells.min_rnn import MinGRUCell, MinLSTMCell, ScanCell
from rnnkit.cells.mtrnn import MTRNNCell
from rnnkit.cells.simple_lstm import SimpleLSTMCell
from rnnkit.errors import RnnkitError, unknown_choice

#: name -> constructor(input_size, hidden_size, **options)
CELLS = {
    "elman": partial(ElmanCell, activation="tanh"),
    "elman-relu": partial(ElmanCell, activation="relu"),
    "elman-sigmoid": partial(ElmanCell, activation="sigmoid"),
    "simple-lstm": SimpleLSTMCell,
    "lstm": LSTMCell,
    "peephole-lstm": partial(LSTMCell, peephole=True),
    "coupled-lstm": partial(LSTMCell, coupled=True),
    "ln-lstm": LayerNormLSTMCell,
    "gru": GRUCell,
    "gru-course": partial(GRUCell, reset_after=False),
    "mtrnn": MTRNNCell,
    "mingru": MinGRUCell,
    "minlstm": MinLSTMCell,
}


def make_cell(name: str, input_size: int, hidden_size: int, **options) -> RecurrentCell:
    """Build the cell registered as ``name``; ``options`` go to its constructor (e.g. ``tau=4``)."""
    if name not in CELLS:
        raise unknown_choice("cell", name, CELLS)
    try:
        return CELLS[name](input_size, hidden_size, **options)
    except TypeError as e:  # an option this cell does not take
        raise RnnkitError(f"cell {name!r} does not accept these options {sorted(options)}: {e}") from None


__all__ = [
    "CELLS", "INITS", "ElmanCell", "GRUCell", "LSTMCell", "LSTMState", "LayerNormLSTMCell", "MTRNNCell",
    "MinGRUCell", "MinLSTMCell", "RecurrentCell", "ScanCell", "SimpleLSTMCell", "State", "init_cell_", "make_cell",
    "spectral_radius",
]
