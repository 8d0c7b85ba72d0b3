"""minGRU and minLSTM: the parallel mode (the log-domain scan) equals the sequential mode in outputs and
gradients, with variable lengths and a given initial state; the scan is stable at T = 65,536; the
Triton kernel equals the PyTorch scan (under TRITON_INTERPRET=1 on a CPU); the cells work through the
layers, the models and the CLI."""

import json
import math
import os
import subprocess
import sys

import pytest
import torch

from conftest import one_line_error
from rnnkit.cells import CELLS, MinGRUCell, MinLSTMCell, init_cell_, make_cell
from rnnkit.cells.min_rnn import g, log_g
from rnnkit.cli import main
from rnnkit.errors import RnnkitError
from rnnkit.layers import Recurrent, build_rnn
from rnnkit.layers.scan import scan, scan_log, scan_loop

MIN_CELLS = ["mingru", "minlstm"]


def random_coefficients(B, T, H, seed=0, dtype=torch.float64):
    """log a_t in (-inf, 0] (some steps forget almost everything), log b_t of any size, h_0 of any sign."""
    gen = torch.Generator().manual_seed(seed)
    log_a = -torch.nn.functional.softplus(2 * torch.randn(B, T, H, generator=gen, dtype=dtype))
    log_b = torch.randn(B, T, H, generator=gen, dtype=dtype)
    return log_a, log_b, torch.randn(B, H, generator=gen, dtype=dtype)


def grads(outputs, inputs, seed=1):
    w = torch.randn(outputs.shape, generator=torch.Generator().manual_seed(seed), dtype=outputs.dtype)
    return torch.autograd.grad((outputs * w).sum(), inputs)


def test_g_is_positive_and_log_g_is_its_log(float64):
    x = torch.linspace(-30, 30, 601)
    assert bool((g(x) > 0).all())
    torch.testing.assert_close(log_g(x), torch.log(g(x)))
    assert torch.isfinite(torch.autograd.grad(log_g(x.requires_grad_()).sum(), x)[0]).all()


@pytest.mark.parametrize("T, chunk", [(1, 32), (7, 32), (100, 4), (257, 16)])
def test_chunked_log_scan_equals_the_loop(float64, T, chunk):
    """Chunks and the recursion between them (T = 100, chunk 4: three levels) change nothing."""
    log_a, log_b, h0 = (t.requires_grad_() for t in random_coefficients(3, T, 5))
    h = scan_log(log_a, log_b, h0, chunk=chunk)
    h_ref = scan_loop(log_a, log_b, h0)
    torch.testing.assert_close(h, h_ref)
    for a, b in zip(grads(h, (log_a, log_b, h0)), grads(h_ref, (log_a, log_b, h0))):
        torch.testing.assert_close(a, b)


def test_log_scan_gradcheck(float64):
    log_a, log_b, h0 = (t.requires_grad_() for t in random_coefficients(2, 11, 3))
    assert torch.autograd.gradcheck(lambda a, b, h: scan_log(a, b, h, chunk=4), (log_a, log_b, h0))
    assert torch.autograd.gradcheck(lambda a, b: scan_log(a, b, None, chunk=4), (log_a, log_b))  # h_0 = 0


def test_scan_is_stable_at_T_65536():
    """float32, T = 65,536: finite values and gradients, within 1e-3 of the float64 loop (measured: 6e-5;
    one unchunked scan is off by 1%)."""
    log_a, log_b, h0 = random_coefficients(1, 65536, 4)
    reference = scan_loop(log_a, log_b, h0)
    a32, b32 = log_a.float().requires_grad_(), log_b.float().requires_grad_()
    h = scan(a32, b32, h0.float())
    assert h.dtype == torch.float32
    assert float(((h.detach().double() - reference).abs() / reference.abs()).max()) < 1e-3
    h.sum().backward()
    assert torch.isfinite(a32.grad).all() and torch.isfinite(b32.grad).all()


