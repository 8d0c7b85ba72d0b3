"""Data-parallel throughput: training tokens per second of the character LM in 1 process and in N
processes (``rnnkit train --nproc N``, gloo on this CPU) with the same global batch, and the scaling
ratio; plus the gradient size that one all-reduce moves per step, for projecting to a GPU node.

    python benchmarks/ddp.py                         # 1 and 2 processes, the default 2-layer LSTM
    python benchmarks/ddp.py --nproc 1,2 --steps 60 --batch-size 32 --hidden 256

Each process runs one thread (``--threads 1``). Tokens/s is the median over the logged windows after
the first (start-up and warm-up excluded), as the trainer measures it on rank 0 for the global batch.
Last, one gloo all-reduce of a gradient-sized tensor between 2 processes is timed on its own.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(nproc: int, a, out: Path) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "rnnkit", "train", "--steps", str(a.steps), "--batch-size", str(a.batch_size),
           "--seq-len", str(a.seq_len), "--hidden", str(a.hidden), "--layers", str(a.layers),
           "--log-every", str(a.log_every), "--eval-every", str(a.steps), "--eval-windows", "8",
           "--sample-every", "0", "--checkpoint-every", str(a.steps), "--threads", "1", "--device", a.device,
           "--out", str(out)]
    if nproc > 1:
        cmd += ["--nproc", str(nproc)]
    start = time.perf_counter()
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if p.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{p.stderr[-2000:]}")
    records = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines() if l.strip()]
    rates = [r["tokens_per_s"] for r in records if "tokens_per_s" in r][1:]
    return {"nproc": nproc, "tokens_per_s": statistics.median(rates), "windows": len(rates), "wall_s": wall}


def gradient_bytes(a) -> int:
    from rnnkit.models.language_model import CharLM
    from rnnkit.layers.config import RNNConfig
    from rnnkit.models.language_model_config import LMConfig

    vocab = 100  # about the embedded corpus's
    model = CharLM(vocab, LMConfig(rnn=RNNConfig(hidden=a.hidden, layers=a.layers)))
    return 4 * sum(p.numel() for p in model.parameters())  # float32 gradients, all reduced each step


def _allreduce_worker(rank: int, size: int, numel: int, port: int, iters: int, queue) -> None:
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=size)
    t = torch.ones(numel)
    for _ in range(3):
        dist.all_reduce(t)
    dist.barrier()
    start = time.perf_counter()
    for _ in range(iters):
        dist.all_reduce(t)
    if rank == 0:
        queue.put((time.perf_counter() - start) / iters)
    dist.destroy_process_group()


def allreduce_seconds(nbytes: int, size: int = 2, iters: int = 20) -> float:
    """Seconds per gloo all-reduce of ``nbytes`` of float32 between ``size`` local processes."""
    import socket

    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctx = mp.get_context("spawn")
    queue = ctx.SimpleQueue()
    procs = [ctx.Process(target=_allreduce_worker, args=(r, size, nbytes // 4, port, iters, queue)) for r in range(size)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return queue.get()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nproc", default="1,2", help="process counts to compare (default: 1,2)")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--batch-size", type=int, default=32, help="the global batch (default: 32)")
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--device", default="cpu", help="cpu (gloo) or cuda (NCCL, one GPU per process)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each count, interleaved; the median is shown")
    ap.add_argument("--out", default="runs/bench-ddp", help="folder for the runs (default: runs/bench-ddp)")
    a = ap.parse_args()
    counts = list(map(int, a.nproc.split(",")))
    load = os.getloadavg()[0]
    runs = [run(n, a, Path(a.out) / f"nproc{n}") for _ in range(a.repeat) for n in counts]
    results = []
    for n in counts:
        mine = [r for r in runs if r["nproc"] == n]
        results.append({"nproc": n, "tokens_per_s": statistics.median(r["tokens_per_s"] for r in mine),
                         "all": [round(r["tokens_per_s"]) for r in mine],
                         "wall_s": statistics.median(r["wall_s"] for r in mine)})
    base = results[0]["tokens_per_s"]
    print(f"char-LM {a.layers}x{a.hidden} LSTM, global batch {a.batch_size} x {a.seq_len}, {a.steps} steps, "
          f"1 thread per process, gloo; {os.cpu_count()} CPUs, load average {load:.1f} -> {os.getloadavg()[0]:.1f}")
    print(f"{'processes':>9s} {'tokens/s':>10s} {'scaling':>8s} {'wall s':>7s}  runs (tokens/s)")
    for r in results:
        print(f"{r['nproc']:9d} {r['tokens_per_s']:10,.0f} {r['tokens_per_s'] / base:7.2f}x {r['wall_s']:7.1f}  {r['all']}")
    g = gradient_bytes(a)
    t = allreduce_seconds(g)
    step = a.batch_size * a.seq_len / results[-1]["tokens_per_s"]
    print(f"gradient all-reduced per step: {g / 1e6:.2f} MB (float32); one gloo all-reduce of it between 2 "
          f"processes here: {t * 1e3:.1f} ms ({2 * 0.5 * g / t / 1e9:.2f} GB/s bus bandwidth), "
          f"{t / step:.1%} of a {results[-1]['nproc']}-process step ({step * 1e3:.0f} ms)")


if __name__ == "__main__":
    main()
