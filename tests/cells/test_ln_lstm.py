"""The layer-normalised LSTM cell (``ln-lstm``): its gradients, its equations written again independently with
torch's layer_norm, the normalisation's invariant, its use through the layers, its initialisations and the CLI."""

import json

import pytest
import torch
from torch.nn import functional as Fn

from rnnkit.cells import CELLS, LayerNormLSTMCell, LSTMState, init_cell_, make_cell
from rnnkit.cells.equations import EQUATIONS
from rnnkit.cells.ln_lstm import normalise
from rnnkit.cli import main
from rnnkit.layers import Recurrent, build_rnn

B, F, H = 3, 5, 6


def randomise(cell: LayerNormLSTMCell, seed: int = 0) -> LayerNormLSTMCell:
    """Every parameter random (gains away from 1, biases away from 0), so no term can hide."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in cell.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype))
    return cell


def reference_step(cell, x, h, c):
    """The cell's equations, written again from the paper with ``F.layer_norm`` on each gate's (H,) block."""
    Hs = cell.hidden_size

    def ln_gates(v, gain):  # v (B, 4H): layer_norm over each gate's H units, then the gate's gain
        return torch.cat([Fn.layer_norm(v[:, k * Hs:(k + 1) * Hs], (Hs,), gain[k * Hs:(k + 1) * Hs], None, 1e-5)
                          for k in range(4)], dim=1)

    a = (ln_gates(x @ cell.weight_ih.T, cell.ln_gain_ih) + ln_gates(h @ cell.weight_hh.T, cell.ln_gain_hh)
         + cell.bias_ih + cell.bias_hh)  # (B, 4H)
    i, f, g, o = a[:, :Hs].sigmoid(), a[:, Hs:2 * Hs].sigmoid(), a[:, 2 * Hs:3 * Hs].tanh(), a[:, 3 * Hs:].sigmoid()
    c = f * c + i * g
    h = o * torch.tanh(Fn.layer_norm(c, (Hs,), cell.ln_gain_c, cell.ln_bias_c, 1e-5))
    return h, c


def test_registered_with_its_equations_and_parameters():
    assert CELLS["ln-lstm"] is LayerNormLSTMCell and "ln-lstm" in EQUATIONS
    cell = make_cell("ln-lstm", F, H)
    shapes = {n: tuple(p.shape) for n, p in cell.named_parameters()}
    assert shapes == {"weight_ih": (4 * H, F), "weight_hh": (4 * H, H), "bias_ih": (4 * H,), "bias_hh": (4 * H,),
                      "ln_gain_ih": (4 * H,), "ln_gain_hh": (4 * H,), "ln_gain_c": (H,), "ln_bias_c": (H,)}
    assert list(shapes)[:4] == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]  # the base class's order
    assert (cell.num_gates, cell.forget_gate, cell.has_cell_state) == (4, 1, True)
    for gain in (cell.ln_gain_ih, cell.ln_gain_hh, cell.ln_gain_c):
        assert torch.equal(gain, torch.ones_like(gain))
    assert not cell.ln_bias_c.any() and cell.weight_hh.abs().max() <= H ** -0.5 and cell.weight_hh.std() > 0


def test_equals_an_independent_formula_with_layer_norm(float64):
    cell = randomise(LayerNormLSTMCell(F, H))
    x, h, c = torch.randn(B, F), torch.randn(B, H), torch.randn(B, H)
    out, state = cell(x, LSTMState(h, c))
    h_ref, c_ref = reference_step(cell, x, h, c)
    torch.testing.assert_close(state.c, c_ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(state.h, h_ref, rtol=1e-12, atol=1e-12)
    assert out is state.h


def test_gradcheck(float64):
    cell = randomise(LayerNormLSTMCell(3, 4), seed=1)
    x, h, c = (torch.randn(2, n, requires_grad=True) for n in (3, 4, 4))
    params = tuple(cell.parameters())

    def step(x, h, c, *ps):
        named = dict(zip([n for n, _ in cell.named_parameters()], ps))
        out, s = torch.func.functional_call(cell, named, (x, LSTMState(h, c)))
        return out, s.c

    assert torch.autograd.gradcheck(step, (x, h, c, *params))


def test_each_gate_block_of_the_normalised_recurrent_product_has_mean_0_variance_1(float64):
    """With unit gains and zero biases, each gate's block of N(W_hh h) has mean 0 and (biased) variance
    var / (var + eps), i.e. 1 up to eps; with x = 0 (N(0) = 0) it is exactly the cell's preactivation."""
    cell = LayerNormLSTMCell(F, 64)
    with torch.no_grad():
        cell.bias_ih.zero_()
        cell.bias_hh.zero_()
    h = torch.randn(B, 64) * 5 + 3  # any scale and offset
    a = normalise(h @ cell.weight_hh.T, 4).view(B, 4, 64)  # (B, 4, H)
    torch.testing.assert_close(a.mean(2), torch.zeros(B, 4), atol=1e-12, rtol=0)
    torch.testing.assert_close(a.var(2, unbiased=False), torch.ones(B, 4), atol=1e-4, rtol=0)
    out, state = cell(torch.zeros(B, F), LSTMState(h, torch.zeros(B, 64)))  # c_0 = 0: c_1 = i * g
    torch.testing.assert_close(state.c, torch.sigmoid(a[:, 0]) * torch.tanh(a[:, 2]))


