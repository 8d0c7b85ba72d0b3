"""Compile the fused engine's Triton kernels for a GPU without having one, and report their resources.

Triton compiles ahead of time for a named target (here an H100, sm_90, by default) with its bundled
ptxas, on any machine. This proves the kernels compile for a real GPU (the CPU tests run them only
under the interpreter, which accepts code a GPU compiler may refuse), and reads from each cubin what
decides its speed before anyone times it: registers a thread, local memory (spilled registers) and
shared memory, at the tile shapes ``rnnkit.kernels.tiling`` gives the engine's launches.

    python benchmarks/gpu_compile.py                 # every cell at B=8/64, H=512, and the LSTM over the grid
    python benchmarks/gpu_compile.py --all           # every cell over B in {1, 8, 64}, H in {256, 512, 1024}
    python benchmarks/gpu_compile.py --arch 80 --sms 108    # an A100

Nothing here runs a kernel: timings need a GPU (benchmarks/gpu.py).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("TRITON_DEFAULT_FP_FUSION", "1")
os.environ.pop("TRITON_INTERPRET", None)  # compile for the GPU, never interpret (nothing is run here)

import torch  # noqa: E402
import triton  # noqa: E402
import triton.language as tl  # noqa: E402
from triton.backends.compiler import GPUTarget  # noqa: E402
from triton.compiler import ASTSource  # noqa: E402

from rnnkit.cells import make_cell  # noqa: E402
from rnnkit.kernels import rows as R  # noqa: E402
from rnnkit.kernels.launch import persistent, step  # noqa: E402
from rnnkit.kernels.spec import LN_LSTM, ROW_CELLS  # noqa: E402
from rnnkit.kernels.tiling import (kernel_constants, persistent_tiles_for, row_tiles, step_tiles,  # noqa: E402
                                   tile_constants)
from rnnkit.layers.fused_engine import fused_spec  # noqa: E402

CELLS = ["elman", "mtrnn", "simple-lstm", "lstm", "peephole-lstm", "coupled-lstm", "gru", "gru-course", "ln-lstm"]
INTS = {"t", "t0", "steps", "B", "T", "H", "n_tiles_h"}
INT_POINTERS = {"len_ptr", "count_ptr", "lengths"}


def signature(fn, const: dict) -> dict:
    """Triton's signature of ``fn``: int32 scalars, int32 or float32 pointers, the constants."""
    sig = {}
    for name in fn.arg_names:
        if name in const:
            sig[name] = "constexpr"
        elif name in INTS:
            sig[name] = "i32"
        else:
            sig[name] = "*i32" if name in INT_POINTERS else "*fp32"
    return sig


def resources(cubin: bytes) -> dict:
    """Registers, local (spill) and shared bytes of the cubin's kernel, from cuobjdump."""
    tool = Path(triton.__file__).parent / "backends" / "nvidia" / "bin" / "cuobjdump"
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "k.cubin"
        path.write_bytes(cubin)
        text = subprocess.run([str(tool), "-res-usage", str(path)], capture_output=True, text=True).stdout
    found = dict(re.findall(r"(REG|LOCAL|SHARED|STACK):(\d+)", text))
    return {k: int(v) for k, v in found.items()}


def compile_one(fn, const: dict, warps: int, target) -> dict:
    start = time.perf_counter()
    kernel = triton.compile(ASTSource(fn=fn, signature=signature(fn, const), constexprs=const), target=target,
                            options=dict(num_warps=warps))
    return {**resources(kernel.asm["cubin"]), "seconds": time.perf_counter() - start}


