"""The equations ``rnnkit cells`` prints are the ones each cell's class documents (one source), every
registered cell has them, and the LSTM family's gates read in the documented order i, f, g, o."""

from rnnkit.cells import CELLS
from rnnkit.cells.equations import EQUATIONS, describe_cells


def test_every_cell_has_its_equations_once():
    assert set(EQUATIONS) == set(CELLS)
    text = describe_cells()
    for name in CELLS:
        assert text.count(f"\n{name} (") + text.startswith(f"{name} (") == 1, name


def test_the_class_docstring_holds_the_printed_equations():
    for name, make in CELLS.items():
        cls = getattr(make, "func", make)
        for line in EQUATIONS[name][1]:
            assert line in cls.__doc__, (name, line)


def test_lstm_gate_order_is_i_f_g_o():
    for name in ("lstm", "ln-lstm"):
        text = "\n".join(EQUATIONS[name][1])
        assert text.index("i_t") < text.index("f_t") < text.index("g_t") < text.index("o_t"), name
