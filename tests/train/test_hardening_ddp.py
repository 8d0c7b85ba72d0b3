"""Data-parallel runs end: a finished 2-rank run exits (repeated, each run bounded by a timeout, to catch
a teardown deadlock that struck about 1 run in 7), and the workers stop when their launcher is killed.
"""

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from test_ddp import child_pids, env

#: (6/7)^20 < 0.05: twenty runs catch a hang of 1 run in 7 with 95% probability.
REPEATS, RUN_TIMEOUT = 20, 90
SHORT = ["train", "--cell", "lstm", "--hidden", "32", "--layers", "1", "--seq-len", "32", "--batch-size", "8",
         "--steps", "40", "--seed", "3", "--device", "cpu", "--eval-every", "40", "--sample-every", "0",
         "--threads", "1"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ddp") / "corpus.txt"
    path.write_text("".join(f"line {i}: the cat sat on the mat, and the dog sat on the log.\n" for i in range(3000)))
    return path


@pytest.mark.slow
def test_a_finished_two_rank_run_exits_every_time(corpus, tmp_path):
    """The short 2-rank run of the issue, 20 times under torchrun: each must exit 0 within 90 s (a run
    takes about 8 s), rank 0 reporting once."""
    for i in range(REPEATS):
        out = tmp_path / f"run{i}"
        proc = subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                                 "-m", "rnnkit", *SHORT, "--corpus", str(corpus), "--out", str(out)], cwd=ROOT,
                                env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        try:
            log, _ = proc.communicate(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            log, _ = proc.communicate()
            pytest.fail(f"run {i + 1} of {REPEATS} did not exit within {RUN_TIMEOUT} s:\n{log[-2000:]}")
        assert proc.returncode == 0, log[-3000:]
        assert log.count("done (steps) at step 40") == 1, log[-2000:]


@pytest.mark.slow
def test_workers_stop_when_the_launcher_is_killed(corpus, tmp_path):
    """kill -9 of `rnnkit train --nproc 2`: both workers end within seconds and the run folder's lock is
    free again (a worker left running held it)."""
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "rnnkit", *SHORT, "--steps", "100000", "--checkpoint-every", "20",
                             "--eval-every", "20", "--corpus", str(corpus), "--out", str(out), "--nproc", "2"],
                            cwd=ROOT, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / "checkpoint" / "config.json").exists():
        assert proc.poll() is None and time.monotonic() < deadline, "no checkpoint before the run ended"
        time.sleep(0.05)
    workers = child_pids(proc.pid)
    assert len(workers) == 2
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors = [pid for pid in workers if alive(pid)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert not survivors, "workers outlived their launcher"
    assert "the launcher of this training process" in proc.stderr.read()
    with open(out / ".lock") as f:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if a worker still held it


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
