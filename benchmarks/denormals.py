"""Denormal floats make a recurrent network on a CPU several times slower; flushing them to zero fixes it.

A 1-layer LSTM (hidden 128, like ``rnnkit train --hidden 128 --layers 1``) reads a sequence with its
memory cell in the denormal range (below float32's 1.2e-38): the forget gate is 1 (bias 20), the input
gate shut (bias -20), so ``c_t = f_t * c_{t-1} + i_t * g_t`` keeps the tiny initial ``c_0`` and every
product with the state ``h_t = o_t * tanh(c_t)`` involves denormals. This is what a trained model's
state does when it decays towards zero. The same forward pass runs with and without
``rnnkit.runtime.flush_denormals()``, in interleaved rounds, and the script prints the ratio and the
largest difference of the outputs.

    python benchmarks/denormals.py [--engine auto|loop] [--steps 1000] [--threads 1]
"""

from __future__ import annotations

import argparse
import time

import torch

from rnnkit.cells import LSTMState
from rnnkit.layers import build_rnn
from rnnkit.runtime import denormals_flushed, flush_denormals


def denormal_lstm(hidden: int, engine: str, seed: int = 0):
    torch.manual_seed(seed)
    rnn = build_rnn("lstm", hidden, hidden, num_layers=1, engine=engine)
    cell = rnn.layers[0].cell
    with torch.no_grad():
        for weight in (cell.weight_ih, cell.weight_hh):
            weight.mul_(1e-2)  # small weights: products with the state stay denormal
        b = torch.zeros(4, hidden)  # gates stacked i, f, g, o
        b[0], b[1], b[2], b[3] = -20.0, 20.0, 0.0, 0.0
        cell.bias_ih.copy_(b.flatten())
        cell.bias_hh.zero_()
    return rnn.eval()


def forward_time(rnn, inputs, state) -> tuple[float, torch.Tensor]:
    start = time.perf_counter()
    with torch.no_grad():
        outputs, _ = rnn(inputs, [state])
    return time.perf_counter() - start, outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=1000, help="time steps of the sequence")
    parser.add_argument("--engine", default="auto", help="auto (torch's fused LSTM) or loop (the readable cell)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rnn = denormal_lstm(args.hidden, args.engine)
    inputs = torch.zeros(args.batch, args.steps, args.hidden)  # (B, T, H): no input, the state alone
    c0 = torch.full((args.batch, args.hidden), 1e-39)  # denormal memory cells
    state = LSTMState(torch.tanh(c0) * 0.5, c0)
    print(f"LSTM hidden {args.hidden}, batch {args.batch}, {args.steps} steps, engine "
          f"{rnn.layers[0].engine_used if hasattr(rnn.layers[0], 'engine_used') else args.engine}, "
          f"{args.threads} thread(s); c_0 = 1e-39")
    forward_time(rnn, inputs[:, :50], state)  # warm-up
    times = {"without flush": [], "with flush": []}
    for _ in range(args.rounds):
        assert not denormals_flushed()
        t, plain = forward_time(rnn, inputs, state)
        times["without flush"].append(t)
        with flush_denormals():
            t, flushed = forward_time(rnn, inputs, state)
        times["with flush"].append(t)
    best = {k: min(v) for k, v in times.items()}
    for name, t in best.items():
        print(f"{name:14s} {t * 1000:9.1f} ms  ({args.batch * args.steps / t:,.0f} tokens/s)")
    print(f"largest |output| {plain.abs().max().item():.3g}; largest difference with the flush "
          f"{(plain - flushed).abs().max().item():.3g}")
    print(f"ratio: the flush is {best['without flush'] / best['with flush']:.1f}x faster")


if __name__ == "__main__":
    main()
