"""Cells: equality with torch.nn (outputs and gradients, copied weights), the course's equations for
the cells torch lacks, state types, and the initialisations."""

import pytest
import torch

from rnnkit.cells import (
    CELLS, ElmanCell, GRUCell, LSTMCell, LSTMState, MTRNNCell, SimpleLSTMCell, init_cell_, make_cell,
    spectral_radius,
)
from rnnkit.errors import RnnkitError

pytestmark = pytest.mark.usefixtures("float64")

B, F, H = 3, 5, 4

TORCH_PAIRS = [
    (lambda: ElmanCell(F, H, "tanh"), lambda: torch.nn.RNNCell(F, H, nonlinearity="tanh")),
    (lambda: ElmanCell(F, H, "relu"), lambda: torch.nn.RNNCell(F, H, nonlinearity="relu")),
    (lambda: LSTMCell(F, H), lambda: torch.nn.LSTMCell(F, H)),
    (lambda: GRUCell(F, H), lambda: torch.nn.GRUCell(F, H)),
]


@pytest.mark.parametrize("make_ours, make_theirs", TORCH_PAIRS, ids=["tanh", "relu", "lstm", "gru"])
def test_equals_torch_nn_cell(make_ours, make_theirs):
    torch.manual_seed(0)
    theirs = make_theirs()
    ours = make_ours()
    ours.load_state_dict(theirs.state_dict())  # same names and shapes: the state dict loads
    x = torch.randn(B, F)
    if isinstance(ours, LSTMCell):
        h0, c0 = torch.randn(B, H), torch.randn(B, H)
        out, (h, c) = ours(x, LSTMState(h0, c0))
        h_ref, c_ref = theirs(x, (h0, c0))
        loss, loss_ref = (h * h.cos()).sum() + c.sin().sum(), (h_ref * h_ref.cos()).sum() + c_ref.sin().sum()
        torch.testing.assert_close(c, c_ref, rtol=0, atol=1e-12)
    else:
        h0 = torch.randn(B, H)
        out, h = ours(x, h0)
        h_ref = theirs(x, h0)
        loss, loss_ref = (h * h.cos()).sum(), (h_ref * h_ref.cos()).sum()
    torch.testing.assert_close(h, h_ref, rtol=0, atol=1e-12)
    assert out is h
    g_ours = torch.autograd.grad(loss, list(ours.parameters()))
    g_theirs = torch.autograd.grad(loss_ref, list(theirs.parameters()))
    for (name, _), a, b in zip(ours.named_parameters(), g_ours, g_theirs):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12, msg=f"gradient of {name}")


def test_lstm_gate_order_is_i_f_g_o():
    """Set one gate's bias block large and check its effect: names the order once, in a test."""
    cell = LSTMCell(1, 1)
    with torch.no_grad():
        for p in cell.parameters():
            p.zero_()
        cell.bias_ih.copy_(torch.tensor([30.0, -30.0, 1.0, 30.0]))  # i open, f shut, g = tanh(1), o open
    _, (h, c) = cell(torch.zeros(1, 1), LSTMState(torch.zeros(1, 1), torch.full((1, 1), 5.0)))
    torch.testing.assert_close(c, torch.tanh(torch.ones(1, 1)), atol=1e-4, rtol=0)  # c_{t-1} forgotten


def test_gru_update_gate_keeps_old_state():
    """Gate order r, z, n; h_t = (1 - z) * n + z * h_{t-1}: z -> 1 keeps the old state."""
    cell = GRUCell(2, 3)
    with torch.no_grad():
        cell.bias_ih[3:6] = 50.0  # z block
    h0 = torch.randn(4, 3)
    _, h = cell(torch.randn(4, 2), h0)
    torch.testing.assert_close(h, h0, atol=1e-10, rtol=0)


def test_course_gru_applies_reset_before_product():
    cell = GRUCell(F, H, reset_after=False)
    x, h = torch.randn(B, F), torch.randn(B, H)
    W_ir, W_iz, W_in = cell.weight_ih.chunk(3)
    W_hr, W_hz, W_hn = cell.weight_hh.chunk(3)
    b = cell.bias_ih + cell.bias_hh
    b_r, b_z, b_n = b.chunk(3)
    r = torch.sigmoid(x @ W_ir.T + h @ W_hr.T + b_r)
    z = torch.sigmoid(x @ W_iz.T + h @ W_hz.T + b_z)
    n = torch.tanh(x @ W_in.T + (r * h) @ W_hn.T + b_n)
    torch.testing.assert_close(cell(x, h)[0], (1 - z) * n + z * h)


