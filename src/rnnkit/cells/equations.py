"""Each registered cell's equations as the course notes write them (``rnnkit cells`` prints them).

The course's notation: ``[h_{t-1}; x_t]`` is the concatenation of the previous state and the input,
``σ`` the logistic sigmoid, ``*`` the elementwise product. Each variant (``peephole-lstm``,
``gru-course``, ...) has its own equations, not its base class's. Which class implements a name, and
the exact parameter layout, is in the class's docstring (``help(rnnkit.cells.LSTMCell)``).
"""

from __future__ import annotations

_LSTM_GATES = (
    "f_t = σ(W_f [h_{t-1}; x_t] + b_f)",
    "i_t = σ(W_i [h_{t-1}; x_t] + b_i)",
    "o_t = σ(W_o [h_{t-1}; x_t] + b_o)",
    "g_t = tanh(W_c [h_{t-1}; x_t] + b_c)",
    "c_t = f_t * c_{t-1} + i_t * g_t",
    "h_t = o_t * tanh(c_t)",
)

#: name -> (one-line description, equations); the names of ``rnnkit.cells.CELLS``.
EQUATIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "elman": ("Elman RNN, tanh (course §2)", ("h_t = tanh(W_h [h_{t-1}; x_t] + b_h)",)),
    "elman-relu": ("Elman RNN, ReLU (course §2, §4: with W_hh = I it is the IRNN)",
                   ("h_t = relu(W_h [h_{t-1}; x_t] + b_h)",)),
    "elman-sigmoid": ("Elman RNN, sigmoid (course §2)", ("h_t = σ(W_h [h_{t-1}; x_t] + b_h)",)),
    "simple-lstm": ("the course's simple LSTM: a residual memory, no gates (course §5); d c_t / d c_{t-1} = I",
                    ("c_t = c_{t-1} + tanh(W_h [h_{t-1}; x_t] + b_h)", "h_t = tanh(c_t)")),
    "lstm": ("LSTM with a forget gate (Hochreiter & Schmidhuber 1997, Gers 2000; course §5)", _LSTM_GATES),
    "peephole-lstm": ("peephole LSTM (Gers & Schmidhuber 2000): f and i also see c_{t-1}, o sees c_t", (
        "f_t = σ(W_f [h_{t-1}; x_t] + w_cf * c_{t-1} + b_f)",
        "i_t = σ(W_i [h_{t-1}; x_t] + w_ci * c_{t-1} + b_i)",
        "g_t = tanh(W_c [h_{t-1}; x_t] + b_c)",
        "c_t = f_t * c_{t-1} + i_t * g_t",
        "o_t = σ(W_o [h_{t-1}; x_t] + w_co * c_t + b_o)",
        "h_t = o_t * tanh(c_t)",
    )),
    "coupled-lstm": ("LSTM with coupled input and forget gates: one gate forgets and writes", (
        "f_t = σ(W_f [h_{t-1}; x_t] + b_f)",
        "o_t = σ(W_o [h_{t-1}; x_t] + b_o)",
        "g_t = tanh(W_c [h_{t-1}; x_t] + b_c)",
        "c_t = f_t * c_{t-1} + (1 - f_t) * g_t",
        "h_t = o_t * tanh(c_t)",
    )),
    "ln-lstm": ("layer-normalised LSTM (Ba, Kiros & Hinton 2016): N normalises each gate's block over its H units", (
        "N(v) = (v - mean(v)) / sqrt(var(v) + 1e-5)     per gate block, over the H units",
        "a_t = g_ih * N(W_ih x_t) + g_hh * N(W_hh h_{t-1}) + b_ih + b_hh",
        "i_t, f_t, o_t = σ(a_i), σ(a_f), σ(a_o)      g_t = tanh(a_g)",
        "c_t = f_t * c_{t-1} + i_t * g_t",
        "h_t = o_t * tanh(g_c * N(c_t) + b_c)",
    )),
    "gru": ("GRU (Cho et al. 2014; course §6), torch's and cuDNN's form: r applied after W_hn h_{t-1}", (
        "r_t = σ(W_r [h_{t-1}; x_t] + b_r)",
        "z_t = σ(W_z [h_{t-1}; x_t] + b_z)",
        "n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))",
        "h_t = (1 - z_t) * n_t + z_t * h_{t-1}",
    )),
    "gru-course": ("GRU as the course and Cho write it: the reset gate before the recurrent product", (
        "r_t = σ(W_r [h_{t-1}; x_t] + b_r)",
        "z_t = σ(W_z [h_{t-1}; x_t] + b_z)",
        "n_t = tanh(W [r_t * h_{t-1}; x_t] + b)",
        "h_t = (1 - z_t) * n_t + z_t * h_{t-1}",
    )),
    "mtrnn": ("multiple-timescale RNN's leaky units (Tani 2008; course §4); tau = 1 is the Elman RNN",
              ("h_t = (1 - 1/tau) * h_{t-1} + (1/tau) * tanh(W_h [h_{t-1}; x_t] + b_h)",)),
    "mingru": ("minGRU (Feng et al. 2024): gates from x_t only, so the sequence is one parallel scan", (
        "z_t = σ(W_z x_t + b_z)",
        "h̃_t = g(W_h x_t + b_h)          g(v) = v + 0.5 if v >= 0 else σ(v)",
        "h_t = (1 - z_t) * h_{t-1} + z_t * h̃_t",
    )),
    "minlstm": ("minLSTM (Feng et al. 2024): gates from x_t only, normalised so f'_t + i'_t = 1", (
        "f_t = σ(W_f x_t + b_f)        i_t = σ(W_i x_t + b_i)",
        "h̃_t = g(W_h x_t + b_h)          g(v) = v + 0.5 if v >= 0 else σ(v)",
        "f'_t = f_t / (f_t + i_t)      i'_t = i_t / (f_t + i_t)",
        "h_t = f'_t * h_{t-1} + i'_t * h̃_t",
    )),
}


def describe_cells(names=None) -> str:
    """The text of ``rnnkit cells``: each cell's name, class, description and equations."""
    from rnnkit.cells import CELLS

    blocks = []
    for name in names or CELLS:
        make = CELLS[name]
        cls = getattr(make, "func", make)
        options = ", ".join(f"{k}={v!r}" for k, v in getattr(make, "keywords", {}).items())
        description, lines = EQUATIONS[name]
        head = f"{name} ({cls.__name__}{'(' + options + ')' if options else ''}): {description}"
        blocks.append("\n".join([head, *("    " + line for line in lines)]))
    return "\n\n".join(blocks)
