"""The CPU engine (``engine="cpu"``, rnnkit.layers.cpu_engine) beyond the agreement table
(tests/layers/test_agreement.py): the large-batch tanh path, ``Bidirectional`` with lengths, coupled + peephole,
per-unit MTRNN time constants, which cells ``auto`` gives it, a single step equal to the sequence, and
training a stack with dropout. Compared to the loop: outputs, final states and every gradient, float64 to
1e-10 and float32 to 1e-4 (absolute and relative).
"""

import pytest
import torch

from rnnkit.cells import CELLS, LSTMState, make_cell
from rnnkit.errors import RnnkitError
from rnnkit.layers import Bidirectional, Recurrent, build_rnn
from rnnkit.layers import cpu_steps
from rnnkit.layers.cpu_engine import cpu_step
from rnnkit.layers.torch_engine import torch_kernel

CPU_CELLS = ["elman", "elman-relu", "elman-sigmoid", "mtrnn", "simple-lstm", "lstm", "peephole-lstm",
             "coupled-lstm", "gru", "gru-course", "ln-lstm"]
TOLERANCE = {torch.float64: 1e-10, torch.float32: 1e-4}  # absolute and relative


def make(name, F, H, dtype, **opts):
    torch.manual_seed(0)
    cell = make_cell(name, F, H, **opts).to(dtype)
    with torch.no_grad():  # gains and peepholes away from their initial values, so every term is exercised
        for p in cell.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return cell


def random_state(cell, B, dtype):
    s = cell.init_state(B, dtype=dtype)
    return LSTMState(*(torch.randn_like(t) for t in s)) if isinstance(s, tuple) else torch.randn_like(s)


def flat(state):
    return [state] if isinstance(state, torch.Tensor) else [t for s in state for t in flat(s)]


def outputs_and_grads(layer, x, state, lengths):
    """Outputs, final state and d(loss)/d(x, state, parameters) for a loss that weights every output."""
    x = x.detach().requires_grad_()
    leaves = [t.detach().requires_grad_() for t in flat(state)] if state is not None else []
    if state is not None:
        state = rebuild(state, iter(leaves))
    out, final = layer(x, state, lengths)
    weights = torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view_as(out)
    loss = (out * weights).sum() + sum((f * f).sum() for f in flat(final))
    grads = torch.autograd.grad(loss, [x, *leaves, *layer.parameters()])
    return [out, *flat(final), *grads]


def rebuild(state, leaves):
    if isinstance(state, torch.Tensor):
        return next(leaves)
    parts = [rebuild(s, leaves) for s in state]
    return type(state)(*parts) if hasattr(state, "_fields") else type(state)(parts)


def assert_agree(make_layer, x, state, lengths, dtype):
    ref_layer, cpu_layer = make_layer("loop"), make_layer("cpu")
    ref = outputs_and_grads(ref_layer, x, state, lengths)
    got = outputs_and_grads(cpu_layer, x, state, lengths)
    assert cpu_layer.engine_used == "cpu"
    assert len(got) == len(ref)
    for i, (a, b) in enumerate(zip(got, ref)):
        torch.testing.assert_close(a, b, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype], msg=lambda m: f"item {i}: {m}")


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("name", CPU_CELLS)
def test_cpu_engine_equals_the_loop_with_tanh_through_sigmoid(name, dtype, monkeypatch):
    """Large steps compute tanh as 2 σ(2x) - 1 (``cpu_steps.TANH_VIA_SIGMOID``): the same function."""
    monkeypatch.setattr(cpu_steps, "TANH_VIA_SIGMOID", 1)
    cell = make(name, 3, 5, dtype)
    x = torch.randn(4, 6, 3, dtype=dtype)
    lens = torch.tensor([3, 6, 1, 4])
    assert_agree(lambda e: Recurrent(cell, engine=e), x, random_state(cell, 4, dtype), lens, dtype)


@pytest.mark.parametrize("lengths", [False, True])
@pytest.mark.parametrize("name", ["peephole-lstm", "ln-lstm", "gru-course", "mtrnn"])
def test_cpu_engine_bidirectional(name, lengths):
    dtype = torch.float64
    fwd, bwd = make(name, 3, 4, dtype), make(name, 3, 4, dtype)
    torch.manual_seed(2)
    x = torch.randn(3, 5, 3, dtype=dtype)
    state = (random_state(fwd, 3, dtype), random_state(bwd, 3, dtype))
    lens = torch.tensor([5, 2, 4]) if lengths else None
    assert_agree(lambda e: Bidirectional(fwd, bwd, engine=e), x, state, lens, dtype)


def test_cpu_engine_coupled_peephole_and_per_unit_tau():
    dtype = torch.float64
    x = torch.randn(3, 5, 2, dtype=dtype)
    lens = torch.tensor([5, 1, 3])
    cells = (make("coupled-lstm", 2, 4, dtype, peephole=True), make("mtrnn", 2, 4, dtype, tau=[1.0, 2.0, 5.0, 30.0]),
             make("mtrnn", 2, 4, dtype, activation="relu"))
    for cell in cells:
        assert_agree(lambda e: Recurrent(cell, engine=e), x, random_state(cell, 3, dtype), lens, dtype)


def test_auto_picks_the_cpu_engine_exactly_where_torch_has_no_kernel():
    for name in CELLS:
        layer = Recurrent(make_cell(name, 3, 4))
        expected = "torch" if torch_kernel(layer.cell) is not None else "scan" if name in ("mingru", "minlstm") \
            else "cpu"
        assert layer.engine_used == expected, name
        assert (cpu_step(layer.cell) is not None) == (name not in ("mingru", "minlstm")), name
    rnn = build_rnn("peephole-lstm", 3, 4, num_layers=2, bidirectional=True)
    rnn(torch.randn(2, 3, 3))
    assert {layer.engine_used for layer in rnn.layers} == {"cpu"}


def test_cpu_engine_refuses_the_min_cells():
    with pytest.raises(RnnkitError, match="engine 'cpu' cannot run"):
        Recurrent(make_cell("mingru", 3, 4), engine="cpu")


def test_a_single_step_carries_the_state_as_the_sequence_does():
    """Generation: T = 1 steps with a carried state give the outputs of the whole sequence at once."""
    cell = make("peephole-lstm", 3, 4, torch.float64)
    layer = Recurrent(cell, engine="cpu")
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    whole, final = layer(x)
    state, steps = None, []
    for t in range(6):
        out, state = layer(x[:, t:t + 1], state)
        steps.append(out)
    torch.testing.assert_close(torch.cat(steps, dim=1), whole, rtol=0, atol=1e-12)
    torch.testing.assert_close(state.c, final.c, rtol=0, atol=1e-12)


def test_stacked_training_with_dropout_runs_through_the_cpu_engine():
    torch.manual_seed(0)
    rnn = build_rnn("ln-lstm", 3, 4, num_layers=2, dropout=0.5)
    rnn.train()
    out, _ = rnn(torch.randn(2, 5, 3), lengths=torch.tensor([5, 3]))
    out.sum().backward()
    assert all(p.grad is not None for p in rnn.parameters())
    assert out[1, 3:].abs().max() == 0