@pytest.mark.parametrize("name", MIN_CELLS)
def test_parallel_mode_equals_sequential_mode(float64, name):
    """The scan engine and the loop engine (one cell step at a time), same weights: outputs, final state,
    gradients of the input, the initial state and every parameter, with lengths and in both directions."""
    torch.manual_seed(0)
    cell = make_cell(name, 3, 6)
    x = torch.randn(4, 9, 3, requires_grad=True)
    h0 = torch.randn(4, 6, requires_grad=True)
    lengths = torch.tensor([9, 4, 1, 7])
    for reverse in (False, True):
        results = []
        for engine in ("scan", "loop"):
            layer = Recurrent(cell, reverse=reverse, engine=engine)
            out, state = layer(x, h0, lengths)
            w = torch.randn(out.shape, generator=torch.Generator().manual_seed(1))
            loss = (out * w).sum() + (state * w[:, 0]).sum()
            results.append((out, state, torch.autograd.grad(loss, (x, h0, *cell.parameters()))))
        (out_s, state_s, g_s), (out_l, state_l, g_l) = results
        torch.testing.assert_close(out_s, out_l)
        torch.testing.assert_close(state_s, state_l)
        assert not out_s[2, 1:].any()  # past its length, zero outputs
        for a, b in zip(g_s, g_l):
            torch.testing.assert_close(a, b)


@pytest.mark.parametrize("name", MIN_CELLS)
def test_parallel_mode_gradcheck(float64, name):
    cell = make_cell(name, 2, 3)
    x, h0 = torch.randn(2, 5, 2, requires_grad=True), torch.randn(2, 3, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, h0: cell.parallel(x, h0, backend="torch"), (x, h0))


def test_equations_as_written(float64):
    """One step of each cell, against the paper's equations computed here by hand."""
    x, h = torch.randn(2, 3), torch.randn(2, 4)
    c = MinGRUCell(3, 4)
    k, h_lin = (x @ c.weight_ih.T + c.bias_ih).chunk(2, dim=1)
    z = torch.sigmoid(k)
    torch.testing.assert_close(c(x, h)[0], (1 - z) * h + z * torch.where(h_lin >= 0, h_lin + 0.5, torch.sigmoid(h_lin)))
    c = MinLSTMCell(3, 4)
    k_f, k_i, h_lin = (x @ c.weight_ih.T + c.bias_ih).chunk(3, dim=1)
    f, i = torch.sigmoid(k_f), torch.sigmoid(k_i)
    torch.testing.assert_close(c(x, h)[0], f / (f + i) * h + i / (f + i) * g(h_lin))


def test_min_cells_in_the_registry_engine_choice_and_errors():
    assert {"mingru", "minlstm"} <= set(CELLS)
    for name in MIN_CELLS:
        cell = make_cell(name, 2, 3)
        assert not hasattr(cell, "weight_hh") and not hasattr(cell, "bias_hh")
        assert Recurrent(cell).engine_used == "scan" and Recurrent(cell, engine="loop").engine_used == "loop"
        with pytest.raises(RnnkitError, match="initialisation 'orthogonal' sets the recurrent weights"):
            init_cell_(cell, "orthogonal")
        with pytest.raises(RnnkitError, match="engine 'torch' cannot run"):
            Recurrent(cell, engine="torch")
    with pytest.raises(RnnkitError, match="engine 'scan' cannot run"):
        Recurrent(make_cell("lstm", 2, 2), engine="scan")
    cell = init_cell_(MinLSTMCell(2, 3), forget_bias=2.0)  # b_f, the first block
    assert torch.equal(cell.bias_ih[:3], torch.full((3,), 2.0))
    with pytest.raises(RnnkitError, match="no forget gate"):
        init_cell_(MinGRUCell(2, 3), forget_bias=1.0)
    with pytest.raises(RnnkitError, match="unknown scan backend"):
        scan(*random_coefficients(1, 2, 2), backend="cuda")


