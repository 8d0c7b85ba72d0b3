"""Scratch engine == PyTorch cells (rnnkit.cells through Recurrent(engine="loop"), and torch.nn's cells)
given the same weights: forward outputs, final state and every gradient, to 1e-6 in float64."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from rnnkit import cells  # noqa: E402
from rnnkit.errors import RnnkitError  # noqa: E402
from rnnkit.layers import Recurrent  # noqa: E402
from rnnkit.scratch import CharRNN, make_cell  # noqa: E402
from rnnkit.scratch.head import SoftmaxHead  # noqa: E402
from rnnkit.scratch.convert import from_torch, head_from_torch, head_to_torch, to_torch  # noqa: E402

B, T, F, H, V = 3, 6, 4, 5, 7
TOL = 1e-6
NAMES = ["elman", "elman-relu", "elman-sigmoid", "lstm", "gru"]


def as_tuple(state):
    return tuple(state) if isinstance(state, tuple) else (state,)


def both_ways(scratch, module, step):
    """Loss = CE(head(outputs), targets) + <R, final state>, from a random initial state, on both engines;
    compares outputs, final state, and the gradients of every parameter, of x and of the initial state."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(B, T, F))
    targets = rng.integers(0, V, size=(B, T))
    states0 = tuple(rng.normal(scale=0.5, size=(B, H)) for _ in range(2 if scratch.has_cell_state else 1))
    R = [rng.normal(size=(B, H)) for _ in states0]
    head = SoftmaxHead(H, V, seed=3)

    # scratch: forward, then the hand-written backward
    state0 = states0 if scratch.has_cell_state else states0[0]
    hs, final, cache = scratch.forward(x, state0)
    loss, head_cache = head.forward(hs, targets, reduction="sum")
    loss += sum(float((r * s).sum()) for r, s in zip(R, as_tuple(final)))
    head_grads, dhs = head.backward(head_cache)
    grads, dx, dstate0 = scratch.backward(dhs, cache, tuple(R) if scratch.has_cell_state else R[0])

    # torch: the same weights, autograd
    linear = head_to_torch(head)
    xt = torch.tensor(x, requires_grad=True)
    st = [torch.tensor(s, requires_grad=True) for s in states0]
    outputs, final_t = step(module, xt, cells.LSTMState(*st) if scratch.has_cell_state else st[0])
    logits = linear(outputs)
    loss_t = torch.nn.functional.cross_entropy(logits.reshape(-1, V), torch.tensor(targets).reshape(-1), reduction="sum")
    loss_t = loss_t + sum((torch.tensor(r) * s).sum() for r, s in zip(R, as_tuple(final_t)))
    loss_t.backward()

    def close(ours, theirs, what):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=0, atol=TOL, err_msg=what)

    close(hs, outputs, "outputs")
    for a, b in zip(as_tuple(final), as_tuple(final_t)):
        close(a, b, "final state")
    assert abs(loss - loss_t.item()) < TOL
    for name, p in module.named_parameters():
        close(grads[name], p.grad, f"gradient of {name}")
    close(head_grads["weight"], linear.weight.grad, "gradient of head.weight")
    close(head_grads["bias"], linear.bias.grad, "gradient of head.bias")
    close(dx, xt.grad, "gradient of x")
    for a, b in zip(as_tuple(dstate0), st):
        close(a, b.grad, "gradient of the initial state")


def recurrent_loop(module, x, state):
    return Recurrent(module, engine="loop")(x, state)


@pytest.mark.parametrize("name", NAMES)
def test_scratch_equals_rnnkit_cells(name):
    scratch = make_cell(name, F, H, seed=1)
    module = to_torch(scratch)  # an rnnkit.cells cell with the scratch weights, in float64
    assert isinstance(module, cells.RecurrentCell) and module.weight_hh.dtype == torch.float64
    both_ways(scratch, module, recurrent_loop)


TORCH_NN = {
    "elman": lambda: torch.nn.RNNCell(F, H, nonlinearity="tanh"),
    "elman-relu": lambda: torch.nn.RNNCell(F, H, nonlinearity="relu"),
    "lstm": lambda: torch.nn.LSTMCell(F, H),
    "gru": lambda: torch.nn.GRUCell(F, H),
}


def torch_nn_loop(module, x, state):
    outputs = []
    for t in range(x.shape[1]):
        state = module(x[:, t], tuple(state) if isinstance(state, tuple) else state)
        outputs.append(state[0] if isinstance(state, tuple) else state)
    return torch.stack(outputs, 1), state


@pytest.mark.parametrize("name", list(TORCH_NN))
def test_scratch_equals_torch_nn_cells(name):
    torch.manual_seed(0)
    module = TORCH_NN[name]().double()
    scratch = from_torch(module)  # torch -> scratch
    assert scratch.name == name
    both_ways(scratch, module, torch_nn_loop)


@pytest.mark.parametrize("name", NAMES)
def test_weights_convert_both_ways(name):
    torch.manual_seed(0)
    module = cells.make_cell(name, F, H).double()
    scratch = from_torch(module)
    back = to_torch(scratch)
    for key, value in module.state_dict().items():
        assert torch.equal(back.state_dict()[key], value), key
        np.testing.assert_array_equal(scratch.params[key], value.numpy())
    # into an existing module, and the head through torch.nn.Linear
    target = cells.make_cell(name, F, H).double()
    to_torch(scratch, target)
    assert all(torch.equal(target.state_dict()[k], v) for k, v in module.state_dict().items())
    head = CharRNN(scratch, F, H).head
    np.testing.assert_array_equal(head_from_torch(head_to_torch(head)).params["weight"], head.params["weight"])


def test_unconvertible_cells_are_named():
    with pytest.raises(RnnkitError, match="no cell for .*peephole"):
        from_torch(cells.LSTMCell(F, H, peephole=True))
    with pytest.raises(RnnkitError, match="no cell for"):
        from_torch(cells.GRUCell(F, H, reset_after=False))
    with pytest.raises(RnnkitError, match="weight_ih: GRUCell.* has shape"):
        to_torch(make_cell("gru", F, H), cells.GRUCell(F, H + 1))


@pytest.mark.parametrize("engine", ["fused-step", "fused-persistent"])
@pytest.mark.parametrize("name", NAMES)
def test_scratch_equals_fused_kernels(name, engine):
    """The chain's third link: the NumPy oracle == the Triton kernels (under TRITON_INTERPRET=1 on a CPU)."""
    pytest.importorskip("triton")
    scratch = make_cell(name, F, H, seed=1)
    both_ways(scratch, to_torch(scratch), lambda module, x, state: Recurrent(module, engine=engine)(x, state))
