"""``benchmarks/gpu.py --smoke`` runs: every section on the CPU with tiny shapes (the fused kernels through
Triton's interpreter), the GPU-only sections skipped with a reason. It proves the script, not any speed."""

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT

HEADERS = ("## standard cells", "## variant cells", "## minGRU/minLSTM Triton scan", "## bf16 autocast training",
           "## a GPU-trained checkpoint sampled on the CPU", "## end to end")


@pytest.mark.slow  # 20-35 s: every section, the fused kernels interpreted
def test_the_benchmark_runs_every_section_in_smoke_mode(tmp_path):
    out = tmp_path / "gpu.json"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu.py"), "--smoke", "--json", str(out)],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = proc.stdout
    for header in HEADERS:
        assert header in text, header
    for columns in ("| cell | B | H | T | pass | cuDNN ms", "| cell | B | H | T | pass | loop ms",
                    "| T | pass | cuDNN GRU ms", "| cell | engine | engine ran | fp32 steps/s"):
        assert columns in text, columns
    assert text.count("skipped: needs CUDA") == 2  # sample and e2e
    assert "Traceback" not in proc.stdout + proc.stderr
    results = json.loads(out.read_text())
    assert results["size"] == "smoke" and results["versions"]["torch"]
    rows = results["standard"]["rows"]
    assert {r["cell"] for r in rows} == {"lstm", "gru", "elman"} and all(r["ms"]["cudnn"] > 0 for r in rows)
    assert {r["cell"] for r in results["variants"]["rows"]} >= {"ln-lstm", "gru-course", "mtrnn"}
    assert all(r["ms"]["loop"] > 0 for r in results["variants"]["rows"])
    assert all(r["ms"]["mingru"] and r["ms"]["minlstm"] for r in results["scan"]["rows"])


def test_without_a_gpu_the_full_run_says_to_use_smoke():
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu.py"), "--only", "scan"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 2 and "--smoke" in proc.stdout
