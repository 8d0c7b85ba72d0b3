"""The fused kernels compile for a real GPU target (an H100, sm_90) on a machine without one: the CPU
tests run them only under Triton's interpreter, which accepts code a GPU compiler may refuse (the grid
barrier's atomics and spin loop, tl.dot shapes, layouts). benchmarks/gpu_compile.py does it for every
cell and reports registers and spills; here, the kernels of three cell families, both launch modes."""

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("triton")
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_kernels_compile_for_an_h100():
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_compile.py"), "--cells", "lstm,gru,ln-lstm"],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "0 failed" in r.stdout
    rows = [line for line in r.stdout.splitlines() if line.startswith("| lstm |") or line.startswith("| ln-lstm |")]
    assert any("persistent (backward)" in row for row in rows)  # the grid barrier's kernel compiled
    assert any("rows (backward)" in row for row in rows)
