"""Every rnnkit cell as ONNX operators: the input projection of a whole sequence (one MatMul outside the
loop over time) and one step, written as the cell's equations (``rnnkit.cells``; gate orders i, f, g, o and
r, z, n). The same ``step`` is the body of a ``Scan`` (any sequence length) and the one step of a decoder
or a streaming language model (no loop at all).

A state is a list of names: ``[h]``, or ``[h, c]`` for the LSTM family, each ``(B, H)``.

The standard cells also have ONNX's own operators (``native``): the tanh/relu Elman RNN (``RNN``), the LSTM
(``LSTM``, gates reordered to ONNX's i, o, f, c) and the reset-after GRU (``GRU`` with
``linear_before_reset=1``, gates reordered to z, r, h).
"""

from __future__ import annotations

import numpy as np

from rnnkit.export.graph import Graph, chunk, linear, reduce

EPS = 1e-5  # rnnkit.cells.ln_lstm.EPS


def kind(cell) -> str:
    """The cell's name in this module's tables (from its class and options)."""
    name = type(cell).__name__
    if name == "ElmanCell":
        return "elman-" + cell.activation
    if name == "LSTMCell":
        return "coupled-lstm" if cell.coupled else "lstm"  # peephole: a flag on either
    return {"GRUCell": "gru", "LayerNormLSTMCell": "ln-lstm", "MTRNNCell": "mtrnn", "SimpleLSTMCell": "simple-lstm",
            "MinGRUCell": "mingru", "MinLSTMCell": "minlstm"}[name]


def components(cell) -> int:
    return 2 if cell.has_cell_state else 1


ACT = {"tanh": "Tanh", "relu": "Relu", "sigmoid": "Sigmoid"}


def normalise(g: Graph, v: str, blocks: int, H: int, rank: int) -> str:
    """``N(v)``: each of the ``blocks`` blocks of H units of the last axis to mean 0, variance 1 (biased)."""
    u = g.op("Reshape", v, g.ints(*([0] * (rank - 1)), blocks, H))  # (..., blocks, H)
    mean = reduce(g, "ReduceMean", u, [-1])
    d = g.op("Sub", u, mean)
    var = reduce(g, "ReduceMean", g.op("Mul", d, d), [-1])
    n = g.op("Div", d, g.op("Sqrt", g.op("Add", var, g.scalar(EPS))))
    return g.op("Reshape", n, g.ints(*([0] * (rank - 1)), blocks * H))


def projection(g: Graph, cell, x: str, rank: int = 3) -> str:
    """What the step reads of ``x_t``, for every step at once: ``x W_ih^T + b_ih`` ``(..., G*H)``; for the
    LN-LSTM ``g_ih * N(x W_ih^T) + b_ih + b_hh``."""
    if kind(cell) == "ln-lstm":
        n = normalise(g, g.op("MatMul", x, g.weight(cell.weight_ih, np.transpose)), 4, cell.hidden_size, rank)
        bias = g.op("Add", g.weight(cell.bias_ih), g.weight(cell.bias_hh))
        return g.op("Add", g.op("Mul", n, g.weight(cell.ln_gain_ih)), bias)
    return linear(g, x, None, cell.weight_ih, cell.bias_ih)


def recurrent(g: Graph, cell, h: str) -> str:
    """``h W_hh^T + b_hh`` ``(B, G*H)``."""
    return linear(g, h, None, cell.weight_hh, cell.bias_hh)


def step(g: Graph, cell, xp: str, state: list[str]) -> tuple[str, list[str]]:
    """One step from the projected input ``xp (B, G*H)`` and ``state``: ``(output (B, H), new state)``."""
    k, H = kind(cell), cell.hidden_size
    if k.startswith("elman"):
        h = g.op(ACT[cell.activation], g.op("Add", xp, recurrent(g, cell, state[0])))
        return h, [h]
    if k == "mtrnn":
        alpha = g.const((1.0 / cell.tau.detach().cpu().float()).numpy())  # (H,), as the cell computes it
        a = g.op(ACT[cell.activation], g.op("Add", xp, recurrent(g, cell, state[0])))
        keep = g.op("Mul", g.op("Sub", g.scalar(1.0), alpha), state[0])
        h = g.op("Add", keep, g.op("Mul", alpha, a))
        return h, [h]
    if k == "simple-lstm":
        c = g.op("Add", state[1], g.op("Tanh", g.op("Add", xp, recurrent(g, cell, state[0]))))
        h = g.op("Tanh", c)
        return h, [h, c]
    if k in ("lstm", "coupled-lstm"):
        return lstm_step(g, cell, xp, state)
    if k == "ln-lstm":
        h_prev, c_prev = state
        rec = normalise(g, g.op("MatMul", h_prev, g.weight(cell.weight_hh, np.transpose)), 4, H, 2)
        a = g.op("Add", xp, g.op("Mul", rec, g.weight(cell.ln_gain_hh)))
        i, f, gg, o = chunk(g, a, H, 4)
        c = g.op("Add", g.op("Mul", g.op("Sigmoid", f), c_prev), g.op("Mul", g.op("Sigmoid", i), g.op("Tanh", gg)))
        nc = g.op("Add", g.op("Mul", normalise(g, c, 1, H, 2), g.weight(cell.ln_gain_c)), g.weight(cell.ln_bias_c))
        h = g.op("Mul", g.op("Sigmoid", o), g.op("Tanh", nc))
        return h, [h, c]
    if k == "gru":
        h_prev = state[0]
        x_r, x_z, x_n = chunk(g, xp, H, 3)
        h_r, h_z, h_n = chunk(g, recurrent(g, cell, h_prev), H, 3) if cell.reset_after else (None, None, None)
        if not cell.reset_after:  # r applied before the recurrent product: W_hn (r * h) needs r first
            W_hr, W_hz, W_hn = cell.weight_hh.chunk(3, dim=0)
            b_hr, b_hz, b_hn = cell.bias_hh.chunk(3, dim=0)
            h_r, h_z = linear(g, h_prev, None, W_hr, b_hr), linear(g, h_prev, None, W_hz, b_hz)
        r = g.op("Sigmoid", g.op("Add", x_r, h_r))
        z = g.op("Sigmoid", g.op("Add", x_z, h_z))
        if cell.reset_after:
            n = g.op("Tanh", g.op("Add", x_n, g.op("Mul", r, h_n)))
        else:
            n = g.op("Tanh", g.op("Add", x_n, linear(g, g.op("Mul", r, h_prev), None, W_hn, b_hn)))
        h = g.op("Add", g.op("Mul", g.op("Sub", g.scalar(1.0), z), n), g.op("Mul", z, h_prev))
        return h, [h]
    if k in ("mingru", "minlstm"):
        return min_step(g, cell, xp, state[0])
    raise ValueError(f"no ONNX step for {k}")


