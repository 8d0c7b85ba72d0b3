"""Speed of minGRU's parallel mode against its sequential loop and torch's GRU and LSTM, in one run.

Times one forward + backward pass (the work of a training step) of one layer, input size = hidden
size, at each sequence length T, for:
  sequential loop        rnnkit Recurrent(MinGRUCell, engine="loop"): one cell step per time step
  PyTorch scan           MinGRUCell.parallel, backend "torch" (the chunked log-space scan)
  Triton scan            MinGRUCell.parallel, backend "triton" (GPU only; skipped on a CPU)
  nn.GRU, nn.LSTM        torch's fused kernels of the same hidden size (cuDNN on a GPU)
Methods are timed in interleaved rounds and the median is kept, so machine noise hits all alike.
Ratios are speed-ups over nn.GRU and nn.LSTM (> 1: faster than them).

    python benchmarks/scan.py                                  # GPU: B 16, H 512 (the issue's probe)
    python benchmarks/scan.py --batch 8 --hidden 128 --threads 1   # a CPU in a few minutes
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from rnnkit.cells import MinGRUCell
from rnnkit.layers import Recurrent
from rnnkit.layers.scan import triton_available


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--T", default="512,4096,16384", help="comma-separated sequence lengths")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--device", default="auto", help="cpu, cuda or auto")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    device = torch.device("cuda" if a.device == "auto" and torch.cuda.is_available() else
                          "cpu" if a.device == "auto" else a.device)
    torch.manual_seed(0)
    B, H = a.batch, a.hidden
    cell = MinGRUCell(H, H).to(device)
    loop = Recurrent(cell, engine="loop")
    gru = torch.nn.GRU(H, H, batch_first=True).to(device)
    lstm = torch.nn.LSTM(H, H, batch_first=True).to(device)
    methods = {
        "sequential loop": lambda x: loop(x)[0],
        "PyTorch scan": lambda x: cell.parallel(x, backend="torch"),
        "Triton scan": lambda x: cell.parallel(x, backend="triton"),
        "nn.GRU": lambda x: gru(x)[0],
        "nn.LSTM": lambda x: lstm(x)[0],
    }
    if device.type != "cuda" or not triton_available():
        del methods["Triton scan"]
        print(f"Triton scan: skipped ({'no GPU' if device.type != 'cuda' else 'triton is not installed'})")
    print(f"device {device}{' ' + torch.cuda.get_device_name() if device.type == 'cuda' else ''}, "
          f"threads {torch.get_num_threads()}, batch {B}, hidden {H}, forward + backward, median of {a.rounds}")

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    def time_once(fn, x) -> float:
        sync()
        start = time.perf_counter()
        fn(x).sum().backward()
        sync()
        return time.perf_counter() - start

    x = torch.randn(B, 64, H, device=device)  # the modes agree before anything is timed
    ref = methods["sequential loop"](x)
    for name in ("PyTorch scan", "Triton scan"):
        if name in methods:
            torch.testing.assert_close(methods[name](x), ref, rtol=1e-4, atol=1e-4)

    print("| T | method | ms | speed-up over nn.GRU | over nn.LSTM |")
    print("|---|---|---|---|---|")
    for T in (int(t) for t in a.T.split(",")):
        x = torch.randn(B, T, H, device=device)
        for fn in methods.values():  # warm-up (kernel compilation, allocator)
            time_once(fn, x)
        times = {name: [] for name in methods}
        for _ in range(a.rounds):
            for name, fn in methods.items():
                times[name].append(time_once(fn, x))
        median = {name: statistics.median(ts) for name, ts in times.items()}
        for name, t in median.items():
            print(f"| {T} | {name} | {1000 * t:,.1f} | {median['nn.GRU'] / t:.2f}× | {median['nn.LSTM'] / t:.2f}× |",
                  flush=True)


if __name__ == "__main__":
    main()
