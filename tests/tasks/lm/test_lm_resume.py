"""``--resume`` after a kill -9 mid-run ends with exactly the weights of an uninterrupted run."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

ARGS = ["--hidden", "24", "--layers", "2", "--embedding", "8", "--seq-len", "16", "--batch-size", "4",
        "--steps", "120", "--checkpoint-every", "10", "--eval-every", "30", "--eval-windows", "4",
        "--eval-window", "32", "--sample-every", "30", "--dropout", "0.2", "--seed", "3", "--threads", "1"]


def cli(*args):
    return [sys.executable, "-m", "rnnkit.cli", "train", *map(str, args)]


def step_of(run):
    try:
        return json.loads((run / "checkpoint" / "config.json").read_text())["step"]
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return 0


@pytest.mark.slow
def test_resume_after_kill_matches_uninterrupted_run(tmp_path, periodic_corpus):
    full, killed = tmp_path / "full", tmp_path / "killed"
    subprocess.run(cli("--corpus", periodic_corpus, "--out", full, *ARGS), check=True, capture_output=True, timeout=600)

    proc = subprocess.Popen(cli("--corpus", periodic_corpus, "--out", killed, *ARGS),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while step_of(killed) < 30 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)  # no chance to clean up
    proc.wait()
    stopped_at = step_of(killed)
    assert 30 <= stopped_at < 120, f"the kill came at step {stopped_at}, not mid-run"

    result = subprocess.run(cli("--out", killed, "--resume"), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert f"resuming {killed} at step" in result.stdout
    a = load_file(str(full / "checkpoint" / "model.safetensors"))
    b = load_file(str(killed / "checkpoint" / "model.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    # the metrics log holds each step once, as if the run had never been interrupted
    steps = [json.loads(l)["step"] for l in (killed / "metrics.jsonl").read_text().splitlines() if "train_loss" in l]
    assert steps == sorted(set(steps)) and steps[-1] == 120