def test_through_recurrent_with_lengths_freezes_state(float64):
    cell = randomise(LayerNormLSTMCell(F, H), seed=2)
    rnn = Recurrent(cell, engine="loop")
    x, lengths = torch.randn(B, 7, F), torch.tensor([7, 2, 5])
    out, state = rnn(x, lengths=lengths)
    for b in range(B):
        L = int(lengths[b])
        out_b, state_b = rnn(x[b:b + 1, :L])
        torch.testing.assert_close(out[b:b + 1, :L], out_b)
        assert not out[b, L:].any()
        torch.testing.assert_close(state.h[b:b + 1], state_b.h)
        torch.testing.assert_close(state.c[b:b + 1], state_b.c)
    # step by step through the reference formula
    h, c = torch.zeros(1, H), torch.zeros(1, H)
    for t in range(2):
        h, c = reference_step(cell, x[1:2, t], h, c)
    torch.testing.assert_close(state.h[1:2], h)
    # bidirectional, stacked
    deep = build_rnn("ln-lstm", F, H, num_layers=2, bidirectional=True, engine="loop")
    out, _ = deep(x, lengths=lengths)
    assert out.shape == (B, 7, 2 * H) and not out[1, 2:].any()


@pytest.mark.parametrize("scheme", ["default", "orthogonal", "identity", "spectral"])
def test_initialisations_and_forget_bias(scheme):
    cell = init_cell_(LayerNormLSTMCell(F, H), scheme, 1.5, forget_bias=1.0)
    assert torch.equal(cell.bias_ih[H:2 * H], torch.ones(H)) and not cell.bias_hh[H:2 * H].any()
    assert torch.equal(cell.ln_gain_hh, torch.ones(4 * H)) and not cell.ln_bias_c.any()
    if scheme == "identity":
        torch.testing.assert_close(cell.weight_hh.view(4, H, H)[2], torch.eye(H))
    out, _ = cell(torch.randn(B, F), cell.init_state(B))
    assert torch.isfinite(out).all()


def test_meta_device_builds_without_values():
    with torch.device("meta"):
        cell = init_cell_(LayerNormLSTMCell(F, H), "spectral", forget_bias=1.0)
    assert cell.ln_gain_c.is_meta


def test_train_and_sample_through_the_cli(tmp_path, periodic_corpus, capsys, one_thread):
    out = tmp_path / "run"
    assert main(["train", "--corpus", str(periodic_corpus), "--out", str(out), "--cell", "ln-lstm", "--hidden", "16",
                 "--layers", "1", "--embedding", "8", "--seq-len", "16", "--batch-size", "4", "--steps", "6",
                 "--eval-every", "3", "--eval-windows", "2", "--eval-window", "16", "--log-every", "3",
                 "--warmup", "2", "--sample-every", "0", "--threads", "1"]) == 0
    meta = json.loads((out / "checkpoint" / "config.json").read_text())
    assert meta["step"] == 6
    capsys.readouterr()
    assert main(["sample", "--checkpoint", str(out), "--prime", "the ", "--length", "10", "--seed", "0"]) == 0
    assert capsys.readouterr().out.startswith("the ")
