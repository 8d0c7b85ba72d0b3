"""The long-dependencies lab: task generators and baselines, gradient flow (vanishing, exploding,
kept), truncated BPTT, the echo-state network, the MTRNN model, and the CLI."""

import json
import math

import numpy as np
import pytest
import torch

from rnnkit.cli import main
from rnnkit.lab.esn import EchoStateNetwork, mackey_glass
from rnnkit.lab.esn_eval import echo_state_distance, evaluate_series
from rnnkit.lab.gradient_flow import ModelSpec, gradient_norms, recurrent_spectrum
from rnnkit.lab.models import SequenceTaskModel
from rnnkit.lab.mtrnn import TimescaleStack, two_timescale_series
from rnnkit.lab.tasks import ADDING_BASELINE_MSE, adding_problem, copy_baseline, copy_memory


def test_adding_problem_structure_and_baseline():
    x, y = adding_problem(4000, 60, torch.Generator().manual_seed(0))
    assert x.shape == (4000, 60, 2) and y.shape == (4000, 1)
    markers = x[..., 1]
    assert torch.equal(markers.sum(1), torch.full((4000,), 2.0))
    assert torch.equal(markers[:, :30].sum(1), torch.ones(4000))  # one marker in each half
    torch.testing.assert_close(y[:, 0], (x[..., 0] * markers).sum(1))
    # predicting the mean sum, 1, scores the baseline MSE of 2/12
    assert abs(float(((y - 1) ** 2).mean()) - ADDING_BASELINE_MSE) < 0.01


def test_copy_memory_structure_and_baseline():
    T = 30
    x, y = copy_memory(500, T, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (500, T + 20)
    torch.testing.assert_close(y[:, -10:], x[:, :10])
    assert (x[:, 10 + T - 1] == 9).all() and not y[:, : T + 10].any()
    # the memoryless strategy: certain blanks, then uniform over the 8 symbols for the last 10 steps
    logits = torch.full((500, T + 20, 10), -1e9)
    logits[:, : T + 10, 0] = 0
    logits[:, T + 10 :, 1:9] = 0
    ce = torch.nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten())
    assert abs(float(ce) - copy_baseline(T)) < 1e-5
    assert abs(copy_baseline(100) - 10 * math.log(8) / 120) < 1e-12


def norms_of(text, T=200):
    return gradient_norms(ModelSpec.parse(text).build(2, 32, seed=0), T)


def test_gradient_vanishes_explodes_or_is_kept():
    tanh, explode = norms_of("elman"), norms_of("elman-relu:spectral=2")
    assert tanh[200] < 1e-20 * tanh[0]  # vanishing: a product of 200 Jacobians with norm < 1
    assert explode[200] > 1e4 * explode[0]  # exploding: spectral radius 2
    for kept in ("irnn", "lstm:default:fb=5", "gru:default:fb=5"):
        n = norms_of(kept)
        assert 1e-3 * n[0] < n[200] < 1e3 * n[0], kept
    assert len(tanh) == 201  # k = 0..T, the initial state included


def test_spectrum_and_specs():
    cell = ModelSpec.parse("elman:spectral=1.7").build(2, 16, seed=0)
    s = recurrent_spectrum(cell)
    assert abs(s["max_abs_eigenvalue"] - 1.7) < 1e-5 and s["max_singular_value"] >= s["max_abs_eigenvalue"] - 1e-9
    spec = ModelSpec.parse("irnn")
    assert (spec.cell, spec.init) == ("elman-relu", "identity")
    assert ModelSpec.parse("lstm:orthogonal:fb=2").forget_bias == 2.0


def test_truncated_bptt_k1_blocks_gradient_to_earlier_steps():
    x, y = adding_problem(4, 12, torch.Generator().manual_seed(0))
    grads = {}
    for k in (0, 1, 4):
        torch.manual_seed(0)
        model = SequenceTaskModel("elman", 2, 8, 1, many_to_one=True, truncate=k)
        x_ = x.clone().requires_grad_(True)
        model(x_, y)[1].backward()
        grads[k] = x_.grad.abs().sum(dim=(0, 2))  # (T,)
    assert grads[0][0] > 0  # full BPTT reaches the first step
    assert not grads[1][:-1].any() and grads[1][-1] > 0  # k = 1 (Elman's SRN): only the last step
    assert not grads[4][:8].any() and grads[4][8:].all()  # k = 4: the last chunk only
    # truncation changes gradients, never the forward pass
    torch.manual_seed(0)
    a = SequenceTaskModel("elman", 2, 8, 1, many_to_one=True, truncate=0)
    torch.manual_seed(0)
    b = SequenceTaskModel("elman", 2, 8, 1, many_to_one=True, truncate=3)
    torch.testing.assert_close(a(x)[0], b(x)[0])


