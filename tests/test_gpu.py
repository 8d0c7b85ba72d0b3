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
