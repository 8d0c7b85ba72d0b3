"""Layers: the loop over time (``Recurrent``), both directions (``Bidirectional``), depth (``Stacked``),
their settings (``RNNConfig``) and ``build_rnn``, which assembles them from a config or a cell name.

The submodules are imported on first use, so ``rnnkit.layers.config`` (pure Python) never loads torch.
"""

from __future__ import annotations

import importlib

#: Public name -> the submodule that defines it (imported on first use).
_LAZY = {
    "ENGINES": "recurrent", "Recurrent": "recurrent", "Bidirectional": "bidirectional", "Stacked": "stacked",
    "detach_state": "state", "map_state": "state", "reverse_padded": "state", "RNNConfig": "config",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"rnnkit.layers.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'rnnkit.layers' has no attribute {name!r}")


def build_rnn(cell, input_size: int, *args, **kwargs):
    """A (possibly deep, possibly bidirectional) RNN of ``num_layers`` layers of cell ``cell``.

    ``cell`` is an ``RNNConfig`` (the whole stack's settings; keyword arguments given beside it replace
    its fields, as a model that fixes one does: ``build_rnn(config.rnn, E, bidirectional=False)``) or a
    cell name with the settings as arguments:

    >>> rnn = build_rnn("lstm", 16, 32, num_layers=2, bidirectional=True)
    >>> outputs, state = rnn(torch.randn(4, 10, 16))   # outputs (4, 10, 64)
    """
    from rnnkit.layers.config import RNNConfig

    if isinstance(cell, RNNConfig):
        c = cell
        settings = dict(hidden_size=c.hidden, num_layers=c.layers, bidirectional=c.bidirectional, dropout=c.dropout,
                        residual=c.residual, engine=c.engine, init=c.init, spectral_radius=c.spectral_radius,
                        forget_bias=c.forget_bias, **c.cell_options())
        return _build_stack(c.cell, input_size, *args, **{**settings, **kwargs})
    return _build_stack(cell, input_size, *args, **kwargs)


def _build_stack(
    cell: str,
    input_size: int,
    hidden_size: int | None = None,
    num_layers: int = 1,
    bidirectional: bool = False,
    dropout: float = 0.0,
    residual: bool = False,
    engine: str = "auto",
    init: str = "default",
    spectral_radius: float = 1.0,
    forget_bias: float | None = None,
    **cell_options,
):
    """``build_rnn`` of a cell name, every setting an argument."""
    from rnnkit.cells import init_cell_, make_cell
    from rnnkit.errors import RnnkitError
    from rnnkit.layers.bidirectional import Bidirectional
    from rnnkit.layers.recurrent import Recurrent
    from rnnkit.layers.stacked import Stacked

    if hidden_size is None:
        raise TypeError("build_rnn(cell_name, input_size, hidden_size, ...): hidden_size is required with a cell name")
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
    "ENGINES", "Bidirectional", "RNNConfig", "Recurrent", "Stacked", "build_rnn", "detach_state", "map_state",
    "reverse_padded",
]
