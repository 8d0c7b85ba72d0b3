"""Layers: the loop over time (``Recurrent``), both directions (``Bidirectional``), depth (``Stacked``),
and ``build_rnn``, which assembles them from a cell name."""

from __future__ import annotations

from rnnkit.cells import init_cell_, make_cell
from rnnkit.layers.bidirectional import Bidirectional
from rnnkit.layers.recurrent import ENGINES, Recurrent
from rnnkit.layers.stacked import Stacked
from rnnkit.layers.state import detach_state, map_state, reverse_padded


def build_rnn(
    cell: str,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    bidirectional: bool = False,
    dropout: float = 0.0,
    residual: bool = False,
    engine: str = "auto",
    init: str = "default",
    spectral_radius: float = 1.0,
    forget_bias: float | None = None,
    **cell_options,
) -> Stacked:
    """A (possibly deep, possibly bidirectional) RNN of ``num_layers`` layers of cell ``cell``.

    >>> rnn = build_rnn("lstm", 16, 32, num_layers=2, bidirectional=True)
    >>> outputs, state = rnn(torch.randn(4, 10, 16))   # outputs (4, 10, 64)
    """
    from rnnkit.errors import RnnkitError

    if not isinstance(num_layers, int) or num_layers < 1:
        raise RnnkitError(f"number of layers must be a positive integer, got {num_layers!r}")

    def new_cell(size_in: int):
        c = make_cell(cell, size_in, hidden_size, **cell_options)
        return init_cell_(c, init, spectral_radius, forget_bias if c.forget_gate is not None else None)

    layers = []
    size = input_size
    for _ in range(num_layers):
        if bidirectional:
            layer = Bidirectional(new_cell(size), new_cell(size), engine=engine)
        else:
            layer = Recurrent(new_cell(size), engine=engine)
        layers.append(layer)
        size = layer.output_size
    return Stacked(layers, dropout=dropout, residual=residual)


__all__ = [
    "ENGINES", "Bidirectional", "Recurrent", "Stacked", "build_rnn", "detach_state", "map_state",
    "reverse_padded",
]