def test_simple_lstm_is_residual():
    cell = SimpleLSTMCell(F, H)
    x, h, c = torch.randn(B, F), torch.randn(B, H), torch.randn(B, H)
    _, (h1, c1) = cell(x, LSTMState(h, c))
    torch.testing.assert_close(c1, c + torch.tanh(x @ cell.weight_ih.T + h @ cell.weight_hh.T + cell.bias_ih + cell.bias_hh))
    torch.testing.assert_close(h1, torch.tanh(c1))
    # d c_t / d c_{t-1} = I
    jac = torch.autograd.functional.jacobian(lambda c_: cell(x, LSTMState(h, c_))[1].c, c)
    torch.testing.assert_close(jac, torch.eye(B).view(B, 1, B, 1) * torch.eye(H).view(1, H, 1, H))


def _lstm_reference(cell, x, h, c):
    """The course's peephole/coupled equations written out with explicit gate weights."""
    gates = x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh
    if cell.coupled:
        f_, g_, o_ = gates.chunk(3, 1)
    else:
        i_, f_, g_, o_ = gates.chunk(4, 1)
    p = cell.peephole
    f = torch.sigmoid(f_ + (cell.w_cf * c if p else 0))
    i = 1 - f if cell.coupled else torch.sigmoid(i_ + (cell.w_ci * c if p else 0))
    c_new = f * c + i * torch.tanh(g_)
    o = torch.sigmoid(o_ + (cell.w_co * c_new if p else 0))
    return o * torch.tanh(c_new), c_new


@pytest.mark.parametrize("peephole, coupled", [(True, False), (False, True), (True, True)])
def test_lstm_variants_follow_equations(peephole, coupled):
    cell = LSTMCell(F, H, peephole=peephole, coupled=coupled)
    x, h, c = torch.randn(B, F), torch.randn(B, H), torch.randn(B, H)
    _, (h1, c1) = cell(x, LSTMState(h, c))
    h_ref, c_ref = _lstm_reference(cell, x, h, c)
    torch.testing.assert_close(h1, h_ref)
    torch.testing.assert_close(c1, c_ref)
    if coupled:
        assert cell.weight_ih.shape == (3 * H, F)


def test_mtrnn_leaky_integration():
    cell = MTRNNCell(F, H, tau=[1.0, 2.0, 4.0, 100.0])
    x, h = torch.randn(B, F), torch.randn(B, H)
    a = torch.tanh(x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh)
    alpha = 1 / torch.tensor([1.0, 2.0, 4.0, 100.0])
    torch.testing.assert_close(cell(x, h)[0], (1 - alpha) * h + alpha * a)
    # tau = 1 is the Elman cell
    m, e = MTRNNCell(F, H, tau=1.0), ElmanCell(F, H)
    e.load_state_dict(m.state_dict(), strict=False)
    torch.testing.assert_close(m(x, h)[0], e(x, h)[0])
    with pytest.raises(RnnkitError, match="tau"):
        MTRNNCell(F, H, tau=0.5)


@pytest.mark.parametrize("name", sorted(CELLS))
def test_every_cell_init_state_and_shapes(name):
    cell = make_cell(name, F, H)
    s = cell.init_state(B)
    out, s2 = cell(torch.randn(B, F), s)
    assert out.shape == (B, H)
    assert type(s2) is type(s)
    if cell.has_cell_state:
        assert isinstance(s, LSTMState) and torch.equal(s.c, torch.zeros(B, H))


def test_unknown_cell_lists_choices():
    with pytest.raises(RnnkitError, match=r"unknown cell 'lstn'; choose one of: .*lstm"):
        make_cell("lstn", 2, 2)


def test_initialisations():
    cell = init_cell_(ElmanCell(F, H, "relu"), "identity")
    torch.testing.assert_close(cell.weight_hh, torch.eye(H))
    assert not cell.bias_ih.any() and not cell.bias_hh.any()
    cell = init_cell_(LSTMCell(F, 8), "orthogonal")
    for block in cell.weight_hh.view(4, 8, 8):
        torch.testing.assert_close(block @ block.T, torch.eye(8))
    for rho in (0.5, 1.5):
        cell = init_cell_(GRUCell(F, 16), "spectral", rho)
        for block in cell.weight_hh.view(3, 16, 16):
            assert abs(spectral_radius(block) - rho) < 1e-6
    cell = init_cell_(LSTMCell(F, H), "default", forget_bias=1.0)
    assert torch.equal(cell.bias_ih[H : 2 * H], torch.ones(H)) and not cell.bias_hh[H : 2 * H].any()
    cell = init_cell_(LSTMCell(F, H, coupled=True), "default", forget_bias=2.0)
    assert torch.equal(cell.bias_ih[:H], torch.full((H,), 2.0))
    cell = init_cell_(GRUCell(F, H), forget_bias=2.0)  # the update gate z is the GRU's forget gate
    assert torch.equal(cell.bias_ih[H : 2 * H], torch.full((H,), 2.0))
    with pytest.raises(RnnkitError, match="no forget gate"):
        init_cell_(ElmanCell(F, H), forget_bias=1.0)
    with pytest.raises(RnnkitError, match="unknown initialisation"):
        init_cell_(GRUCell(F, H), "xavier")
