"""Timing for benchmarks/gpu.py: CUDA-event timers with warm-up and a median, the versions header, table
formatting, the --json results and a watchdog against a hung kernel."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from rnnkit.layers import ENGINES


def versions(device: torch.device) -> dict:
    try:
        import triton

        triton_version = triton.__version__
    except ImportError:
        triton_version = "not installed"
    return {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
            "torch": torch.__version__, "triton": triton_version, "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
            "tf32_cudnn": torch.backends.cudnn.allow_tf32, "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
            "triton_interpret": os.environ.get("TRITON_INTERPRET") == "1", "fused_engine": "fused-step" in ENGINES}


def one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"[:200]


def fmt_ms(v) -> str:
    return "—" if v is None else f"{v:,.2f}"


def speedup(reference, t) -> float | None:
    return None if reference is None or t is None else reference / t


def fmt_x(r) -> str:
    return "—" if r is None else f"{r:.2f}×"


def table_header(columns: list[str]) -> None:
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns), flush=True)


class Timer:
    """What every section shares: the device, the options, the section's deadline and the results."""

    def __init__(self, args):
        self.args, self.size = args, "smoke" if args.smoke else "quick" if args.quick else "full"
        self.device = torch.device("cpu" if args.smoke or not torch.cuda.is_available() else "cuda")
        self.cuda = self.device.type == "cuda"
        self.deadline = float("inf")
        self.results: dict = {}  # what --json writes, after every section (and by the watchdog)
        self.running: tuple[str, float] | None = None  # (what, since when) while a measurement runs

    def save(self) -> None:
        if self.args.json:
            Path(self.args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(self.args.json).write_text(json.dumps(self.results, indent=1, default=str))

    def watchdog(self) -> None:
        """A kernel that never returns (a grid barrier waiting for a program that is not resident) would hang
        the run: after ``--hang`` seconds on one measurement, say which, save what was measured, and exit 3."""
        while True:
            time.sleep(1.0)
            running = self.running
            if running and time.monotonic() - running[1] > self.args.hang:
                print(f"\nerror: {running[0]} has run for more than {self.args.hang:g} s: stopping (a hung kernel?)",
                      flush=True)
                self.results["hung"] = running[0]
                self.save()
                os._exit(3)

    # ------------------------------------------------------------------ timing
    def once(self, fn) -> float:
        if self.cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            return start.elapsed_time(end) / 1000
        t = time.perf_counter()
        fn()
        return time.perf_counter() - t

    def ms(self, fn) -> tuple[float | None, str | None]:
        """Median milliseconds of ``fn()`` after two warm-up calls (the second one timed too), or (None, why)
        when it cannot run (an invalid shape for this engine, out of memory)."""
        try:
            if not self.args.smoke:  # the interpreter compiles nothing: one call is warm-up enough there
                self.once(fn)  # compilation, allocator
            first = self.once(fn)
            n = max(1, min(self.args.repeats, int(self.args.cap / max(first, 1e-9))))
            return 1000 * statistics.median([first] + [self.once(fn) for _ in range(n - 1)]), None
        except torch.cuda.OutOfMemoryError:
            torch.cuda.empty_cache()
            return None, "out of memory"
        except Exception as e:  # noqa: BLE001 - an engine that cannot run this shape is reported, not fatal
            return None, one_line(e)

    @staticmethod
    def pass_fn(call, x: torch.Tensor, backward: bool, params, dy: torch.Tensor):
        """A forward (no_grad, inference) or a forward+backward (input and weight gradients, as in training)."""
        def forward():
            with torch.no_grad():
                call(x)

        def forward_backward():
            x.grad = None
            for p in params:
                p.grad = None
            call(x).backward(dy)

        return forward_backward if backward else forward
