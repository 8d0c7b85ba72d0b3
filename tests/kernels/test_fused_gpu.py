"""GPU checks: run only where CUDA is available, skipped cleanly elsewhere (CI has no GPU)."""

import pytest
import torch

from rnnkit.cli import main

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


def test_train_on_gpu_with_mixed_precision_then_sample_on_cpu(tmp_path, periodic_corpus, capsys):
    out = tmp_path / "gpu"
    assert main(["train", "--corpus", str(periodic_corpus), "--out", str(out), "--device", "cuda", "--amp",
                 "--hidden", "64", "--layers", "2", "--steps", "100", "--lr", "0.01", "--sample-every", "0",
                 "--eval-windows", "8", "--eval-window", "32", "--seq-len", "32"]) == 0
    capsys.readouterr()
    assert main(["sample", "--checkpoint", str(out), "--device", "cpu", "--prime", "the ", "--length", "30",
                 "--temperature", "0"]) == 0
    assert capsys.readouterr().out.startswith("the ")


@pytest.mark.parametrize("cell", ["lstm", "gru", "elman"])
def test_engines_agree_on_gpu(cell):
    from rnnkit.layers import Recurrent, build_rnn

    rnn = build_rnn(cell, 8, 16, num_layers=2, bidirectional=True).cuda().double()
    x = torch.randn(4, 9, 8, device="cuda", dtype=torch.float64)
    lengths = torch.tensor([9, 3, 5, 1])
    outs = []
    for engine in ("loop", "torch"):
        for m in rnn.modules():
            if isinstance(m, Recurrent):
                m.engine = engine
        outs.append(rnn(x, lengths=lengths)[0])
    torch.testing.assert_close(outs[0], outs[1])


# ---------------------------------------------------------------- the fused engine at full shapes
B_FULL, F_FULL, H_FULL, T_FULL = 8, 256, 512, 64
DEVICE = "cuda"


