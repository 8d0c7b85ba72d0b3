"""Every cell's training speed on a CPU, as a ratio to the standard LSTM through torch's kernel, in one run.

For each thread setting (one thread, then all of them), batch B and hidden size H, it times a forward +
backward pass (the work of one training step) over T steps of input size F through one layer, for every
cell with ``engine="auto"`` (what ``rnnkit`` runs: torch's kernel for lstm/gru/elman/elman-relu, the
scan for mingru/minlstm, the CPU engine for the rest), plus the readable loop (``engine="loop"``) for the
min-cells (their sequential path). Methods are timed in interleaved rounds and the median is kept, so
machine noise hits all alike; ``ratio`` = that method's tokens/s / the standard LSTM's (``lstm``, auto:
torch's kernel). Denormals are flushed (as ``rnnkit train`` does on a CPU).

    python benchmarks/cpu_cells.py                                    # the whole table (minutes)
    python benchmarks/cpu_cells.py --batch 32 --hidden 256 --threads 1 --rounds 7
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from rnnkit.cells import CELLS, make_cell
from rnnkit.layers import Recurrent

MIN_CELLS = ("mingru", "minlstm")


def methods_for(cells: list[str]) -> list[tuple[str, str, str]]:
    """(label, cell, engine): every cell through auto, and the min-cells' sequential path too."""
    rows = [(name, name, "auto") for name in cells]
    rows += [(f"{name} (loop)", name, "loop") for name in cells if name in MIN_CELLS]
    return rows


def time_table(B: int, H: int, T: int, F: int, rounds: int, cells: list[str]):
    """[(label, engine used, ratio to the LSTM)], and the LSTM's tokens/s, for one shape."""
    torch.manual_seed(0)
    x = torch.randn(B, T, F)
    layers = {}
    for label, name, engine in methods_for(cells):
        layers[label] = Recurrent(make_cell(name, F, H), engine=engine)

    def run(layer):
        out, _ = layer(x)
        out.sum().backward()

    for layer in layers.values():  # warm-up (and the engine each one picks)
        run(layer)
    times = {label: [] for label in layers}
    for _ in range(rounds):
        for label, layer in layers.items():
            t0 = time.perf_counter()
            run(layer)
            times[label].append(time.perf_counter() - t0)
    base = statistics.median(times["lstm"])
    return [(label, layers[label].engine_used, base / statistics.median(ts)) for label, ts in times.items()], \
        B * T / base


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", default="1,32", help="batch sizes, comma-separated")
    ap.add_argument("--hidden", default="128,256,512", help="hidden sizes, comma-separated")
    ap.add_argument("--threads", default="1,0", help="thread settings (0: all of torch's default)")
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--input", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--cells", default=",".join(CELLS), help="cells, comma-separated (lstm is always timed)")
    a = ap.parse_args()
    torch.set_flush_denormal(True)
    default_threads = torch.get_num_threads()
    cells = ["lstm"] + [c for c in a.cells.split(",") if c != "lstm"]
    shapes = [(int(t), int(b), int(h)) for t in a.threads.split(",") for b in a.batch.split(",")
              for h in a.hidden.split(",")]
    results, labels, engines = {}, None, None
    for threads, B, H in shapes:
        torch.set_num_threads(threads or default_threads)
        rows, lstm_tokens = time_table(B, H, a.seq, a.input, a.rounds, cells)
        results[threads or default_threads, B, H] = ({label: r for label, _, r in rows}, lstm_tokens)
        labels, engines = [label for label, _, _ in rows], {label: e for label, e, _ in rows}
        print(f"done: {threads or default_threads} thread(s), B={B}, H={H}", flush=True)
    print(f"\nforward + backward, one layer, T={a.seq}, input {a.input}, float32, median of {a.rounds} "
          "interleaved rounds; ratio = tokens/s / the standard LSTM's (torch's kernel)\n")
    heads = [f"{t}t B={B} H={H}" for t, B, H in results]
    print("| cell | engine | " + " | ".join(heads) + " |")
    print("|---|---|" + "---:|" * len(heads))
    print("| lstm tokens/s | torch | " + " | ".join(f"{tok:,.0f}" for _, tok in results.values()) + " |")
    for label in labels:
        print(f"| {label} | {engines[label]} | " + " | ".join(f"{r[label]:.2f}" for r, _ in results.values()) + " |")


if __name__ == "__main__":
    main()