@pytest.mark.parametrize("name", MIN_CELLS)
def test_deep_bidirectional_stack_and_carried_state(float64, name):
    """A bidirectional 2-layer stack gives the loop's results; two halves with the state carried equal
    one run (truncated BPTT)."""
    torch.manual_seed(0)
    rnn = build_rnn(name, 3, 4, num_layers=2, bidirectional=True)
    loop = build_rnn(name, 3, 4, num_layers=2, bidirectional=True, engine="loop")
    loop.load_state_dict(rnn.state_dict())
    x, lengths = torch.randn(3, 7, 3), torch.tensor([7, 3, 5])
    torch.testing.assert_close(rnn(x, lengths=lengths)[0], loop(x, lengths=lengths)[0])
    rnn = build_rnn(name, 3, 4, num_layers=2)
    out, state = rnn(x)
    o1, s1 = rnn(x[:, :3])
    o2, s2 = rnn(x[:, 3:], s1)
    torch.testing.assert_close(torch.cat([o1, o2], dim=1), out)
    torch.testing.assert_close(s2, state)


@pytest.mark.parametrize("name", MIN_CELLS)
def test_generation_steps_equal_the_parallel_forward(float64, name):
    """CharLM.step (one character, the sequential mode) carries the state: its log-probabilities at every
    step equal those of one parallel forward over the whole text."""
    from rnnkit.layers.config import RNNConfig
    from rnnkit.models.language_model import CharLM
    from rnnkit.models.language_model_config import LMConfig

    torch.manual_seed(0)
    model = CharLM(11, LMConfig(rnn=RNNConfig(cell=name, hidden=8, layers=2), embedding=5)).eval()
    ids = torch.randint(0, 11, (2, 12))
    logits, _, _ = model(ids)
    state = model.init_state(2)
    for t in range(12):
        log_probs, state = model.step(ids[:, t], state)
        torch.testing.assert_close(log_probs, torch.log_softmax(logits[:, t].float(), dim=-1))


