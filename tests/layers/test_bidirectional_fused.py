"""The fused bidirectional path (both directions in one call of torch's kernel, used by ``rnnkit tag``'s
BiLSTMs) equals the two directions run one after the other: outputs, final states and gradients."""

import pytest
import torch

from rnnkit.layers import build_rnn


@pytest.mark.parametrize("cell", ["lstm", "gru", "elman", "elman-relu"])
@pytest.mark.parametrize("with_lengths", [True, False])
def test_fused_bidirectional_equals_two_directions(cell, with_lengths, float64):
    torch.manual_seed(0)
    rnn = build_rnn(cell, 5, 4, num_layers=2, bidirectional=True)
    x = torch.randn(6, 7, 5, requires_grad=True)
    lengths = torch.tensor([7, 1, 3, 7, 5, 2]) if with_lengths else None
    assert all(layer.can_fuse(torch.zeros(1, 1, layer.fwd.cell.input_size)) for layer in rnn.layers)
    out, state = rnn(x, None, lengths)
    grads = torch.autograd.grad((out * torch.linspace(0, 1, out.numel()).view_as(out)).sum(), [x, *rnn.parameters()])
    for layer in rnn.layers:  # the readable path: each direction on its own, the backward one on reversed rows
        layer.can_fuse = lambda x: False
    out2, state2 = rnn(x, None, lengths)
    grads2 = torch.autograd.grad((out2 * torch.linspace(0, 1, out2.numel()).view_as(out2)).sum(), [x, *rnn.parameters()])
    assert torch.allclose(out, out2, atol=1e-12)
    for a, b in zip(torch.utils._pytree.tree_leaves(state), torch.utils._pytree.tree_leaves(state2)):
        assert torch.allclose(a, b, atol=1e-12)
    for a, b in zip(grads, grads2):
        assert torch.allclose(a, b, atol=1e-10)
