"""The fused Triton engine (rnnkit.kernels) beyond the agreement table (tests/layers/test_agreement.py): its tiles,
its programs, mixed precision, bidirectional stacks and its engine choice.

On a CPU the kernels run under TRITON_INTERPRET=1 (set by conftest.py): the per-step launch on small
shapes with several tiles, and the persistent launch with its single program (a grid barrier cannot be
waited on by programs that the interpreter runs one after another). tests/kernels/test_fused_gpu.py repeats this at full
shapes on a GPU. Compared: outputs, final states and the gradients of x, the initial state and every parameter.
"""

import pytest
import torch

pytest.importorskip("triton")

from rnnkit.cells import LSTMState, make_cell  # noqa: E402
from rnnkit.errors import RnnkitError  # noqa: E402
from rnnkit.layers import Recurrent, build_rnn  # noqa: E402
from rnnkit.kernels.spec import LaunchMode  # noqa: E402
from rnnkit.layers import fused_engine  # noqa: E402

FUSED_CELLS = ["elman", "elman-relu", "elman-sigmoid", "mtrnn", "simple-lstm", "lstm", "peephole-lstm",
               "coupled-lstm", "gru", "gru-course", "ln-lstm"]
MODES = ["fused-step", "fused-persistent"]


def random_state(cell, B, dtype=torch.float64):
    s = cell.init_state(B, dtype=dtype)
    return LSTMState(*(torch.randn_like(t) for t in s)) if isinstance(s, tuple) else torch.randn_like(s)


def run_and_grad(module_fn, cell, x, state, lengths):
    """Outputs, final state and d(loss)/d(x, state, parameters) for a loss that weights every output."""
    x = x.detach().requires_grad_()
    state = LSTMState(*(t.detach().requires_grad_() for t in state)) if isinstance(state, tuple) \
        else state.detach().requires_grad_()
    out, final = module_fn(x, state, lengths)
    finals = tuple(final) if isinstance(final, tuple) else (final,)
    states = tuple(state) if isinstance(state, tuple) else (state,)
    weights = torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view_as(out)
    loss = (out * weights).sum() + sum((f * f).sum() for f in finals)
    grads = torch.autograd.grad(loss, [x, *states, *cell.parameters()])
    return [out, *finals, *grads]


def assert_engines_agree(name, engine, B=3, T=5, F=4, H=6, lengths=True, dtype=torch.float64, atol=1e-10, **opts):
    """``engine``: an engine name, or a ``LaunchMode`` (the persistent kernel's tiles on a GPU of ``sms`` SMs)."""
    torch.manual_seed(0)
    cell = make_cell(name, F, H, **opts).to(dtype)
    x = torch.randn(B, T, F, dtype=dtype)
    state = random_state(cell, B, dtype)
    lens = torch.randint(1, T + 1, (B,)) if lengths else None
    if lengths:
        lens[0] = T
    ref = run_and_grad(Recurrent(cell, engine="loop"), cell, x, state, lens)
    if isinstance(engine, LaunchMode):
        got = run_and_grad(lambda x, s, n: fused_engine.run_fused(cell, x, s, n, engine), cell, x, state, lens)
    else:
        fused_layer = Recurrent(cell, engine=engine)
        got = run_and_grad(fused_layer, cell, x, state, lens)
        assert fused_layer.engine_used == engine
    assert len(got) == len(ref)
    for i, (a, b) in enumerate(zip(got, ref)):  # outputs, final state(s), grads of x, state(s), parameters
        torch.testing.assert_close(a, b, atol=atol, rtol=0, msg=lambda m: f"{name} {engine} tensor {i}: {m}")


@pytest.mark.parametrize("name", ["lstm", "gru", "mtrnn", "peephole-lstm"])
def test_fused_step_with_tensor_core_tiles(name):
    """B=17 rows, H=40 units: two batch tiles of 16, two unit tiles and two streamed chunks of 32 (tl.dot),
    masked edges."""
    assert_engines_agree(name, "fused-step", B=17, T=3, F=3, H=40, atol=1e-9)


