"""Scratch engine: every hand-written backward pass against centred finite differences, in float64."""

import numpy as np
import pytest

from rnnkit.errors import RnnkitError
from rnnkit.scratch import CELLS
from rnnkit.scratch.gradcheck import (
    TOLERANCE, check_cell, check_cells, format_table, numerical_gradient, relative_error,
)


@pytest.mark.parametrize("name", list(CELLS))
def test_every_parameter_of_every_cell_passes(name):
    rows = check_cell(name)
    labels = {r.parameter for r in rows}
    assert {"cell.weight_ih", "cell.weight_hh", "cell.bias_ih", "cell.bias_hh", "head.weight", "head.bias"} <= labels
    for r in rows:
        assert r.max_rel_error <= TOLERANCE, f"{name} {r.parameter}: {r.max_rel_error:.2e}"


@pytest.mark.parametrize("seed", [1, 2])
def test_other_seeds_and_shapes_pass(seed):
    rows = check_cells(batch=2, steps=7, hidden_size=3, input_size=2, vocab_size=3, seed=seed)
    worst = max(rows, key=lambda r: r.max_rel_error)
    assert worst.passed, f"{worst.cell} {worst.parameter}: {worst.max_rel_error:.2e}"


def test_a_wrong_gradient_fails():
    """The check has teeth: a 1e-4 relative error in one element shows up."""
    a = np.array([1.0, -2.0, 3.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(a * (1 + 1e-4), a) > TOLERANCE
    assert relative_error(np.zeros(2), np.zeros(2)) == 0.0  # 0 both ways is exact


def test_numerical_gradient_of_a_known_function():
    x = np.array([0.3, -1.2, 2.0])
    g = numerical_gradient(lambda: float(np.sum(np.sin(x) * x)), x, 1e-5)
    np.testing.assert_allclose(g, np.cos(x) * x + np.sin(x), rtol=1e-9)
    np.testing.assert_array_equal(x, [0.3, -1.2, 2.0])  # perturbations undone


def test_table_has_one_row_per_cell_and_parameter():
    rows = check_cell("elman")
    text = format_table(rows)
    assert text.count("\nelman ") == len(rows)
    assert "e-" in text and "all pass" in text


def test_bad_cell_name_and_eps():
    with pytest.raises(RnnkitError, match="unknown cell 'lstn'; choose one of: elman"):
        check_cell("lstn")
    with pytest.raises(RnnkitError, match="eps must be positive"):
        check_cell("elman", eps=0)
