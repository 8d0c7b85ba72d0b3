"""rnnkit's layers as ONNX: the loop over time (``Recurrent``), both directions (``Bidirectional``) and depth
(``Stacked``), for any batch size and any sequence length (dynamic axes; nothing is unrolled).

Each direction runs as ONNX's own ``RNN``/``LSTM``/``GRU`` operator where the cell is one of them
(``recurrence="native"``), else as a ``Scan`` whose body is the cell's step (``rnnkit.export.cells``);
``recurrence="scan"`` uses the Scan for every cell. Variable lengths keep rnnkit's contract: past its length
a row's state is frozen and its outputs are zero; a reversed direction reads each row backwards within
its own length (``ReverseSequence``).

A layer's state is a list of names, ``[h]`` or ``[h, c]`` (each ``(B, H)``); a bidirectional layer's is
``[fwd, bwd]`` of those; a stack's is one entry per layer.
"""

from __future__ import annotations

import numpy as np

from rnnkit.export import cells as C
from rnnkit.export.graph import BOOL, FLOAT, INT32, Graph, dim, squeeze, unsqueeze, zeros_like_rows

RECURRENCES = ("native", "scan")


def is_bidirectional(layer) -> bool:
    return hasattr(layer, "fwd")


def zero_state(g: Graph, cell, x: str) -> list[str]:
    """The zero state of ``cell`` for the batch of ``x (B, ...)``."""
    return [zeros_like_rows(g, x, cell.hidden_size) for _ in range(C.components(cell))]


def full_lengths(g: Graph, x: str) -> str:
    """``(B,)`` int64, every row of ``x (B, T, F)`` as long as T."""
    return g.op("Expand", dim(g, x, 1), dim(g, x, 0))


def alive_mask(g: Graph, x: str, lengths: str) -> str:
    """``(B, T, 1)`` bool: step t of row b is within its length."""
    T = squeeze(g, dim(g, x, 1), 0)
    steps = unsqueeze(g, g.op("Range", g.const(0, "zero"), T, g.const(1, "one")), 0)  # (1, T)
    return unsqueeze(g, g.op("Less", steps, unsqueeze(g, lengths, 1)), 2)


def scan_direction(g: Graph, cell, x: str, lengths: str | None, state: list[str], reverse: bool):
    """One direction as a Scan over time: ``(outputs (B, T, H), final state)``."""
    if reverse:
        lengths = lengths or full_lengths(g, x)
        x = g.op("ReverseSequence", x, lengths, batch_axis=0, time_axis=1)
    xp = C.projection(g, cell, x)  # (B, T, G*H): one product for the whole sequence
    body = g.subgraph(g.fresh("step"))
    inputs = [body.input(body.fresh("state_in"), FLOAT, [None, cell.hidden_size]) for _ in state]
    xp_t = body.input(body.fresh("xp_t"), FLOAT, [None, None])
    out, new = C.step(body, cell, xp_t, inputs)
    if lengths is not None:  # rows that have ended keep their state and output zeros
        alive = body.input(body.fresh("alive_t"), BOOL, [None, 1])
        new = [body.op("Where", alive, n, old) for n, old in zip(new, inputs)]
        out = body.op("Where", alive, out, body.scalar(0.0))
    for n in new:
        body.output(n, body.fresh("state_out"), FLOAT, [None, cell.hidden_size])
    body.output(out, body.fresh("out_t"), FLOAT, [None, cell.hidden_size])
    scanned = [xp] + ([alive_mask(g, x, lengths)] if lengths is not None else [])
    results = g.op("Scan", *state, *scanned, outputs=len(state) + 1, body=body.proto(),
                   num_scan_inputs=len(scanned), scan_input_axes=[1] * len(scanned), scan_output_axes=[1])
    *final, outputs = results
    if reverse:
        outputs = g.op("ReverseSequence", outputs, lengths, batch_axis=0, time_axis=1)
    return outputs, list(final)