@pytest.mark.parametrize("engine", MODES)
@pytest.mark.parametrize("name", ["gru-course", "ln-lstm"])
def test_whole_row_cells_over_several_programs_and_unit_blocks(name, engine):
    """The cells whose step needs a whole row (r before W_hn; layer norms): 2 programs of 16 rows, 2 blocks
    of 32 units, tl.dot tiles, in both launches."""
    assert_engines_agree(name, engine, B=17, T=3, F=3, H=40, atol=1e-9)


@pytest.mark.parametrize("B", [8, 20], ids=["small-batch", "dot-tiles"])
@pytest.mark.parametrize("name", ["elman", "mtrnn", "simple-lstm", "lstm", "peephole-lstm", "coupled-lstm", "gru"])
def test_persistent_kernel_with_several_programs(name, B):
    """The persistent kernel with the tiles it would get on a GPU of 8 SMs (B=8: 6 programs of 8 rows x 4
    units; B=20: 4 programs of 16 x 16 with tl.dot), W_hh's tile resident, launched once a step without its
    grid barrier: everything of the persistent launch but the barrier itself runs under the interpreter."""
    from rnnkit.kernels.tiling import persistent_tiles_for

    tiles = persistent_tiles_for(B, 24, 4, 8)
    assert tiles.grid[0] > 1 and tiles.BH < 24
    assert_engines_agree(name, LaunchMode(persistent=True, sms=8), B=B, T=4, F=3, H=24, atol=1e-9)


def test_mtrnn_per_unit_time_constants_and_peephole_coupled():
    assert_engines_agree("mtrnn", "fused-step", tau=torch.linspace(1, 8, 6).tolist())
    assert_engines_agree("lstm", "fused-persistent", peephole=True, coupled=True)


def test_bfloat16_inputs_keep_a_float32_state():
    """bf16 inputs: bf16 outputs, computed with a float32 state, close to the float32 loop."""
    torch.manual_seed(0)
    cell = make_cell("lstm", 8, 16)
    x = torch.randn(2, 12, 8)
    ref, (h, c) = Recurrent(cell, engine="loop")(x)
    out, (hb, cb) = Recurrent(cell, engine="fused-step")(x.bfloat16())
    assert out.dtype == hb.dtype == torch.bfloat16
    torch.testing.assert_close(out.float(), ref, atol=3e-2, rtol=0)
    torch.testing.assert_close(cb.float(), c, atol=3e-2, rtol=0)
    out.float().sum().backward()
    assert cell.weight_hh.grad.dtype == torch.float32 and torch.isfinite(cell.weight_hh.grad).all()


@pytest.mark.parametrize("cell", ["lstm", "peephole-lstm", "gru", "ln-lstm"])
def test_bidirectional_stack_through_fused_kernels(cell):
    torch.manual_seed(0)
    rnn = build_rnn(cell, 4, 5, num_layers=2, bidirectional=True).double()
    x = torch.randn(3, 6, 4, dtype=torch.float64)
    lengths = torch.tensor([6, 2, 4])
    results = []
    for engine in ("loop", "fused-step"):
        for m in rnn.modules():
            if isinstance(m, Recurrent):
                m.engine = engine
        rnn.zero_grad()
        out, state = rnn(x, lengths=lengths)
        out.pow(2).sum().backward()
        results.append((out.detach(), [p.grad.clone() for p in rnn.parameters()]))
    torch.testing.assert_close(results[0][0], results[1][0])
    for a, b in zip(results[0][1], results[1][1]):
        torch.testing.assert_close(a, b)


def test_cells_the_kernels_lack_are_refused():
    for name in ("mingru",):
        with pytest.raises(RnnkitError, match="fused kernels implement"):
            Recurrent(make_cell(name, 3, 4), engine="fused")