def lstm_step(g: Graph, cell, xp: str, state: list[str]):
    """The LSTM, peephole and coupled: ``c = f c + i g``, ``h = σ(o) tanh(c)`` (i = 1 - f when coupled)."""
    H = cell.hidden_size
    h_prev, c_prev = state
    gates = g.op("Add", xp, recurrent(g, cell, h_prev))
    if cell.coupled:
        f, gg, o = chunk(g, gates, H, 3)
    else:
        i, f, gg, o = chunk(g, gates, H, 4)
    if cell.peephole:
        f = g.op("Add", f, g.op("Mul", g.weight(cell.w_cf), c_prev))
        if not cell.coupled:
            i = g.op("Add", i, g.op("Mul", g.weight(cell.w_ci), c_prev))
    f = g.op("Sigmoid", f)
    i = g.op("Sub", g.scalar(1.0), f) if cell.coupled else g.op("Sigmoid", i)
    c = g.op("Add", g.op("Mul", f, c_prev), g.op("Mul", i, g.op("Tanh", gg)))
    if cell.peephole:
        o = g.op("Add", o, g.op("Mul", g.weight(cell.w_co), c))
    h = g.op("Mul", g.op("Sigmoid", o), g.op("Tanh", c))
    return h, [h, c]


def positive(g: Graph, x: str) -> str:
    """The min-cells' ``g(x) = x + 0.5 if x >= 0 else σ(x)``."""
    return g.op("Where", g.op("GreaterOrEqual", x, g.scalar(0.0)), g.op("Add", x, g.scalar(0.5)), g.op("Sigmoid", x))


def min_step(g: Graph, cell, xp: str, h_prev: str):
    """minGRU ``h = (1 - z) h + z g(h̃)``; minLSTM ``h = f' h + i' g(h̃)``, f' and i' normalised to sum 1."""
    H = cell.hidden_size
    if kind(cell) == "mingru":
        k, h_lin = chunk(g, xp, H, 2)
        z = g.op("Sigmoid", k)
        h = g.op("Add", g.op("Mul", g.op("Sub", g.scalar(1.0), z), h_prev), g.op("Mul", z, positive(g, h_lin)))
        return h, [h]
    k_f, k_i, h_lin = chunk(g, xp, H, 3)
    f, i = g.op("Sigmoid", k_f), g.op("Sigmoid", k_i)
    total = g.op("Add", f, i)
    h = g.op("Add", g.op("Mul", g.op("Div", f, total), h_prev), g.op("Mul", g.op("Div", i, total), positive(g, h_lin)))
    return h, [h]


# -------------------------------------------------------------------- ONNX's own RNN / LSTM / GRU operators
#: cell kind -> (operator, rnnkit's gate blocks in ONNX's order)
NATIVE = {"elman-tanh": ("RNN", [0]), "elman-relu": ("RNN", [0]), "lstm": ("LSTM", [0, 3, 1, 2]),
          "gru": ("GRU", [1, 0, 2])}


def native(cell) -> tuple[str, list[int]] | None:
    """ONNX's operator for this cell and the gate order it wants, or None (a variant: Scan)."""
    k = kind(cell)
    if k == "lstm" and cell.peephole or k == "gru" and not cell.reset_after:
        return None
    return NATIVE.get(k)


def native_weights(cells: list, blocks: list[int]):
    """ONNX's ``W (D, G*H, F)``, ``R (D, G*H, H)``, ``B (D, 2*G*H)`` of one cell per direction."""
    def reorder(t):
        a = t.detach().cpu().float().numpy()
        size = a.shape[0] // len(blocks)
        return np.concatenate([a[b * size : (b + 1) * size] for b in blocks], axis=0)

    W = np.stack([reorder(c.weight_ih) for c in cells])
    R = np.stack([reorder(c.weight_hh) for c in cells])
    B = np.stack([np.concatenate([reorder(c.bias_ih), reorder(c.bias_hh)]) for c in cells])
    return W, R, B
