"""The training sections of benchmarks/gpu.py: bf16 autocast against fp32, a GPU-trained checkpoint sampled on
the CPU, and the end-to-end tinyshakespeare run. Each takes the benchmark (a ``gpu_timing.Timer``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import torch

from gpu_timing import fmt_x, one_line, speedup, table_header
from rnnkit.layers import ENGINES

ROOT = Path(__file__).resolve().parents[1]
E2E_FLAGS = ("--hidden 1024 --layers 2 --embedding 64 --dropout 0.3 --batch-size 64 --seq-len 128 --lr 2e-3 "
             "--time 60 --steps 100000 --eval-every 500 --eval-windows 256 --sample-every 0 --device cuda")


def find_corpus(given: str | None) -> Path | None:
    """tinyshakespeare: --corpus, else the shared data folder beside the repository (or inside it)."""
    candidates = [Path(given)] if given else [ROOT.parent / "shared/data/tinyshakespeare/input.txt",
                                              ROOT / "shared/data/tinyshakespeare/input.txt"]
    return next((p.resolve() for p in candidates if p.is_file()), None)


def rnnkit_cli(*args, env=None, timeout=900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rnnkit.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **(env or {})})


def bf16(bench) -> dict:
    from rnnkit.models.language_model import CharLM
    from rnnkit.layers.config import RNNConfig
    from rnnkit.models.language_model_config import LMConfig

    V, E, H, L, B, T = (65, 4, 8, 1, 2, 4) if bench.size == "smoke" else (65, 64, 384, 2, 64, 128)
    print(f"char-LM: {V} symbols, embedding {E}, {L} x {H} units, batch {B} x {T} characters, Adam; "
          f"steps/s over up to {bench.args.cap * 5:g} s after 3 warm-up steps")
    table_header(["cell", "engine", "engine ran", "fp32 steps/s", "bf16 steps/s", "bf16 vs fp32"])
    setups = [(cell, engine) for engine in ("auto", "fused") for cell in ("lstm", "ln-lstm") if engine in ENGINES]
    rows = []
    for cell, engine in setups:
        if time.monotonic() > bench.deadline:
            print(f"- {cell} {engine}: skipped past the section's time budget")
            continue
        row = {"cell": cell, "engine": engine, "steps_per_s": {}, "engine_used": None}
        for precision in ("fp32", "bf16"):
            torch.manual_seed(0)
            config = LMConfig(rnn=RNNConfig(cell=cell, hidden=H, layers=L, engine=engine), embedding=E)
            tokens = torch.randint(V, (B, T + 1), device=bench.device)
            bf16 = precision == "bf16"
            autocast = torch.autocast(bench.device.type, dtype=torch.bfloat16) if bf16 else nullcontext()

            def step():
                with autocast:
                    _, loss, _ = model(tokens[:, :-1], tokens[:, 1:])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()

            try:
                model = CharLM(V, config).to(bench.device)
                opt = torch.optim.Adam(model.parameters(), lr=1e-3)
                for _ in range(1 if bench.args.smoke else 3):
                    step()
                n, start = 0, time.perf_counter()
                while n < 2 or (time.perf_counter() - start < bench.args.cap * 5 and n < 500):
                    step()
                    n += 1
                    if bench.cuda and n % 10 == 0:
                        torch.cuda.synchronize()
                if bench.cuda:
                    torch.cuda.synchronize()
                row["steps_per_s"][precision] = n / (time.perf_counter() - start)
                row["engine_used"] = model.rnn.layers[0].engine_used
            except Exception as e:  # noqa: BLE001 - this engine does not take this cell
                row["steps_per_s"][precision] = None
                print(f"- {cell} with engine {engine}, {precision}: could not run: {one_line(e)[:160]}")
        s = row["steps_per_s"]
        rate = lambda v: "—" if v is None else f"{v:,.1f}"  # noqa: E731
        print(f"| {cell} | {engine} | {row['engine_used']} | {rate(s['fp32'])} | {rate(s['bf16'])} | "
              f"{fmt_x(speedup(s['bf16'], s['fp32']) if s['fp32'] and s['bf16'] else None)} |", flush=True)
        rows.append(row)
    return {"rows": rows}


def sample(bench) -> dict:
    if not bench.cuda:
        return skip("needs CUDA: the checkpoint is trained on the GPU")
    with tempfile.TemporaryDirectory() as tmp:
        corpus, run = Path(tmp) / "corpus.txt", Path(tmp) / "run"
        corpus.write_text("the cat sat on the mat.\n" * 200)
        start = time.perf_counter()
        train = rnnkit_cli("train", "--corpus", corpus, "--out", run, "--device", "cuda", "--hidden", "64",
                           "--layers", "2", "--steps", "100", "--lr", "0.01", "--sample-every", "0",
                           "--eval-windows", "8", "--eval-window", "32", "--seq-len", "32")
        train_s = time.perf_counter() - start
        start = time.perf_counter()  # a process that sees no GPU at all
        sample = rnnkit_cli("sample", "--checkpoint", run, "--device", "cpu", "--prime", "the ", "--length", "30",
                            "--temperature", "0", env={"CUDA_VISIBLE_DEVICES": ""})
        sample_s = time.perf_counter() - start
    text = sample.stdout.strip().splitlines()[0] if sample.stdout.strip() else ""
    ok = train.returncode == 0 and sample.returncode == 0 and text.startswith("the ")
    table_header(["train on cuda (100 steps)", "sample on cpu", "text", "result"])
    print(f"| {train_s:.1f} s (exit {train.returncode}) | {sample_s:.1f} s (exit {sample.returncode}) | "
          f"{text[:40]!r} | {'ok' if ok else 'FAILED'} |")
    if not ok:
        print((train.stderr + sample.stderr)[-1500:])
    return {"train_s": train_s, "sample_s": sample_s, "text": text, "ok": ok}


def e2e(bench) -> dict:
    if not bench.cuda:
        return skip("needs CUDA: 60 s of training on one GPU")
    corpus = find_corpus(bench.args.corpus)
    if corpus is None:
        return skip("tinyshakespeare not found: give --corpus .../tinyshakespeare/input.txt")
    torch.cuda.empty_cache()  # the training process needs the memory this one cached
    with tempfile.TemporaryDirectory() as tmp:
        flags = E2E_FLAGS.split() + bench.args.e2e_flags.split()
        shown = f"rnnkit train --corpus {corpus} {' '.join(flags)}"
        print(f"`{shown}`")
        start = time.perf_counter()
        proc = rnnkit_cli("train", "--corpus", corpus, *flags, "--out", Path(tmp) / "run")
        wall = time.perf_counter() - start
        records = [json.loads(line) for line in (Path(tmp) / "run/metrics.jsonl").read_text().splitlines()] \
            if (Path(tmp) / "run/metrics.jsonl").exists() else []
    vals = [r["val_loss"] for r in records if "val_loss" in r]
    steps = max((r["step"] for r in records), default=0)
    elapsed = max((r.get("elapsed", 0.0) for r in records), default=0.0)
    final, best = (vals[-1], min(vals)) if vals else (None, None)
    met = final is not None and final <= 1.40
    table_header(["steps", "training s", "command wall s", "final validation loss", "best", "target ≤ 1.40"])
    fmt = lambda v: "—" if v is None else f"{v:.4f}"  # noqa: E731
    print(f"| {steps} | {elapsed:.1f} | {wall:.1f} | {fmt(final)} | {fmt(best)} | {'met' if met else 'unmet'} |")
    if proc.returncode != 0:
        print(f"- rnnkit train exited {proc.returncode}: {proc.stderr[-1500:]}")
    return {"command": shown, "steps": steps, "elapsed_s": elapsed, "wall_s": wall, "final_val_loss": final,
            "best_val_loss": best, "met": met, "exit": proc.returncode}


def skip(reason: str) -> dict:
    print(f"skipped: {reason}")
    return {"skipped": reason}
