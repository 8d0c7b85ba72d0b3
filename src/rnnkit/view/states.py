"""Every unit of every recurrent layer over one input: h_t, and for the LSTM family c_t and the gates
i, f, g, o; for the GRU r, z, n (course-notes §9; LSTMVis, Strobelt et al. 2018).

The fast path runs each direction of each layer through its own engine (torch's kernel where it can),
which gives h_t for every t in one call; the gates then follow for all steps at once from the cell's
weights, ``gates = W_ih x_t + W_hh h_{t-1} + b``, one matrix product over the whole text, and c_t from
the one elementwise recurrence ``c_t = f_t c_{t-1} + i_t g_t``. A cell whose gates read c_{t-1}
(peephole) or whose equations are not in ``GATES`` is stepped through ``cell(x_t, state)`` instead,
recording h (and c) only. ``tests/view/test_states.py`` checks both paths against that loop.

    record_states(stack, x (T, F)) -> [Direction]: h of each layer and direction now, the rest on request
    tracks(directions, kind) -> [Track(layer, direction, kind, values (T, H))]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rnnkit.cells import LSTMState
from rnnkit.cells.gru import GRUCell
from rnnkit.cells.lstm import LSTMCell


@dataclass
class Track:
    """One recorded quantity of one direction of one layer: ``values (T, H)`` in the text's order."""

    layer: int
    direction: str  # "fwd" or "bwd"
    kind: str  # "h", "c", or a gate: "i", "f", "g", "o" (LSTM), "r", "z", "n" (GRU)
    values: np.ndarray

    @property
    def name(self) -> str:
        return f"layer {self.layer}{' ' + self.direction if self.direction == 'bwd' else ''} {self.kind}"


@torch.no_grad()
def lstm_gates(cell: LSTMCell, x: torch.Tensor, h: torch.Tensor) -> dict:
    """The LSTM's gates and cell for every step at once, from ``x (T, F)`` and the outputs ``h (T, H)``
    in reading order (h_{t-1} is ``h`` shifted by one, h_0 = 0)."""
    h_prev = torch.cat([torch.zeros_like(h[:1]), h[:-1]])  # (T, H)
    pre = cell.gate_preactivations(x, h_prev)  # (T, G*H)
    if cell.coupled:
        f, g, o = pre.chunk(3, dim=1)
        f = torch.sigmoid(f)
        i = 1 - f
    else:
        i, f, g, o = pre.chunk(4, dim=1)
        i, f = torch.sigmoid(i), torch.sigmoid(f)
    g, o = torch.tanh(g), torch.sigmoid(o)
    f_np, ig = f.float().numpy(), (i * g).float().numpy()
    c = np.empty_like(ig)  # c_t = f_t * c_{t-1} + i_t * g_t: elementwise, cheap even over 10,000 steps
    prev = np.zeros(ig.shape[1], dtype=np.float32)
    for t in range(len(c)):
        prev = c[t] = f_np[t] * prev + ig[t]
    gates = {"c": c, "i": i, "f": f, "g": g, "o": o}
    return {k: v if isinstance(v, np.ndarray) else v.float().numpy() for k, v in gates.items()}


@torch.no_grad()
def gru_gates(cell: GRUCell, x: torch.Tensor, h: torch.Tensor) -> dict:
    """The GRU's r, z, n for every step at once (``h_t = (1 - z) * n + z * h_{t-1}``)."""
    h_prev = torch.cat([torch.zeros_like(h[:1]), h[:-1]])  # (T, H)
    x_r, x_z, x_n = torch.nn.functional.linear(x, cell.weight_ih, cell.bias_ih).chunk(3, dim=1)
    W_hr, W_hz, W_hn = cell.weight_hh.chunk(3, dim=0)
    b_hr, b_hz, b_hn = cell.bias_hh.chunk(3, dim=0)
    r = torch.sigmoid(x_r + torch.nn.functional.linear(h_prev, W_hr, b_hr))
    z = torch.sigmoid(x_z + torch.nn.functional.linear(h_prev, W_hz, b_hz))
    if cell.reset_after:
        n = torch.tanh(x_n + r * torch.nn.functional.linear(h_prev, W_hn, b_hn))
    else:
        n = torch.tanh(x_n + torch.nn.functional.linear(r * h_prev, W_hn, b_hn))
    return {"r": r.float().numpy(), "z": z.float().numpy(), "n": n.float().numpy()}