def native_directions(g: Graph, cells: list, x: str, lengths: str | None, states: list[list[str]]):
    """One or two directions in one ONNX RNN/LSTM/GRU node: ``(outputs (B, T, D*H), [final state per direction])``."""
    op, blocks = C.native(cells[0])
    H, D = cells[0].hidden_size, len(cells)
    W, R, B = (g.const(a, "w") for a in C.native_weights(cells, blocks))
    seq = g.op("Cast", lengths, to=INT32) if lengths is not None else ""
    inits = [g.op("Concat", *[unsqueeze(g, s[k], 0) for s in states], axis=0) for k in range(len(states[0]))]
    attrs = dict(hidden_size=H, direction="bidirectional" if D == 2 else "forward")
    if op == "GRU":
        attrs["linear_before_reset"] = 1
    if op == "RNN":
        attrs["activations"] = [C.ACT[cells[0].activation]] * D
    X = g.op("Transpose", x, perm=[1, 0, 2])  # (T, B, F)
    results = g.op(op, X, W, R, B, seq, *inits, outputs=1 + len(inits), **attrs)
    Y, finals = results[0], results[1:]
    out = g.op("Reshape", g.op("Transpose", Y, perm=[2, 0, 1, 3]), g.ints(0, 0, -1))  # (T, D, B, H) -> (B, T, D*H)
    if lengths is not None:  # zero past each row's length, whatever the runtime leaves there
        out = g.op("Where", alive_mask(g, x, lengths), out, g.scalar(0.0))
    per_direction = [[g.op("Gather", f, g.const(np.array(d, dtype=np.int64), "d"), axis=0) for f in finals] for d in range(D)]
    return out, per_direction


def run_layer(g: Graph, layer, x: str, lengths: str | None, state, recurrence: str):
    """A ``Recurrent`` or ``Bidirectional`` layer over ``x (B, T, F)``: ``(outputs, final state)``."""
    if is_bidirectional(layer):
        cells = [layer.fwd.cell, layer.bwd.cell]
        states = state or [zero_state(g, c, x) for c in cells]
        if recurrence == "native" and C.native(cells[0]) and C.native(cells[1]):
            return native_directions(g, cells, x, lengths, states)
        out_f, s_f = scan_direction(g, cells[0], x, lengths, states[0], reverse=False)
        out_b, s_b = scan_direction(g, cells[1], x, lengths, states[1], reverse=True)
        return g.op("Concat", out_f, out_b, axis=-1), [s_f, s_b]
    cell = layer.cell
    state = state or zero_state(g, cell, x)
    if recurrence == "native" and C.native(cell) and not layer.reverse:
        out, (final,) = native_directions(g, [cell], x, lengths, [state])
        return out, final
    return scan_direction(g, cell, x, lengths, state, layer.reverse)


def run_stack(g: Graph, stack, x: str, lengths: str | None = None, state=None, recurrence: str = "native"):
    """A ``Stacked`` RNN (dropout off: inference) over ``x (B, T, F)``: ``(outputs (B, T, H'), state per layer)``."""
    finals = []
    size = None
    for l, layer in enumerate(stack.layers):
        out, s = run_layer(g, layer, x, lengths, state[l] if state is not None else None, recurrence)
        size_in = layer.fwd.cell.input_size if is_bidirectional(layer) else layer.cell.input_size
        if stack.residual and layer.output_size == size_in:
            out = g.op("Add", out, x)
        x = out
        finals.append(s)
    return x, finals


def step_stack(g: Graph, stack, x: str, state: list[list[str]]):
    """One step of a unidirectional ``Stacked`` RNN, ``x (B, F)``, no loop: ``(output (B, H), new state)``."""
    new = []
    for l, layer in enumerate(stack.layers):
        cell = layer.cell
        out, s = C.step(g, cell, C.projection(g, cell, x, rank=2), state[l])
        if stack.residual and cell.hidden_size == cell.input_size:
            out = g.op("Add", out, x)
        x = out
        new.append(s)
    return x, new