def test_bfloat16_autocast_scans_in_float32():
    cell = make_cell("mingru", 4, 8)
    x = torch.randn(2, 300, 4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        h = cell.parallel(x)
    assert h.dtype == torch.bfloat16
    torch.testing.assert_close(h.float(), cell.parallel(x), rtol=0.05, atol=0.05)


@pytest.mark.slow
def test_rnnkit_runs_min_cells_without_triton():
    code = ("import sys; sys.modules['triton'] = None; import torch; from rnnkit.layers import build_rnn; "
            "out, _ = build_rnn('mingru', 3, 4)(torch.randn(2, 5, 3)); print(tuple(out.shape))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "(2, 5, 4)", done.stderr


# ------------------------------------------------------------------ the Triton kernel
def triton_or_skip():
    pytest.importorskip("triton", reason="triton is not installed")
    if not (torch.cuda.is_available() or os.environ.get("TRITON_INTERPRET") == "1"):
        pytest.skip("the Triton scan needs a GPU or TRITON_INTERPRET=1 (as in CI)")
    return "cuda" if torch.cuda.is_available() and os.environ.get("TRITON_INTERPRET") != "1" else "cpu"


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_triton_scan_equals_the_torch_scan(dtype):
    """Forward and backward, over several time chunks and hidden blocks (T = 21 in chunks of 8, H = 6 in
    blocks of 4); float32 against the float64 result."""
    device = triton_or_skip()
    from rnnkit.kernels.scan_triton import scan_triton

    exact = random_coefficients(2, 21, 6)
    inputs = [t.to(device, dtype).requires_grad_() for t in exact]
    h = scan_triton(*inputs, block_t=8, block_h=4)
    exact = [t.requires_grad_() for t in exact]
    h_ref = scan_log(*exact)
    tol = {} if dtype == torch.float64 else dict(rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(h.cpu().double(), h_ref, **tol)
    for a, b in zip(grads(h.cpu().double(), inputs), grads(h_ref, exact)):
        torch.testing.assert_close(a.cpu().double(), b, **tol)


def test_triton_backend_through_a_cell(float64):
    device = triton_or_skip()
    cell = make_cell("minlstm", 3, 5).to(device)
    x = torch.randn(2, 6, 3, device=device)
    torch.testing.assert_close(cell.parallel(x, backend="triton"), cell.parallel(x, backend="torch"))


def test_triton_backend_refuses_a_cpu_tensor_without_the_interpreter(monkeypatch):
    pytest.importorskip("triton", reason="triton is not installed")
    from rnnkit.kernels import scan_triton

    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(RnnkitError, match="needs CUDA tensors"):
        scan_triton.scan_triton(*random_coefficients(1, 3, 2))


# ------------------------------------------------------------------ through the CLI
@pytest.mark.usefixtures("one_thread")
@pytest.mark.parametrize("name", MIN_CELLS)
@pytest.mark.slow
def test_language_model_trains_and_samples_from_the_cli(tmp_path, periodic_corpus, capsys, name):
    out = tmp_path / name
    assert main(["train", "--corpus", str(periodic_corpus), "--out", str(out), "--cell", name, "--hidden", "48",
                 "--layers", "2", "--embedding", "16", "--seq-len", "24", "--batch-size", "8", "--steps", "120",
                 "--lr", "0.01", "--warmup", "10", "--log-every", "10", "--eval-every", "60", "--eval-windows", "8",
                 "--eval-window", "32", "--sample-every", "0"]) == 0
    text = capsys.readouterr().out
    assert f"2-layer {name}" in text and "engine scan" in text
    records = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    losses = [r["train_loss"] for r in records if "train_loss" in r]
    assert losses[-1] < losses[0] - 1.0, losses
    assert main(["sample", "--checkpoint", str(out), "--prime", "the ", "--length", "40", "--temperature", "0"]) == 0
    assert len(capsys.readouterr().out) >= 44
    assert main(["train", "--corpus", str(periodic_corpus), "--out", str(tmp_path / "bad"), "--cell", name,
                 "--init", "orthogonal", "--steps", "1"]) == 2
    one_line_error(capsys, "has none")


@pytest.mark.usefixtures("one_thread")
def test_classifier_forecaster_and_lab_run_min_cells(tmp_path, capsys):
    rows = [("a good film", 1), ("simply great", 1), ("a bad film", 0), ("simply awful", 0)] * 8
    data = tmp_path / "train.tsv"
    data.write_text("sentence\tlabel\n" + "".join(f"{t}\t{l}\n" for t, l in rows))
    assert main(["classify", "train", "--train", str(data), "--cell", "mingru", "--bidirectional", "--hidden", "8",
                 "--steps", "10", "--threads", "1", "--out", str(tmp_path / "c")]) == 0
    assert main(["classify", "predict", "--checkpoint", str(tmp_path / "c"), "good"]) == 0
    series = tmp_path / "s.csv"
    series.write_text("month,v\n" + "".join(f"{2000 + i // 12}-{i % 12 + 1:02d},{math.sin(i / 3):.4f}\n" for i in range(80)))
    assert main(["forecast", "train", "--data", str(series), "--window", "12", "--cell", "minlstm", "--hidden", "8",
                 "--steps", "20", "--threads", "1", "--out", str(tmp_path / "f")]) == 0
    assert main(["lab", "task", "adding", "--models", "mingru,minlstm", "--T", "10", "--steps", "10", "--hidden", "8",
                 "--out", str(tmp_path / "lab")]) == 0
    rows = [line.split("|") for line in (tmp_path / "lab" / "results.md").read_text().splitlines()]
    minlstm = next(cells for cells in rows if len(cells) > 5 and cells[1].strip() == "minlstm")
    assert [c.strip() for c in minlstm[2:4]] == ["full", "10"] and minlstm[5].strip() == "10"  # BPTT, T; steps
    assert main(["lab", "gradient-flow", "--models", "mingru", "--T", "20", "--hidden", "8", "--trained-steps", "0",
                 "--out", str(tmp_path / "gf")]) == 0