@pytest.mark.slow
def test_char_lm_trains_through_the_fused_engine_from_the_cli(tmp_path, periodic_corpus, capsys):
    from rnnkit.cli import main

    out = tmp_path / "run"
    assert main(["train", "--corpus", str(periodic_corpus), "--out", str(out), "--engine", "fused-step",
                 "--cell", "ln-lstm", "--hidden", "16", "--steps", "4", "--seq-len", "8", "--batch-size", "4",
                 "--sample-every", "0", "--eval-windows", "2", "--eval-window", "8"]) == 0
    assert "engine fused-step" in capsys.readouterr().out
    assert main(["sample", "--checkpoint", str(out), "--prime", "the ", "--length", "10", "--temperature", "0"]) == 0
    assert capsys.readouterr().out.startswith("the ")


def test_fused_needs_a_gpu_or_the_interpreter(monkeypatch):
    from rnnkit.kernels import tiling

    monkeypatch.setattr(tiling, "INTERPRETED", False)
    with pytest.raises(RnnkitError, match="CUDA GPU"):
        Recurrent(make_cell("lstm", 3, 4), engine="fused")(torch.randn(2, 3, 3))


def test_auto_policy_on_a_gpu(monkeypatch):
    """engine='auto' on a GPU: persistent for small batches and H <= 512 when the tile fits, cuDNN for the
    standard cells otherwise, the fused kernels for variant cells (persistent if it fits, else per-step)."""
    lstm, peep = make_cell("lstm", 8, 256), make_cell("peephole-lstm", 8, 256)
    monkeypatch.setattr(fused_engine, "persistent_fits", lambda cell, B, device: B <= 64)
    choose = fused_engine.choose_gpu_engine
    assert choose(lstm, 8, True) == "fused-persistent"
    assert choose(lstm, 64, True) == "torch"
    assert choose(make_cell("lstm", 8, 1024), 1, True) == "torch"
    assert choose(peep, 64, False) == "fused-persistent"
    assert choose(peep, 256, False) == "fused-step"
    assert choose(make_cell("mingru", 8, 16), 4, False) == "loop"  # (Recurrent picks 'scan' before asking)


def test_engine_used_on_a_cpu(monkeypatch):
    layer = Recurrent(make_cell("lstm", 3, 4), engine="fused")
    assert layer.engine_used == "fused-step"  # under the interpreter 'fused' means the per-step launch
    assert not Recurrent(make_cell("peephole-lstm", 3, 4)).engine_used.startswith("fused")  # 'auto' on a CPU
    monkeypatch.delenv("TRITON_INTERPRET")  # a plain CPU: 'fused' acts as 'auto' (a GPU model samples on a CPU)
    layer(torch.randn(2, 3, 3))
    assert layer.engine_used == "torch"
    ln = make_cell("ln-lstm", 3, 4)
    assert Recurrent(ln, engine="fused").engine_used == Recurrent(ln, engine="auto").engine_used


@pytest.mark.parametrize("name", ["lstm", "gru-course", "ln-lstm"])
def test_a_bfloat16_model(name):
    """Weights and inputs in bf16: bf16 outputs and weight gradients, a float32 state inside."""
    torch.manual_seed(0)
    cell = make_cell(name, 8, 16)
    x = torch.randn(2, 5, 8)
    ref, _ = Recurrent(cell, engine="loop")(x)
    half = make_cell(name, 8, 16)
    half.load_state_dict(cell.state_dict())
    half = half.bfloat16()
    out, _ = Recurrent(half, engine="fused-step")(x.bfloat16())
    torch.testing.assert_close(out.float(), ref, atol=3e-2, rtol=0)
    out.float().sum().backward()
    assert half.weight_hh.grad.dtype == torch.bfloat16 and torch.isfinite(half.weight_hh.grad.float()).all()


def test_autocast_bfloat16_training_step():
    """Under autocast the input GEMM runs in bf16; the recurrence keeps float32; gradients reach every weight."""
    torch.manual_seed(0)
    cell = make_cell("gru", 8, 16)
    x = torch.randn(4, 6, 8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out, h = Recurrent(cell, engine="fused-step")(x)
    ref, h_ref = Recurrent(cell, engine="loop")(x)
    torch.testing.assert_close(out.float(), ref, atol=3e-2, rtol=0)
    out.float().pow(2).mean().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in cell.parameters())