def jobs(cells: list[str], shapes: list[tuple[int, int]], sms: int):
    """(label, kernel, constants, warps) for every kernel the engine would launch at these shapes."""
    for name in cells:
        spec = fused_spec(make_cell(name, 8, 8))
        for B, H in shapes:
            if spec.cell in ROW_CELLS:
                tiles = row_tiles(B, H)
                const = tile_constants(tiles, torch.float32)
                if spec.cell == LN_LSTM:
                    kernels = [("forward", R.ln_lstm_forward_kernel, {**const, "EPS_": R.EPS}),
                               ("backward", R.ln_lstm_backward_kernel, const)]
                else:
                    kernels = [("forward", R.gru_course_forward_kernel, const),
                               ("backward", R.gru_course_backward_kernel, const)]
                for direction, fn, c in kernels:
                    yield (name, f"rows ({direction})", B, H, tiles, fn, c, tiles.warps)
                continue
            for mode, tiles in (("step", step_tiles(B, H)), ("persistent", persistent_tiles_for(B, H, spec.gates, sms))):
                if tiles is None:
                    yield (name, f"{mode} (does not fit)", B, H, None, None, None, None)
                    continue
                const = kernel_constants(spec, tiles, torch.float32)
                fns = (step.forward_step_kernel, step.backward_step_kernel) if mode == "step" else \
                    (persistent.forward_persistent_kernel, persistent.backward_persistent_kernel)
                if mode == "persistent":
                    const = {**const, "BARRIER": True}
                for direction, fn in zip(("forward", "backward"), fns):
                    yield (name, f"{mode} ({direction})", B, H, tiles, fn, const, tiles.warps)


def scan_jobs():
    """The min-cells' chunked scan (rnnkit.kernels.scan_triton), forward and backward, at its default tiles."""
    from types import SimpleNamespace

    from rnnkit.kernels import scan_triton as S

    tiles = SimpleNamespace(BB=S.BLOCK_T, BH=S.BLOCK_H)  # printed as "BLOCK_T x BLOCK_H"
    const = dict(ACC=tl.float32, BLOCK_T=S.BLOCK_T, BLOCK_H=S.BLOCK_H)
    for direction, fn in (("forward", S._scan_forward), ("backward", S._scan_backward)):
        yield ("mingru/minlstm", f"scan ({direction})", "any", "any", tiles, fn, const, 4)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--arch", type=int, default=90, help="CUDA compute capability x10 (90: H100)")
    p.add_argument("--sms", type=int, default=132, help="multiprocessors of that GPU (the persistent grid's limit)")
    p.add_argument("--all", action="store_true", help="every cell over the whole grid (slow: ~200 compilations)")
    p.add_argument("--cells", default=None, help="comma-separated cells (default: all fused cells)")
    args = p.parse_args(argv)
    target = GPUTarget("cuda", args.arch, 32)
    cells = args.cells.split(",") if args.cells else CELLS
    grid = [(B, H) for H in (256, 512, 1024) for B in (1, 8, 64)]
    todo = list(jobs(cells, grid if args.all else [(8, 512), (64, 512)], args.sms))
    if not args.all and not args.cells:
        todo += [j for j in jobs(["lstm"], grid, args.sms) if (j[2], j[3]) not in ((8, 512), (64, 512))]
    todo += list(scan_jobs())
    print(f"triton {triton.__version__}, target sm_{args.arch} with {args.sms} SMs; {len(todo)} kernels\n")
    print("| cell | kernel | B | H | tile BB x BH, warps | registers/thread | spilled (local bytes) | shared bytes | compile s |")
    print("|---|---|---|---|---|---|---|---|---|")
    spills = failures = 0
    for name, kind, B, H, tiles, fn, const, warps in todo:
        if fn is None:
            print(f"| {name} | {kind} | {B} | {H} | — | | | | |")
            continue
        shape = f"{tiles.BB} x {tiles.BH}, {warps}"
        try:
            r = compile_one(fn, const, warps, target)
        except Exception as e:  # noqa: BLE001 - report every kernel that fails to compile, then go on
            failures += 1
            print(f"| {name} | {kind} | {B} | {H} | {shape} | FAILED: {str(e).splitlines()[0][:80]} | | | |")
            continue
        spills += r.get("LOCAL", 0) > 0
        print(f"| {name} | {kind} | {B} | {H} | {shape} | {r.get('REG')} | {r.get('LOCAL', 0)} | {r.get('SHARED', 0)} "
              f"| {r['seconds']:.1f} |", flush=True)
    print(f"\n{len(todo) - failures} compiled, {failures} failed, {spills} spill registers to local memory")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