@torch.no_grad()
def stepped(cell, x: torch.Tensor) -> dict:
    """Any cell, one ``cell(x_t, state)`` call per step: h (and c for an LSTMState)."""
    state, hs, cs = cell.init_state(1, x.device, x.dtype), [], []
    for t in range(x.shape[0]):
        out, state = cell(x[t : t + 1], state)
        hs.append(out[0])
        if isinstance(state, LSTMState):
            cs.append(state.c[0])
    found = {"h": torch.stack(hs).float().numpy()}
    if cs:
        found["c"] = torch.stack(cs).float().numpy()
    return found


def fast_gates(cell):
    """The batched gate function of ``cell``, or None where only stepping the cell is exact."""
    if type(cell) is LSTMCell and not cell.peephole:
        return lstm_gates
    if type(cell) is GRUCell:
        return gru_gates
    return None


@torch.no_grad()
def direction_states(recurrent, x: torch.Tensor, gates: bool = True, h: torch.Tensor | None = None) -> dict:
    """``kind -> (T, H)`` for one direction (a ``Recurrent``) reading ``x (T, F)``, in the text's order
    (``h``: its outputs, when they are known already)."""
    if h is None:
        h = recurrent(x.unsqueeze(0))[0][0]  # (T, H): the layer's own engine, reversed inside if backward
    order = (lambda a: a.flip(0)) if recurrent.reverse else (lambda a: a)
    batched = fast_gates(recurrent.cell) if gates else None
    if batched is not None:
        found = {"h": h.float().numpy(), **batched(recurrent.cell, order(x), order(h))}
        if recurrent.reverse:
            found = {k: v if k == "h" else v[::-1].copy() for k, v in found.items()}
        return found
    if not recurrent.cell.has_cell_state:
        return {"h": h.float().numpy()}
    found = stepped(recurrent.cell, order(x))
    return {k: (v[::-1].copy() if recurrent.reverse else v) for k, v in found.items()}


ORDER = ("h", "c", "i", "f", "g", "o", "r", "z", "n")


class Direction:
    """One direction of one layer over a text: ``h`` at once (its engine's one call), the other kinds
    (c, the gates) computed on first request and kept: the page asks for h first, and a kind only when
    the user picks it."""

    def __init__(self, layer: int, direction: str, recurrent, x: torch.Tensor, h: np.ndarray):
        self.layer, self.direction, self.recurrent, self.x = layer, direction, recurrent, x
        cell = recurrent.cell
        extra = {lstm_gates: ("c", "i", "f", "g", "o"), gru_gates: ("r", "z", "n")}.get(fast_gates(cell))
        if extra is None:
            extra = ("c",) if cell.has_cell_state else ()
        self.kinds = ("h", *extra)
        self.found = {"h": h}

    def values(self, kind: str) -> np.ndarray:
        if kind not in self.found:
            with torch.no_grad():
                found = direction_states(self.recurrent, self.x, h=torch.from_numpy(self.found["h"]))
            self.found.update({k: v.astype(np.float32) for k, v in found.items() if k != "h"})
        return self.found[kind]


@torch.no_grad()
def record_states(stack, x: torch.Tensor) -> list[Direction]:
    """Every layer of ``stack`` (a ``rnnkit.layers.Stacked``) reading ``x (T, F)``: one ``Direction`` per
    layer and direction. The next layer reads what the stack feeds it (outputs of both directions, the
    residual connection where the stack has one; dropout is off in evaluation)."""
    found = []
    for l, layer in enumerate(stack.layers):
        directions = [("fwd", layer)] if not hasattr(layer, "fwd") else [("fwd", layer.fwd), ("bwd", layer.bwd)]
        outs = []
        for name, recurrent in directions:
            h, _ = recurrent(x.unsqueeze(0))  # (1, T, H): the layer's own engine, reversed inside if backward
            outs.append(h[0])
            found.append(Direction(l, name, recurrent, x, h[0].numpy().astype(np.float32)))
        out = torch.cat(outs, dim=-1)  # (T, H') the layer's output
        if stack.residual and out.shape[-1] == x.shape[-1]:
            out = out + x
        x = out
    return found


def tracks(directions: list[Direction], kind: str) -> list[Track]:
    """The ``Track`` of ``kind`` of every direction that has it, in layer order."""
    return [Track(d.layer, d.direction, kind, d.values(kind)) for d in directions if kind in d.kinds]
