"""The lab under bad input: a diverged digits run is reported as diverged (no test score of blown-up
weights, exit code 2), and a model spec's numbers are checked."""

import json

import pytest

from conftest import one_line_error
from rnnkit.cli import main

pytest.importorskip("sklearn", reason="the digits lab reads scikit-learn's 8x8 digits")


def test_a_diverged_digits_run_is_not_a_result(tmp_path, capsys):
    out = tmp_path / "lab"
    code = main(["lab", "digits", "--variants", "pixel", "--models", "gru", "--lr", "1e6", "--clip", "0", "--steps",
                 "20", "--eval-every", "10", "--hidden", "8", "--threads", "1", "--out", str(out)])
    assert code == 2
    one_line_error(capsys, r"1 of 1 runs diverged \(pixel gru\); their rows say so; lower --lr")
    table = (out / "results.md").read_text()
    assert "diverged at step 10" in table and "| - |" in table
    (run,) = json.loads((out / "results.json").read_text())["runs"]
    assert run["diverged_at"] == 10 and run["test_loss"] is None


@pytest.mark.parametrize("spec", ["elman:spectral=abc", "lstm:default:fb=nan", "irnn:lr=inf"])
def test_a_model_spec_number_is_checked(spec, capsys):
    assert main(["lab", "gradient-flow", "--models", spec]) == 2
    one_line_error(capsys, rf"in model spec '{spec}' must be a finite number")
