"""The CPU sweep of the min-cells' linear recurrence (rnnkit.layers.linear_sweep) == the readable loop
(``scan_loop``) and the log-domain scan, in values and gradients; ``scan``'s auto picks it on a CPU for
steps of B*H >= 128, and the scan engine of the min-cells runs through it there."""

import pytest
import torch

from rnnkit.cells import make_cell
from rnnkit.layers import Recurrent
from rnnkit.layers import scan as scan_module
from rnnkit.layers.linear_sweep import sweep
from rnnkit.layers.scan import scan, scan_log, scan_loop


def coefficients(B, T, H, dtype=torch.float64):
    torch.manual_seed(0)
    log_a = -torch.nn.functional.softplus(2 * torch.randn(B, T, H, dtype=dtype))
    return log_a, torch.randn(B, T, H, dtype=dtype), torch.randn(B, H, dtype=dtype)


def test_sweep_gradcheck():
    log_a, log_b, h0 = (t.requires_grad_() for t in coefficients(2, 5, 3))
    assert torch.autograd.gradcheck(sweep, (log_a, log_b, h0))


def test_sweep_equals_the_loop_and_the_log_scan():
    log_a, log_b, h0 = coefficients(3, 70, 4)
    results = []
    for solve in (sweep, scan_loop, scan_log):
        a, b, h = (t.detach().requires_grad_() for t in (log_a, log_b, h0))
        out = solve(a, b, h)
        results.append([out, *torch.autograd.grad((out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum(),
                                                  (a, b, h))])
    for other in results[1:]:
        for x, y in zip(results[0], other):
            torch.testing.assert_close(x, y, rtol=1e-9, atol=1e-10)


def test_auto_sweeps_on_a_cpu_from_128_elements_a_step(monkeypatch):
    used = []
    monkeypatch.setattr(scan_module, "scan_log", lambda *a, **k: used.append("torch") or scan_log(*a, **k))
    scan(*coefficients(2, 4, 64))
    scan(*coefficients(1, 4, 64))
    assert used == ["torch"]  # B*H = 128 sweeps, 64 takes the log-domain scan


@pytest.mark.parametrize("name", ["mingru", "minlstm"])
def test_min_cells_scan_engine_through_the_sweep_equals_the_loop(name):
    torch.manual_seed(1)
    cell = make_cell(name, 3, 128).double()
    x = torch.randn(2, 9, 3, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, 128, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([9, 4])
    results = []
    for engine in ("scan", "loop"):
        out, final = Recurrent(cell, engine=engine)(x, h0, lengths)
        loss = (out * torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view_as(out)).sum() + (final ** 2).sum()
        results.append([out, final, *torch.autograd.grad(loss, (x, h0, *cell.parameters()))])
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)
