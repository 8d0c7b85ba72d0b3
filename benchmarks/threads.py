"""One intra-op thread or torch's default (one per core)? Times the main job's work both ways.

Each measurement runs in a fresh process with ``torch.set_num_threads(n)`` (``0``: torch's default):
``eval``, the whole-text loss of the main job's model (2-layer LSTM, hidden 256) over ``--chars``
characters with the state carried, as ``rnnkit eval --windows 0`` computes it; ``train``, ``--steps``
training steps of 32 x 128 characters, as ``rnnkit train`` runs them. Rounds alternate the settings,
so both see the same background load. ``--load N`` adds N busy processes (each a one-thread matrix
product loop) for the run, to reproduce a machine shared with other jobs; without it, whatever else
runs on the machine is the load. The load average is printed before and after.

    python benchmarks/threads.py --load 2 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import time

WORKER = r"""
import json, sys, time
import torch
threads, task, chars, steps = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if threads:
    torch.set_num_threads(threads)
torch.set_flush_denormal(True)
from rnnkit.models.language_model import CharLM
from rnnkit.models.language_model_config import LMConfig
from rnnkit.tasks.lm.data import stream_loss
torch.manual_seed(0)
model = CharLM(96, LMConfig())
ids = torch.randint(0, 96, (chars,))
start = time.perf_counter()
if task == "eval":
    model.eval()
    stream_loss(model, ids, 16)
    work = chars
else:
    optimizer = torch.optim.Adam(model.parameters(), 2e-3)
    for _ in range(steps):
        x = torch.randint(0, 96, (32, 129))
        _, loss, _ = model(x[:, :-1], x[:, 1:])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    work = steps * 32 * 128
print(json.dumps({"seconds": time.perf_counter() - start, "threads": torch.get_num_threads(), "work": work}))
"""


def busy() -> None:
    import torch

    torch.set_num_threads(1)
    a = torch.randn(256, 256)
    while True:
        a = torch.tanh(a @ a) * 0.5


def measure(threads: int, task: str, chars: int, steps: int) -> dict:
    out = subprocess.run([sys.executable, "-c", WORKER, str(threads), task, str(chars), str(steps)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"the {task} worker with {threads} thread(s) failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", default="1,0", help="settings to compare (0: torch's default)")
    parser.add_argument("--tasks", default="eval,train")
    parser.add_argument("--chars", type=int, default=50_000, help="characters scored by the eval task")
    parser.add_argument("--steps", type=int, default=10, help="training steps of the train task")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--load", type=int, default=0, help="extra busy processes during the measurement")
    args = parser.parse_args()
    settings = [int(t) for t in args.threads.split(",")]
    loaders = [mp.Process(target=busy, daemon=True) for _ in range(args.load)]
    for p in loaders:
        p.start()
    time.sleep(2 if loaders else 0)
    print(f"{os.cpu_count()} cores, {args.load} extra busy process(es), load average before: "
          f"{os.getloadavg()[0]:.2f}")
    results = {(task, t): [] for task in args.tasks.split(",") for t in settings}
    try:
        for _ in range(args.rounds):
            for task in args.tasks.split(","):
                for t in settings:
                    results[task, t].append(measure(t, task, args.chars, args.steps))
    finally:
        for p in loaders:
            p.terminate()
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"{'task':6s} {'threads':>16s} {'median s':>9s} {'min s':>7s} {'max s':>7s} {'chars/s':>9s}")
    for (task, t), runs in results.items():
        seconds = sorted(r["seconds"] for r in runs)
        median = seconds[len(seconds) // 2]
        label = f"{runs[0]['threads']}" + (" (default)" if t == 0 else "")
        print(f"{task:6s} {label:>16s} {median:9.2f} {seconds[0]:7.2f} {seconds[-1]:7.2f} "
              f"{runs[0]['work'] / median:9,.0f}")


if __name__ == "__main__":
    main()
