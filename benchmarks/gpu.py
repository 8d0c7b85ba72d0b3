"""rnnkit on one GPU, in one run: the fused engine against cuDNN and the readable loop, the minGRU/minLSTM
Triton scan against cuDNN's GRU, bf16 autocast training, a GPU-trained checkpoint sampling on the CPU, and
the end-to-end target (a tinyshakespeare char-LM at validation loss <= 1.40 within 60 s of training).

Sections (``--only a,b``), each printing a markdown table:
  standard   lstm, gru, elman: cuDNN (torch.nn.LSTM/GRU/RNN, flat weights) against rnnkit's fused engine
             in both launch modes (fused-step: one launch per step; fused-persistent: one launch per
             sequence), forward (no_grad) and forward+backward (out.backward(dy), input and weight
             gradients); the speed-up is cuDNN's time / fused time (> 1: fused is faster). Targets (H100,
             forward+backward): >= 3x at B <= 8 and H <= 512, >= 1x at B = 64 and H = 512. "auto" is the
             engine ``Recurrent(cell, engine="auto")`` ran (``engine_used``), "fastest" the measured
             fastest of rnnkit's engines (torch, fused-step, fused-persistent).
  variants   simple-lstm, peephole-lstm, coupled-lstm, gru-course, mtrnn, ln-lstm: the fused engine against
             the readable loop (speed-up), and the faster fused mode's time / cuDNN's plain LSTM of the
             same B, H, T (target <= 1.25).
  scan       minGRU and minLSTM (Triton scan, ``cell.parallel(x, backend="triton")``) against cuDNN's
             GRU of the same size, B = 16, H = 512, T in {512, 4096, 16384} (target >= 10x at T = 4096).
  bf16       training steps/s of a char-LM (65 symbols, embedding 64, 2 x 384 LSTM, batch 64 x 128) in
             fp32 and under bf16 autocast (rnnkit train's --amp), per engine.
  sample     ``rnnkit train --device cuda`` for a few steps, then ``rnnkit sample --device cpu``.
  e2e        ``rnnkit train --corpus tinyshakespeare ... --time 60 --device cuda``; validation loss
             under the README's protocol (last 10%, 256 windows of 256 characters).

Times: CUDA events around each call after two warm-up calls (compilation, allocator), the median of up
to ``--repeats`` calls, fewer when one call is slow (``--cap`` seconds per measurement); each section has
a time budget, and configurations past it are listed as skipped, so the whole run takes about 10 minutes
on an H100 (``--quick``: a smaller grid, about 5 minutes). The first run also compiles the Triton
kernels (cached afterwards) within those budgets. docs/gpu.md says more.

    python benchmarks/gpu.py --json runs/gpu.json          # everything, on a GPU
    python benchmarks/gpu.py --only standard,scan --quick
    python benchmarks/gpu.py --smoke                        # CPU, tiny shapes, Triton interpreter (CI)
"""

from __future__ import annotations

import os
import sys

if "--smoke" in sys.argv:  # before triton is imported: the fused kernels run on the CPU through its interpreter
    os.environ["TRITON_INTERPRET"] = "1"

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from contextlib import nullcontext  # noqa: E402
from itertools import product  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402
from torch import nn  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if importlib.util.find_spec("rnnkit") is None:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT / "src"))

import gpu_training  # noqa: E402  (beside this script)
from gpu_timing import Timer, fmt_ms, fmt_x, one_line, speedup, table_header, versions  # noqa: E402
from rnnkit.cells import make_cell  # noqa: E402
from rnnkit.layers import Recurrent  # noqa: E402

STANDARD = {"lstm": nn.LSTM, "gru": nn.GRU, "elman": nn.RNN}
VARIANTS = ("simple-lstm", "peephole-lstm", "coupled-lstm", "gru-course", "mtrnn", "ln-lstm")
FUSED = ("fused-step", "fused-persistent")
SECTIONS = ("standard", "variants", "scan", "bf16", "sample", "e2e")
BUDGET_S = {"standard": 170, "variants": 190, "scan": 45, "bf16": 40, "sample": 30, "e2e": 120}  # full run
GRID = {"full": ((1, 8, 64, 256), (256, 512, 1024), (256, 1024)), "quick": ((1, 8, 64), (512,), (256,)),
        "smoke": ((2,), (8,), (4,))}
