"""The engine promise, stated once: every engine that can run a cell computes what the readable loop
computes. For every registered cell and every engine valid for it (read from the code's own rules:
``torch_kernel``, ``ScanCell``, ``cpu_step``, ``fused_spec``), with and without lengths, in both
directions (the interpreted fused kernels' reversed runs are marked slow), in float64 and float32, from a
random initial state:
outputs, final states and the gradients of x, the initial state and every parameter agree with
``engine="loop"`` to the tolerance of the table below.

The NumPy engine (``rnnkit.scratch``) is held to the same reference in tests/scratch/test_scratch_equality.py,
and the loop itself to ``torch.nn``'s cells in tests/cells/test_cells.py.
"""

import pytest
import torch

from rnnkit.cells import CELLS, LSTMState, make_cell
from rnnkit.cells.min_rnn import ScanCell
from rnnkit.layers import Recurrent
from rnnkit.layers.cpu_engine import cpu_step
from rnnkit.layers.fused_engine import fused_spec, triton_available
from rnnkit.layers.torch_engine import torch_kernel

#: (engine, dtype) -> absolute and relative tolerance against the loop. float32 engines that reorder sums
#: (one GEMM over all steps, a scan) differ from the loop in the last bits, summed over T steps.
TOLERANCE = {torch.float64: 1e-9, torch.float32: 1e-4}
FUSED = ("fused-step", "fused-persistent")


def engines_for(name: str) -> list[str]:
    cell = make_cell(name, 2, 3)
    engines = []
    if torch_kernel(cell) is not None:
        engines.append("torch")
    if isinstance(cell, ScanCell):
        engines.append("scan")
    if cpu_step(cell) is not None:
        engines.append("cpu")
    if fused_spec(cell) is not None and triton_available():
        engines += FUSED
    return engines


TABLE = [(name, engine) for name in CELLS for engine in engines_for(name)]
CASES = [pytest.param(name, engine, reverse, id=f"{name}-{engine}-{'reversed' if reverse else 'forward'}",
                      marks=[pytest.mark.slow] if reverse and engine in FUSED else [])
         for name, engine in TABLE for reverse in (False, True)]


def state_leaves(state):
    return list(state) if isinstance(state, tuple) else [state]


def run(layer, cell, x, state, lengths):
    x = x.detach().requires_grad_()
    leaves = [t.detach().requires_grad_() for t in state_leaves(state)]
    state = LSTMState(*leaves) if isinstance(state, tuple) else leaves[0]
    out, final = layer(x, state, lengths)
    weights = torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view_as(out)
    loss = (out * weights).sum() + sum((f * f).sum() for f in state_leaves(final))
    return [out, *state_leaves(final), *torch.autograd.grad(loss, [x, *leaves, *cell.parameters()])]


def test_the_table_covers_every_cell_and_engine():
    assert {name for name, _ in TABLE} == set(CELLS)
    assert {engine for _, engine in TABLE} >= {"torch", "scan", "cpu"}


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("name, engine, reverse", CASES)
def test_every_engine_equals_the_loop(name, engine, reverse, lengths, dtype):
    B, T, F, H = 3, 5, 4, 6
    torch.manual_seed(0)
    cell = make_cell(name, F, H).to(dtype)
    with torch.no_grad():  # parameters away from their initial values (gains, peepholes), every term exercised
        for p in cell.parameters():
            p.add_(0.2 * torch.randn_like(p))
    x = torch.randn(B, T, F, dtype=dtype)
    s = cell.init_state(B, dtype=dtype)
    state = LSTMState(*(torch.randn_like(t) for t in s)) if isinstance(s, tuple) else torch.randn_like(s)
    lens = torch.tensor([T, 2, 4]) if lengths else None
    reference = run(Recurrent(cell, reverse=reverse, engine="loop"), cell, x, state, lens)
    layer = Recurrent(cell, reverse=reverse, engine=engine)
    got = run(layer, cell, x, state, lens)
    assert layer.engine_used == engine
    tol = TOLERANCE[dtype]
    for i, (a, b) in enumerate(zip(got, reference)):  # outputs, final state(s), grads of x, state(s), parameters
        torch.testing.assert_close(a, b, atol=tol, rtol=tol, msg=lambda m: f"{name} {engine} tensor {i}: {m}")
