"""The fused kernels compile for a real GPU target (an H100, sm_90) on a machine without one: the CPU
tests run them only under Triton's interpreter, which accepts code a GPU compiler may refuse (the grid
barrier's atomics and spin loop, tl.dot shapes, layouts). benchmarks/gpu_compile.py does it for every
cell and reports registers and spills; here, the kernels of three cell families, both launch modes."""

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("triton")
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_kernels_compile_for_an_h100():
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_compile.py"), "--cells", "lstm,gru,ln-lstm"],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "0 failed" in r.stdout
    rows = [line for line in r.stdout.splitlines() if line.startswith("| lstm |") or line.startswith("| ln-lstm |")]
    assert any("persistent (backward)" in row for row in rows)  # the grid barrier's kernel compiled
    assert any("rows (backward)" in row for row in rows)


UNKNOWN_CELL = """
import sys
sys.argv = ["gpu_compile"]
sys.path.insert(0, {bench!r})
import gpu_compile as C  # removes TRITON_INTERPRET before triton is imported
import torch
from rnnkit.kernels.launch import step
from rnnkit.kernels.spec import FusedSpec
from rnnkit.kernels.tiling import kernel_constants, step_tiles

const = kernel_constants(FusedSpec(cell=99, gates=3, saved=4), step_tiles(8, 64), torch.float32)
try:
    C.compile_one(step.forward_step_kernel, const, 4, C.GPUTarget("cuda", 90, 32))
except Exception as e:  # a CompilationError per frame of the call chain: the assertion's is the innermost
    while e.__cause__ is not None or e.__context__ is not None:
        e = e.__cause__ or e.__context__
    print("refused:", str(e)[-400:])
else:
    print("compiled")
"""


@pytest.mark.slow
def test_an_unknown_cell_id_fails_to_compile():
    code = UNKNOWN_CELL.format(bench=str(ROOT / "benchmarks"))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert "refused:" in r.stdout and "no tile step for this cell id" in r.stdout, r.stdout[-2000:] + r.stderr[-2000:]