@pytest.mark.slow
def test_echo_state_property():
    assert echo_state_distance(spectral_radius=0.9)[-1] < 1e-8  # two initial states converge
    assert echo_state_distance(spectral_radius=3.0, leak_rate=1.0, input_scaling=0.1)[-1] > 1.0  # they do not


def test_esn_reservoir_is_scaled_and_readout_is_ridge_regression():
    esn = EchoStateNetwork(1, 100, spectral_radius=0.8, seed=0)
    assert abs(np.abs(np.linalg.eigvals(esn.W)).max() - 0.8) < 1e-9
    u = np.random.default_rng(0).uniform(-1, 1, (400, 1))
    esn.ridge = 1e-9
    esn.fit(u, u * 3 + 1, washout=50)  # a linear function of the input: exactly representable
    X = esn.features(u, esn.run(u, np.zeros(100)))[50:]
    W = np.linalg.lstsq(X, (u * 3 + 1)[50:], rcond=None)[0].T  # the unregularised least-squares readout
    np.testing.assert_allclose(X @ esn.W_out.T, X @ W.T, atol=1e-6)
    np.testing.assert_allclose(esn.predict(u[:20]), u[:20] * 3 + 1, atol=1e-4)


def test_esn_predicts_mackey_glass():
    r = evaluate_series(mackey_glass(2000), horizon=20, reservoir_size=200, spectral_radius=0.9, leak_rate=0.3,
                        ridge=1e-6)
    assert r["one_step_nrmse"] < 0.02 < r["naive_one_step_nrmse"]
    assert r["multi_step_nrmse_20"] < 0.1


def test_timescale_stack_with_tau_one_is_a_two_layer_elman():
    from rnnkit.layers import build_rnn

    torch.manual_seed(0)
    model = TimescaleStack(8, 4, tau_fast=1.0, tau_slow=1.0)
    rnn = build_rnn("elman", 1, 8, num_layers=1)
    rnn.layers[0].cell.load_state_dict(model.fast.cell.state_dict(), strict=False)
    x, y = two_timescale_series(3, 40, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(model.fast(x)[0], rnn(x)[0])
    assert model(x, y)[0].shape == (3, 40, 1)


def test_lab_cli(tmp_path, capsys):
    out = tmp_path / "gf"
    assert main(["lab", "gradient-flow", "--models", "elman,irnn", "--T", "50", "--hidden", "8", "--trained-steps", "5",
                 "--out", str(out)]) == 0
    data = json.loads((out / "gradient_flow.json").read_text())
    assert {(r["model"], r["network"]) for r in data["results"]} == {("elman", "random"), ("elman", "trained"),
                                                                     ("irnn", "random"), ("irnn", "trained")}
    assert (out / "gradient_flow.png").stat().st_size > 1000
    assert main(["lab", "task", "adding", "--models", "lstm,srn", "--T", "10", "--steps", "20", "--hidden", "8",
                 "--out", str(tmp_path / "task")]) == 0
    table = (tmp_path / "task" / "results.md").read_text()
    assert "| srn | 1 step (SRN) | 10 | 0.01 | 20 |" in table and "| lstm | full | 10 | 0.01 | 20 |" in table
    assert main(["lab", "esn", "--out", str(tmp_path / "esn"), "--reservoir", "50", "--horizon", "5"]) == 0
    assert "echo-state property" in capsys.readouterr().out
    assert main(["lab", "task", "adding", "--T", "1,x", "--out", str(tmp_path / "bad")]) == 2
    assert "error: --T must be comma-separated integers, got '1,x'" in capsys.readouterr().err
    assert main(["lab", "gradient-flow", "--models", "lstn", "--out", str(tmp_path / "bad")]) == 2
    assert "unknown cell 'lstn'" in capsys.readouterr().err


@pytest.mark.slow
def test_clipping_demo_diverges_without_and_learns_with(tmp_path):
    from rnnkit.lab.exploding import clipping_demo

    corpus = tmp_path / "text.txt"
    corpus.write_text("".join(f"line {i}: the quick brown fox jumps over the lazy dog {i * i}\n" for i in range(3000)))
    r = clipping_demo(str(corpus), str(tmp_path / "x"), steps=150, log=lambda *a: None)
    no_clip, clip = r["no clipping"], r["clip norm 1"]
    assert no_clip["diverged_at"] or no_clip["peak_train_loss"] > no_clip["first_train_loss"] + 1
    assert clip["diverged_at"] is None and clip["val_loss"] < clip["first_train_loss"] - 1
    assert clip["clipped_steps"] > 0
