"""Training speed of rnnkit's LSTM engines against torch.nn.LSTM, same weights, in one run.

Measures tokens per second of a forward + backward pass (the work of one training step) for:
  torch.nn.LSTM                      the baseline
  rnnkit engine="auto"               the same cell routed through torch's fused kernel
  rnnkit engine="loop"               the readable Python loop over cell(x_t, state)
Methods are timed in interleaved rounds and the median is kept, so machine noise hits all alike.

    python benchmarks/lstm_cpu_speed.py [--hidden 256 --layers 2 --batch 32 --seq 128 --rounds 7]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from rnnkit.layers import Recurrent, build_rnn


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", type=int, default=64)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    ref = torch.nn.LSTM(a.input, a.hidden, num_layers=a.layers, batch_first=True)
    ours = build_rnn("lstm", a.input, a.hidden, num_layers=a.layers)
    for l, layer in enumerate(ours.layers):  # copy the weights: both compute the same function
        layer.cell.load_state_dict({k: getattr(ref, f"{k}_l{l}") for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")})
    x = torch.randn(a.batch, a.seq, a.input)

    def set_engine(engine):
        for m in ours.modules():
            if isinstance(m, Recurrent):
                m.engine = engine

    def run_ref():
        ref(x)[0].sum().backward()

    def run_auto():
        set_engine("auto")
        ours(x)[0].sum().backward()

    def run_loop():
        set_engine("loop")
        ours(x)[0].sum().backward()

    set_engine("loop")
    with torch.no_grad():  # check the claim "same weights, same function" before timing it
        out_loop = ours(x)[0]
        set_engine("auto")
        assert torch.allclose(ours(x)[0], ref(x)[0], atol=1e-5) and torch.allclose(out_loop, ref(x)[0], atol=1e-5)

    methods = {"torch.nn.LSTM": run_ref, "rnnkit auto": run_auto, "rnnkit loop": run_loop}
    times = {name: [] for name in methods}
    for fn in methods.values():  # warm-up
        fn()
    for _ in range(a.rounds):
        for name, fn in methods.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    tokens = a.batch * a.seq
    base = statistics.median(times["torch.nn.LSTM"])
    print(f"LSTM forward+backward, {a.layers} layer(s), input {a.input}, hidden {a.hidden}, batch {a.batch}, "
          f"seq {a.seq}, {torch.get_num_threads()} threads, median of {a.rounds} rounds")
    print(f"{'method':16s} {'tokens/s':>12s} {'ratio vs nn.LSTM':>18s}")
    for name in methods:
        t = statistics.median(times[name])
        print(f"{name:16s} {tokens / t:12,.0f} {base / t:17.2f}x")


if __name__ == "__main__":
    main()