@pytest.fixture(autouse=True)
def stop_a_hung_kernel():
    """The persistent kernel's grid barrier waits forever if a program is not resident: rather than hang the
    suite, print every thread's traceback (naming the test) and exit after 5 minutes in one test."""
    import faulthandler

    faulthandler.dump_traceback_later(300, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


def fused_helpers():
    """tests/kernels/test_fused_kernels.py's cell list and its run-and-differentiate helper (imported here, not
    copied)."""
    pytest.importorskip("triton")
    import test_fused_kernels

    return test_fused_kernels


def assert_scaled_close(got, ref, rel: float, what: str):
    """max |got - ref| <= rel * max |ref|: one tolerance for tensors of any magnitude (gradients sum B*T terms)."""
    scale = ref.abs().max().item() or 1.0
    err = (got.float() - ref.float()).abs().max().item()
    assert err <= rel * scale + 1e-6, f"{what}: max |difference| {err:.3g} > {rel:g} x max |reference| {scale:.3g}"


def full_shape_case(name, lengths: bool, dtype=torch.float32):
    torch.manual_seed(0)
    tf = fused_helpers()
    cell = tf.make_cell(name, F_FULL, H_FULL).to(DEVICE)
    x = torch.randn(B_FULL, T_FULL, F_FULL, device=DEVICE, dtype=dtype)
    state = tf.random_state(cell, B_FULL, torch.float32)
    state = type(state)(*(t.to(DEVICE) for t in state)) if isinstance(state, tuple) else state.to(DEVICE)
    T = T_FULL
    lens = torch.tensor([T, 1, T // 4 + 1, T, T // 2 + 1, 2, 3 * T // 4 + 1, T - 1])[:B_FULL] if lengths else None
    return tf, cell, x, state, lens


def run_fused_or_skip(tf, engine, cell, x, state, lens):
    layer = tf.Recurrent(cell, engine=engine)
    try:
        got = tf.run_and_grad(layer, cell, x, state, lens)
    except tf.RnnkitError as e:
        if "does not fit" in str(e):  # the persistent tile must fit the GPU's SMs and registers
            pytest.skip(str(e))
        raise
    assert layer.engine_used == engine
    return got


@pytest.mark.parametrize("lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("engine", ["fused-step", "fused-persistent"])
@pytest.mark.parametrize("name", ["elman", "elman-relu", "elman-sigmoid", "mtrnn", "simple-lstm", "lstm",
                                  "peephole-lstm", "coupled-lstm", "gru", "gru-course", "ln-lstm"])
def test_fused_equals_loop_at_full_shape_in_float32(name, engine, lengths):
    """B=8, H=512, T=64, float32: outputs, final state(s) and the gradients of x, the initial state and
    every parameter agree with the readable loop to float32 accuracy (the kernels' products are IEEE fp32)."""
    tf, cell, x, state, lens = full_shape_case(name, lengths)
    assert name in tf.FUSED_CELLS
    ref = tf.run_and_grad(tf.Recurrent(cell, engine="loop"), cell, x, state, lens)
    got = run_fused_or_skip(tf, engine, cell, x, state, lens)
    states = ["h", "c"] if cell.has_cell_state else ["h"]
    names = ["outputs", *(f"final {s}" for s in states), "grad x", *(f"grad {s}_0" for s in states),
             *(f"grad {n}" for n, _ in cell.named_parameters())]
    assert len(got) == len(ref) == len(names)
    for what, a, b in zip(names, got, ref):
        assert_scaled_close(a, b, 2e-4, f"{name} {engine} {what}")
    if lengths:
        assert not got[0][1, 1:].any()  # outputs past a row's length are zero


@pytest.mark.parametrize("engine", ["fused-step", "fused-persistent"])
@pytest.mark.parametrize("name", ["elman", "mtrnn", "simple-lstm", "lstm", "peephole-lstm", "coupled-lstm", "gru",
                                  "gru-course", "ln-lstm"])
def test_bfloat16_inputs_are_close_to_float32(name, engine):
    """bf16 inputs (8-bit mantissa, 4e-3 per rounding) with a float32 state: bf16 outputs close to the float32
    loop's, over 64 steps, and finite float32 weight gradients close to the float32 ones."""
    tf, cell, x, state, lens = full_shape_case(name, lengths=True)
    ref = tf.run_and_grad(tf.Recurrent(cell, engine="loop"), cell, x, state, lens)
    got = run_fused_or_skip(tf, engine, cell, x.bfloat16(), state, lens)
    assert got[0].dtype == torch.bfloat16
    assert_scaled_close(got[0], ref[0], 5e-2, f"{name} {engine} outputs")
    params = list(cell.parameters())
    for (n, _), a, b in zip(cell.named_parameters(), got[-len(params):], ref[-len(params):]):
        assert a.dtype == torch.float32 and torch.isfinite(a).all(), n
        assert_scaled_close(a, b, 1e-1, f"{name} {engine} grad {n}")


@pytest.mark.parametrize("cell", ["lstm", "gru", "peephole-lstm", "ln-lstm"])
def test_auto_engine_on_a_gpu_runs_a_valid_engine_and_agrees(cell):
    """engine='auto' picks persistent, per-step or cuDNN by shape; whichever it ran equals the loop."""
    from rnnkit.layers import Recurrent, build_rnn

    torch.manual_seed(0)
    rnn = build_rnn(cell, 32, 256, num_layers=2, bidirectional=True).cuda()
    x, lengths = torch.randn(4, 40, 32, device="cuda"), torch.tensor([40, 7, 25, 1])
    out_auto = rnn(x, lengths=lengths)[0]
    used = {m.engine_used for m in rnn.modules() if isinstance(m, Recurrent)}
    assert used <= {"torch", "fused-step", "fused-persistent"}, used
    for m in rnn.modules():
        if isinstance(m, Recurrent):
            m.engine = "loop"
    assert_scaled_close(out_auto, rnn(x, lengths=lengths)[0], 2e-4, f"{cell} auto ({used}) vs loop")


@pytest.mark.slow
def test_the_gpu_benchmark_runs_on_a_gpu(tmp_path):
    """A short pass of benchmarks/gpu.py on the GPU (its full run is ~10 minutes)."""
    import json
    import subprocess
    import sys

    from conftest import ROOT

    out = tmp_path / "gpu.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks/gpu.py"), "--quick", "--only", "standard,scan,sample",
                           "--budget-scale", "0.2", "--repeats", "2", "--json", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads(out.read_text())
    rows = results["standard"]["rows"]
    assert rows and all(r["ms"]["cudnn"] > 0 for r in rows)
    assert any(r["ms"].get("fused-persistent") for r in rows), [r["errors"] for r in rows]
    assert results["sample"]["ok"]
