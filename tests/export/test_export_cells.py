"""Every cell x both recurrences (ONNX's own RNN/LSTM/GRU operator where one exists, else a Scan; a Scan for every
cell) x one or two directions, with variable lengths: exported once, run by onnxruntime at other batch sizes and
sequence lengths (the graph is not unrolled for one length), equal to PyTorch to 1e-5 in float32. Then a tiny
classifier trained per cell, exported through ``rnnkit export``'s path, agrees the same way."""

import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime")
import onnxruntime as ort  # noqa: E402

from rnnkit.cells import CELLS  # noqa: E402
from rnnkit.export.graph import FLOAT, INT64, Graph  # noqa: E402
from rnnkit.export.layers import run_stack  # noqa: E402
from rnnkit.layers import build_rnn  # noqa: E402

TOL = 1e-5
#: (batch, time) the graph is run at: a batch of one, several rows, a length longer than any seen before
SHAPES = ((1, 1), (1, 6), (4, 9), (3, 23))
FAST = ("lstm", "gru-course", "ln-lstm", "mingru", "mtrnn")


def session(rnn, recurrence):
    g = Graph("layer", 17)
    x, lengths = g.input("x", FLOAT, ["batch", "time", 5]), g.input("lengths", INT64, ["batch"])
    out, final = run_stack(g, rnn, x, lengths, None, recurrence)
    g.output(out, "y", FLOAT, ["batch", "time", rnn.output_size])
    top = final[-1][0][0] if isinstance(final[-1][0], list) else final[-1][0]  # last layer's (forward) h
    g.output(top, "h", FLOAT, ["batch", None])
    return ort.InferenceSession(g.model().SerializeToString(), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("recurrence", ["native", "scan"])
@pytest.mark.parametrize("cell", sorted(CELLS))
def test_every_cell_any_length(cell, recurrence):
    torch.manual_seed(0)
    for bidirectional, layers in ((False, 1), (True, 2)):
        rnn = build_rnn(cell, 5, 7, num_layers=layers, bidirectional=bidirectional).eval()
        s = session(rnn, recurrence)
        for B, T in SHAPES:
            x, lengths = torch.randn(B, T, 5), torch.randint(1, T + 1, (B,))
            lengths[0] = T
            with torch.no_grad():
                ref, state = rnn(x, None, lengths)
            y, h = s.run(None, {"x": x.numpy(), "lengths": lengths.numpy()})
            top = state[-1][0] if bidirectional else state[-1]
            top = top.h if hasattr(top, "h") else top
            assert np.abs(y - ref.numpy()).max() <= TOL, (bidirectional, B, T)
            assert np.abs(h - top.numpy()).max() <= TOL, (bidirectional, B, T)


def test_standard_cells_use_onnx_operators_and_variants_a_scan():
    import onnx

    from rnnkit.export.graph import FLOAT as F

    for cell, op in (("lstm", "LSTM"), ("gru", "GRU"), ("elman", "RNN"), ("peephole-lstm", "Scan"), ("gru-course", "Scan"),
                     ("minlstm", "Scan")):
        g = Graph("t", 17)
        x = g.input("x", F, ["batch", "time", 5])
        out, _ = run_stack(g, build_rnn(cell, 5, 3).eval(), x)
        g.output(out, "y", F, ["batch", "time", 3])
        ops = {n.op_type for n in g.model().graph.node}
        assert op in ops, (cell, ops)
        onnx.checker.check_model(g.model())


@pytest.mark.parametrize("cell", [pytest.param(c, marks=() if c in FAST else pytest.mark.slow) for c in sorted(CELLS)])
def test_a_trained_classifier_of_every_cell(cell, tmp_path):
    from conftest import ROOT
    from rnnkit import onnx_runtime as rt
    from rnnkit.export import export
    from rnnkit.tasks import train
    from rnnkit.tasks.runner import load

    data = ROOT / "tests" / "fixtures" / "data" / "classify" / "train.tsv"
    run = train("classify", train=str(data), cell=cell, hidden=6, embedding=4, bidirectional=True, layers=2,
                pooling="mean", steps=3, eval_every=3, out=str(tmp_path / "run"), threads=1)["run_dir"]
    loaded = load(run)
    for recurrence in ("native", "scan"):
        export(run, tmp_path / recurrence, recurrence=recurrence, check=False)
        m = rt.load(tmp_path / recurrence)
        g = torch.Generator().manual_seed(0)
        for B, T in ((1, 3), (5, 12)):
            ids, lengths = torch.randint(2, len(loaded.vocabs["vocab"]), (B, T), generator=g), torch.randint(1, T + 1, (B,), generator=g)
            lengths[0] = T
            with torch.no_grad():
                want = loaded.model((ids, lengths))[0]
            got = m.run("model", ids=ids.numpy(), lengths=lengths.numpy())["logits"]
            assert np.abs(got - want.numpy()).max() <= TOL
