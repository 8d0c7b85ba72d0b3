"""Does torch.compile of the CPU engine's element-wise step pay? The peephole LSTM's forward step, both ways.

Times, on one thread, the step after its GEMM (gates, memory cell, output) as the CPU engine runs it (in-place
eager calls, ``rnnkit.layers.cpu_steps``) against the same equations compiled by ``torch.compile`` (inductor's
C++ code), in interleaved rounds (median), and the compile time of a fresh process (no inductor cache: run
with ``TORCHINDUCTOR_CACHE_DIR`` set to an empty folder).

    TORCHINDUCTOR_CACHE_DIR=$(mktemp -d) python benchmarks/cpu_compile.py [--batch 32 --hidden 256]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from rnnkit.layers.cpu_steps import tanh_into


def compiled_equations(a, c_prev, w_ci, w_cf, w_co):
    i, f, g, o = a.chunk(4, 1)
    i, f, g = torch.sigmoid(i + w_ci * c_prev), torch.sigmoid(f + w_cf * c_prev), torch.tanh(g)
    c = f * c_prev + i * g
    o = torch.sigmoid(o + w_co * c)
    tc = torch.tanh(c)
    return torch.cat([i, f, g, o], 1), c, tc, o * tc


def eager_step(a, c_prev, w_in, w_co, c, tc, h):
    """The CPU engine's peephole step (``LSTMStep.forward`` after its GEMM), with tanh = 2 σ(2x) - 1."""
    B, H = c.shape
    a[:, :2 * H].view(B, 2, H).addcmul_(c_prev.unsqueeze(1), w_in)
    g = a[:, 2 * H:3 * H]
    g.mul_(2)
    a[:, :3 * H].sigmoid_()
    g.mul_(2).sub_(1)
    torch.mul(a[:, H:2 * H], c_prev, out=c).addcmul_(a[:, :H], g)
    a[:, 3 * H:].addcmul_(c, w_co).sigmoid_()
    torch.mul(a[:, 3 * H:], tanh_into(c, tc), out=h)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=9)
    a = ap.parse_args()
    torch.set_num_threads(1)
    B, H = a.batch, a.hidden
    pre, c_prev = torch.randn(B, 4 * H), torch.randn(B, H)
    w = [torch.randn(H) for _ in range(3)]
    start = time.perf_counter()
    step = torch.compile(compiled_equations, dynamic=False)
    step(pre, c_prev, *w)
    compile_s = time.perf_counter() - start
    w_in, out = torch.stack(w[:2]), [torch.empty(B, H) for _ in range(3)]
    work = pre.clone()
    methods = {"eager, in place (the CPU engine)": lambda: eager_step(work.copy_(pre), c_prev, w_in, w[2], *out),
               "torch.compile": lambda: step(pre, c_prev, *w),
               "(the eager one's input copy alone)": lambda: work.copy_(pre)}
    times = {name: [] for name in methods}
    for _ in range(a.rounds):
        for name, fn in methods.items():
            t0 = time.perf_counter()
            for _ in range(200):
                fn()
            times[name].append((time.perf_counter() - t0) / 200 * 1e6)
    print(f"peephole LSTM step, B={B}, H={H}, one thread; compile time {compile_s:.1f} s")
    for name, ts in times.items():
        print(f"  {name:36s} {statistics.median(ts):7.1f} µs a step")


if __name__ == "__main__":
    main()