SCAN_T = {"full": (512, 4096, 16384), "quick": (512, 4096), "smoke": (4,)}
TITLES = {"standard": "standard cells: the fused engine against cuDNN",
          "variants": "variant cells: the fused engine against the readable loop and cuDNN's LSTM",
          "scan": "minGRU/minLSTM Triton scan against cuDNN's GRU",
          "bf16": "bf16 autocast training against fp32 (char-LM)",
          "sample": "a GPU-trained checkpoint sampled on the CPU",
          "e2e": "end to end: tinyshakespeare char-LM, 60 s of training on one GPU"}


class Bench(Timer):
    """The engine sections (standard, variants, scan); the training ones are in gpu_training."""

    def __init__(self, args):
        super().__init__(args)
        self.lstm_ref: dict = {}  # (B, H, T, pass) -> cuDNN LSTM's ms, shared by the two engine sections

    # ------------------------------------------------------------------ the engines, shape by shape
    def engine_rows(self, name: str, B: int, H: int, T: int, engines) -> list[dict]:
        """A forward row and a forward+backward row: ms per engine, auto's pick, the fastest, and errors."""
        torch.manual_seed(0)
        cell = make_cell(name, H, H).to(self.device)
        x = torch.randn(B, T, H, device=self.device, requires_grad=True)  # (B, T, F = H)
        dy = torch.randn(B, T, H, device=self.device)
        runs, errors = {}, {}
        for engine in engines:
            if engine == "cudnn":  # torch's own module, flat weights: cuDNN as a user of torch gets it
                module = STANDARD.get(name, nn.LSTM)(H, H, batch_first=True).to(self.device)
                runs[engine] = (lambda v, m=module: m(v)[0], list(module.parameters()))
                continue
            try:
                layer = Recurrent(cell, engine=engine)
            except Exception as e:  # noqa: BLE001 - this engine does not take this cell (or does not exist)
                errors[engine] = one_line(e)
                continue
            runs[engine] = (lambda v, m=layer: m(v)[0], list(cell.parameters()))
        rows = []
        for backward in (False, True):
            row = {"cell": name, "B": B, "H": H, "T": T, "pass": "fwd+bwd" if backward else "fwd", "ms": {},
                   "errors": dict(errors)}
            for engine, (call, params) in runs.items():
                self.running = (f"{name} with {engine}, B={B} H={H} T={T} {row['pass']}", time.monotonic())
                row["ms"][engine], why = self.ms(self.pass_fn(call, x, backward, params, dy))
                self.running = None
                if why:
                    row["errors"][engine] = why
            row["auto"] = self.auto_pick(cell, x, backward)
            timed = {e: t for e, t in row["ms"].items() if e != "cudnn" and t is not None}
            row["fastest"] = min(timed, key=timed.get) if timed else None
            if name == "lstm" and "cudnn" in runs:
                self.lstm_ref[(B, H, T, row["pass"])] = row["ms"]["cudnn"]
            rows.append(row)
        return rows

    @staticmethod
    def auto_pick(cell, x: torch.Tensor, backward: bool) -> str:
        """The engine ``engine="auto"`` runs for this input (``engine_used`` after a forward)."""
        try:
            layer = Recurrent(cell, engine="auto")
            with nullcontext() if backward else torch.no_grad():
                layer(x.detach())
            return layer.engine_used
        except Exception as e:  # noqa: BLE001
            return f"error ({one_line(e)})"

    def lstm_reference(self, B: int, H: int, T: int, pass_: str) -> float | None:
        if (B, H, T, pass_) not in self.lstm_ref:
            self.engine_rows("lstm", B, H, T, ("cudnn",))
        return self.lstm_ref[(B, H, T, pass_)]

    def sweep(self, cells, engines, columns: list[str], cells_of_row) -> dict:
        """Every (B, H, T) of the grid, cheapest first so that the section's budget cuts the largest."""
        table_header(columns)
        Bs, Hs, Ts = GRID[self.size]
        rows, skipped = [], []
        for T, H, B in product(Ts, Hs, Bs):
            for name in cells:
                if time.monotonic() > self.deadline:
                    skipped.append(f"{name} B={B} H={H} T={T}")
                    continue
                for row in self.engine_rows(name, B, H, T, engines):
                    print("| " + " | ".join(map(str, cells_of_row(row))) + " |", flush=True)
                    rows.append(row)
            if self.cuda:
                torch.cuda.empty_cache()
        for line in sorted({f"{r['cell']} with {e}: {why}" for r in rows for e, why in r["errors"].items()}):
            print(f"- could not run {line[:200]}")
        if skipped:
            print(f"- skipped past the section's time budget: {len(skipped)} configurations ({', '.join(skipped[:4])}"
                  f"{', ...' if len(skipped) > 4 else ''})")
        agree = [r for r in rows if r["fastest"] is not None]
        print(f"- auto ran the measured fastest engine in {sum(r['auto'] == r['fastest'] for r in agree)} of "
              f"{len(agree)} rows")
        return {"rows": rows, "skipped": skipped}

    def standard(self) -> dict:
        def target(row) -> str:
            B, H = row["B"], row["H"]
            need = 3.0 if B <= 8 and H <= 512 else 1.0 if (B, H) == (64, 512) else None
            if row["pass"] != "fwd+bwd" or need is None:
                return ""
            got = [speedup(row["ms"].get("cudnn"), row["ms"].get(e)) for e in FUSED]
            got = [g for g in got if g is not None]
            row["target"] = {"need": need, "met": bool(got) and max(got) >= need}
            return f"≥{need:g}×: " + ("not measured" if not got else "met" if max(got) >= need else "unmet")

        def cells(row):
            m = row["ms"]
            return [row["cell"], row["B"], row["H"], row["T"], row["pass"], fmt_ms(m.get("cudnn")),
                    fmt_ms(m.get("torch")), *(fmt_ms(m.get(e)) for e in FUSED),
                    *(fmt_x(speedup(m.get("cudnn"), m.get(e))) for e in FUSED), row["auto"], row["fastest"],
                    target(row)]

        columns = ["cell", "B", "H", "T", "pass", "cuDNN ms", "rnnkit torch ms", "fused-step ms", "fused-persistent ms",
                   "step vs cuDNN", "persistent vs cuDNN", "auto ran", "fastest", "target"]
        out = self.sweep(tuple(STANDARD), ("cudnn", "torch", *FUSED), columns, cells)
        self.summarise_targets(out["rows"])
        return out

    def variants(self) -> dict:
        def cells(row):
            m = row["ms"]
            fused = [m[e] for e in FUSED if m.get(e) is not None]
            best = min(fused) if fused else None
            lstm = self.lstm_reference(row["B"], row["H"], row["T"], row["pass"])
            rel = None if best is None or lstm is None else best / lstm
            row["fused_over_cudnn_lstm"] = rel
            if row["pass"] == "fwd+bwd" and rel is not None:
                row["target"] = {"need": 1.25, "met": rel <= 1.25}
            mark = "" if rel is None or row["pass"] != "fwd+bwd" else " (met)" if rel <= 1.25 else " (unmet)"
            return [row["cell"], row["B"], row["H"], row["T"], row["pass"], fmt_ms(m.get("loop")),
                    *(fmt_ms(m.get(e)) for e in FUSED), fmt_x(speedup(m.get("loop"), best)), fmt_ms(lstm),
                    ("—" if rel is None else f"{rel:.2f}") + mark, row["auto"], row["fastest"]]

        columns = ["cell", "B", "H", "T", "pass", "loop ms", "fused-step ms", "fused-persistent ms",
                   "fused vs loop", "cuDNN LSTM ms", "fused / cuDNN LSTM (≤ 1.25)", "auto ran", "fastest"]
        out = self.sweep(VARIANTS, ("loop", *FUSED), columns, cells)
        self.summarise_targets(out["rows"])
        return out

    @staticmethod
    def summarise_targets(rows) -> None:
        judged = [r for r in rows if "target" in r]
        met = sum(r["target"]["met"] for r in judged)
        print(f"- targets (forward+backward): met in {met} of {len(judged)} judged rows")

    # ------------------------------------------------------------------ the other sections
    def scan(self) -> dict:
        B, H = (2, 8) if self.size == "smoke" else (16, 512)
        torch.manual_seed(0)
        gru = nn.GRU(H, H, batch_first=True).to(self.device)
        min_cells = {name: make_cell(name, H, H).to(self.device) for name in ("mingru", "minlstm")}
        runs = {"cudnn-gru": (lambda v: gru(v)[0], list(gru.parameters()))}
        for name, cell in min_cells.items():
            runs[name] = (lambda v, c=cell: c.parallel(v, backend="triton"), list(cell.parameters()))
        x = torch.randn(B, 16, H, device=self.device)  # the scan agrees with the readable loop before it is timed
        for name, cell in min_cells.items():
            gap = (runs[name][0](x) - Recurrent(cell, engine="loop")(x)[0]).abs().max().item()
            print(f"{name}: Triton scan vs loop, max |difference| {gap:.2e} (B={B}, T=16, H={H})")
        table_header(["T", "pass", "cuDNN GRU ms", "minGRU scan ms", "minLSTM scan ms", "minGRU vs GRU",
                      "minLSTM vs GRU", "target"])
        rows = []
        for T in SCAN_T[self.size]:
            x = torch.randn(B, T, H, device=self.device, requires_grad=True)
            dy = torch.randn(B, T, H, device=self.device)
            for backward in (False, True):
                if time.monotonic() > self.deadline:
                    print(f"- T={T}: skipped past the section's time budget")
                    break
                row = {"B": B, "H": H, "T": T, "pass": "fwd+bwd" if backward else "fwd", "ms": {}, "errors": {}}
                for name, (call, params) in runs.items():
                    self.running = (f"{name}, B={B} H={H} T={T} {row['pass']}", time.monotonic())
                    row["ms"][name], why = self.ms(self.pass_fn(call, x, backward, params, dy))
                    self.running = None
                    if why:
                        row["errors"][name] = why
                m = row["ms"]
                x_gru, x_lstm = speedup(m["cudnn-gru"], m.get("mingru")), speedup(m["cudnn-gru"], m.get("minlstm"))
                target = ""
                if T == 4096 and backward:
                    row["target"] = {"need": 10.0, "met": x_gru is not None and x_gru >= 10}
                    target = "≥10×: " + ("met" if row["target"]["met"] else "unmet")
                print(f"| {T} | {row['pass']} | {fmt_ms(m['cudnn-gru'])} | {fmt_ms(m.get('mingru'))} | "
                      f"{fmt_ms(m.get('minlstm'))} | {fmt_x(x_gru)} | {fmt_x(x_lstm)} | {target} |", flush=True)
                rows.append(row)
            del x, dy
        for line in sorted({f"{e}: {why}" for r in rows for e, why in r["errors"].items()}):
            print(f"- could not run {line}")
        return {"B": B, "H": H, "rows": rows}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections: {', '.join(SECTIONS)}")
    ap.add_argument("--quick", action="store_true", help="a smaller grid (B 1, 8, 64; H 512; T 256), shorter budgets")
    ap.add_argument("--smoke", action="store_true", help="CPU, B=2 H=8 T=4, the Triton interpreter: the script runs")
    ap.add_argument("--json", metavar="OUT", help="write every measurement to this JSON file")
    ap.add_argument("--repeats", type=int, default=7, help="timed calls per measurement, at most (median)")
    ap.add_argument("--cap", type=float, default=0.5, help="seconds of timed calls per measurement, about")
    ap.add_argument("--budget-scale", type=float, default=1.0, help="multiply every section's time budget")
    ap.add_argument("--corpus", help="tinyshakespeare's input.txt (default: ../shared/data/tinyshakespeare)")
    ap.add_argument("--e2e-flags", default="",
                    help=f"more flags for the e2e run, as --e2e-flags='...' (the last one wins), after: "
                    f"{gpu_training.E2E_FLAGS}")
    ap.add_argument("--hang", type=float, default=120.0, help="seconds after which one measurement counts as hung")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default; 1 with --smoke)")
    args = ap.parse_args(argv)
    sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        ap.error(f"unknown section(s) {unknown}; choose from {', '.join(SECTIONS)}")
    if args.smoke:
        args.repeats, args.cap, args.threads = 1, 0.01, args.threads or 1
    if args.threads:
        torch.set_num_threads(args.threads)
    if not args.smoke and not torch.cuda.is_available():
        print("error: no CUDA device; run this on a GPU, or with --smoke (CPU, tiny shapes) to check the script")
        return 2
    bench = Bench(args)
    info = versions(bench.device)
    print(f"# rnnkit GPU benchmark ({bench.size})\n")
    print(", ".join(f"{k} {v}" for k, v in info.items()))
    if not bench.cuda:
        print("no CUDA device: timings below are CPU timings of tiny shapes (they prove the script runs, "
              "nothing about speed)")
    results = bench.results = {"versions": info, "size": bench.size, "argv": sys.argv[1:]}
    threading.Thread(target=bench.watchdog, daemon=True).start()
    for name in sections:
        print(f"\n## {TITLES[name]}\n", flush=True)
        budget = BUDGET_S[name] * args.budget_scale * (0.4 if args.quick and name != "e2e" else 1.0)
        bench.deadline = float("inf") if args.smoke else time.monotonic() + budget
        start = time.perf_counter()
        section = getattr(bench, name, None) or (lambda: getattr(gpu_training, name)(bench))
        results[name] = section()
        results[name]["section_s"] = time.perf_counter() - start
        print(f"\n({name}: {results[name]['section_s']:.0f} s)", flush=True)
        bench.save()
    if args.json:
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
