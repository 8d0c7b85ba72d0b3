"""Layers: the readable loop and torch's fused engine agree (forward and gradients, with lengths,
bidirectional, stacked); variable lengths freeze the state; reversal happens within each length."""

import pytest
import torch

from rnnkit.cells import CELLS, LSTMState, make_cell
from rnnkit.errors import RnnkitError
from rnnkit.layers import Recurrent, build_rnn, reverse_padded

pytestmark = pytest.mark.usefixtures("float64")

STANDARD = ["elman", "elman-relu", "lstm", "gru"]


def set_engine(module, engine):
    for m in module.modules():
        if isinstance(m, Recurrent):
            m.engine = engine


def flat(state):
    if isinstance(state, torch.Tensor):
        return [state]
    return [t for s in state for t in flat(s)]


def run_both(rnn, x, state, lengths):
    results = []
    for engine in ("loop", "torch"):
        set_engine(rnn, engine)
        rnn.zero_grad()
        out, s = rnn(x, state, lengths)
        loss = (out * torch.linspace(-1, 1, out.shape[-1])).sum() + sum((t**2).sum() for t in flat(s))
        grads = torch.autograd.grad(loss, [x] + list(rnn.parameters()))
        results.append((out, flat(s), grads))
    return results


@pytest.mark.parametrize("cell", STANDARD)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("with_lengths", [False, True])
def test_loop_and_torch_engines_agree(cell, bidirectional, with_lengths):
    torch.manual_seed(1)
    rnn = build_rnn(cell, 3, 4, num_layers=2, bidirectional=bidirectional, residual=False)
    x = torch.randn(5, 7, 3, requires_grad=True)
    lengths = torch.tensor([7, 1, 3, 7, 5]) if with_lengths else None
    (o1, s1, g1), (o2, s2, g2) = run_both(rnn, x, None, lengths)
    torch.testing.assert_close(o1, o2, rtol=0, atol=1e-10)
    for a, b in zip(s1 + list(g1), s2 + list(g2)):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-10)


def test_engine_equals_torch_nn_lstm():
    """A 2-layer rnnkit LSTM loaded with torch.nn.LSTM's weights gives nn.LSTM's outputs."""
    ref = torch.nn.LSTM(3, 4, num_layers=2, batch_first=True)
    rnn = build_rnn("lstm", 3, 4, num_layers=2)
    for l, layer in enumerate(rnn.layers):
        layer.cell.load_state_dict({k: getattr(ref, f"{k}_l{l}") for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")})
    x = torch.randn(2, 6, 3)
    for engine in ("loop", "torch"):
        set_engine(rnn, engine)
        out, states = rnn(x)
        out_ref, (h_ref, c_ref) = ref(x)
        torch.testing.assert_close(out, out_ref)
        torch.testing.assert_close(torch.stack([s.h for s in states]), h_ref)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_lengths_freeze_state_and_zero_outputs(cell):
    """A padded row's final state equals the state of running the row alone, unpadded."""
    rnn = build_rnn(cell, 3, 4, num_layers=2, bidirectional=True)
    x = torch.randn(3, 6, 3)
    lengths = torch.tensor([6, 2, 4])
    out, state = rnn(x, lengths=lengths)
    for b in range(3):
        L = int(lengths[b])
        out_b, state_b = rnn(x[b : b + 1, :L])
        torch.testing.assert_close(out[b : b + 1, :L], out_b)
        assert not out[b, L:].any()
        for a, c in zip(flat(state), flat(state_b)):
            torch.testing.assert_close(a[b : b + 1], c)


def test_reverse_padded():
    x = torch.arange(1.0, 6.0).view(1, 5, 1).repeat(2, 1, 1)
    r = reverse_padded(x, torch.tensor([3, 5]))
    assert r[0, :, 0].tolist() == [3, 2, 1, 4, 5] and r[1, :, 0].tolist() == [5, 4, 3, 2, 1]
    torch.testing.assert_close(reverse_padded(r, torch.tensor([3, 5])), x)


def test_auto_engine_choice():
    assert Recurrent(make_cell("lstm", 2, 2)).engine_used == "torch"
    assert Recurrent(make_cell("gru", 2, 2)).engine_used == "torch"
    assert Recurrent(make_cell("elman-sigmoid", 2, 2)).engine_used == "cpu"  # the CPU engine (tests/layers)
    assert Recurrent(make_cell("peephole-lstm", 2, 2)).engine_used == "cpu"
    assert Recurrent(make_cell("gru-course", 2, 2)).engine_used == "cpu"
    with pytest.raises(RnnkitError, match="engine 'torch' cannot run"):
        Recurrent(make_cell("mtrnn", 2, 2), engine="torch")
    with pytest.raises(RnnkitError, match="unknown engine"):
        Recurrent(make_cell("lstm", 2, 2), engine="cudnn")


def test_stacked_dropout_and_residual():
    rnn = build_rnn("gru", 4, 4, num_layers=3, residual=True, dropout=0.5)
    x = torch.randn(2, 5, 4)
    rnn.eval()
    out, state = rnn(x)
    assert len(state) == 3
    # with residual connections, the output is the sum of the layer outputs and the input
    h = x
    for layer in rnn.layers:
        h = layer(h)[0] + h
    torch.testing.assert_close(out, h)
    rnn.train()
    torch.manual_seed(0)
    a = rnn(x)[0]
    torch.manual_seed(1)
    assert not torch.allclose(a, rnn(x)[0])  # dropout is active in training


def test_carried_state_equals_one_long_run():
    """Stateful use: running two halves with the state carried equals one run (truncated BPTT's basis)."""
    for cell in ("lstm", "peephole-lstm", "mtrnn"):
        rnn = build_rnn(cell, 3, 4, num_layers=2)
        x = torch.randn(2, 10, 3)
        out, s = rnn(x)
        o1, s1 = rnn(x[:, :4])
        o2, s2 = rnn(x[:, 4:], s1)
        torch.testing.assert_close(torch.cat([o1, o2], 1), out)
        for a, b in zip(flat(s2), flat(s)):
            torch.testing.assert_close(a, b)


def test_bad_input_shapes():
    rnn = build_rnn("lstm", 3, 4)
    with pytest.raises(RnnkitError, match=r"expected input of shape \(batch, time, 3\)"):
        rnn(torch.randn(2, 5, 7))
    with pytest.raises(RnnkitError, match="lengths must lie in 1..5"):
        rnn(torch.randn(2, 5, 3), lengths=torch.tensor([6, 1]))
