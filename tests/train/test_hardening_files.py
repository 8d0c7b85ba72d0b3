"""Disk faults and the run folder: a full disk or a read-only folder at each write of a checkpoint, a
plot or the metrics gives one line, keeps the previous checkpoint loadable and leaves no temporary
file; a run that cannot write stops at once; two runs on one folder: the second is refused naming the
first's PID, and after ``kill -9`` of the first, ``--resume`` works.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from rnnkit.cli import main
from rnnkit.errors import RnnkitError
from rnnkit.train import checkpoint as ckpt
from rnnkit.train.files import atomic_write, lock_run, unlock_run

from conftest import one_line_error

TINY = ["--hidden", "8", "--layers", "1", "--embedding", "4", "--seq-len", "16", "--batch-size", "4",
        "--eval-windows", "2", "--eval-window", "16", "--log-every", "1", "--warmup", "0", "--sample-every", "0",
        "--threads", "1"]

pytestmark = pytest.mark.usefixtures("one_thread")


def stray_temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


def full_disk(number=errno.ENOSPC):
    return OSError(number, os.strerror(number))


@pytest.fixture
def run(tmp_path, periodic_corpus):
    """A tiny trained LM run (checkpoint at step 4)."""
    out = tmp_path / "run"
    assert main(["train", "--corpus", str(periodic_corpus), "--out", str(out), "--steps", "4", "--eval-every", "2",
                 "--checkpoint-every", "2", *TINY]) == 0
    unlock_run(out)  # as if the process had ended
    return out


def test_a_fault_at_each_checkpoint_write_keeps_the_previous_one(run, monkeypatch):
    before, meta_before = ckpt.load_checkpoint(run / "checkpoint")
    weights = {k: v + 1 for k, v in before.items()}
    real_write, real_replace = ckpt._fsync_write, os.replace
    for fault in range(5):  # the model, trainer and config files, then each of the two renames
        for number in (errno.ENOSPC, errno.EROFS):
            calls = [0]
            if not (run / "checkpoint").exists():  # the last fault fell between the renames: start as before
                os.replace(run / "checkpoint.old", run / "checkpoint")

            def at_the_fault(real):
                def op(*args):
                    calls[0] += 1
                    if calls[0] == fault + 1:
                        raise full_disk(number)
                    return real(*args)
                return op

            monkeypatch.setattr(ckpt, "_fsync_write", at_the_fault(real_write))
            monkeypatch.setattr(ckpt.os, "replace", at_the_fault(real_replace))
            with pytest.raises(RnnkitError, match=r"cannot write the checkpoint .*: (no space left on device|the file "
                               r"system is read-only); the previous checkpoint is intact"):
                ckpt.save_checkpoint(run / "checkpoint", weights, {"step": 99}, {"x": torch.zeros(1)})
            monkeypatch.setattr(ckpt, "_fsync_write", real_write)
            monkeypatch.setattr(ckpt.os, "replace", real_replace)
            loaded, meta = ckpt.load_checkpoint(run)  # checkpoint, or checkpoint.old after the first rename
            assert meta["step"] == meta_before["step"] == 4
            assert all(torch.equal(loaded[k], before[k]) for k in before)
            assert stray_temporaries(run) == []
    ckpt.save_checkpoint(run / "checkpoint", weights, {"step": 99})  # and the next write works
    assert ckpt.load_checkpoint(run / "checkpoint")[1]["step"] == 99
    assert not (run / "checkpoint.old").exists() and stray_temporaries(run) == []


def test_a_run_that_cannot_write_its_checkpoint_stops_at_once(tmp_path, periodic_corpus, monkeypatch, capsys):
    out = tmp_path / "run"
    real, calls = ckpt._fsync_write, {"n": 0}

    def fails_after_the_first_checkpoints(*args):
        calls["n"] += 1
        if calls["n"] > 6:  # best and checkpoint at step 2 are written; the next write fails
            raise full_disk()
        return real(*args)

    monkeypatch.setattr(ckpt, "_fsync_write", fails_after_the_first_checkpoints)
    assert main(["train", "--corpus", str(periodic_corpus), "--out", str(out), "--steps", "40", "--eval-every", "2",
                 "--checkpoint-every", "2", *TINY]) == 2
    one_line_error(capsys, r"cannot write the checkpoint .*: no space left on device; the previous checkpoint is intact")
    monkeypatch.setattr(ckpt, "_fsync_write", real)
    assert ckpt.load_checkpoint(out / "checkpoint")[1]["step"] == 2
    steps = [json.loads(l)["step"] for l in (out / "metrics.jsonl").read_text().splitlines()]
    assert max(steps) <= 4, "the run went on training after the failed write"
    assert stray_temporaries(out) == []
    unlock_run(out)


def test_a_full_disk_while_plotting_or_logging(run, monkeypatch, capsys):
    import matplotlib.figure

    from rnnkit.train.metrics import MetricsLog, plot_losses

    png = run / "loss.png"
    good = png.read_bytes()

    def half_a_png(self, path, **kwargs):
        Path(path).write_bytes(b"\x89PNG half")
        raise full_disk()

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", half_a_png)
    with pytest.raises(RnnkitError, match=r"cannot write the figure .*loss.png: no space left on device"):
        plot_losses([{"step": 1, "train_loss": 1.0}], png)
    assert png.read_bytes() == good and stray_temporaries(run) == []

    import builtins

    real_open = builtins.open
    monkeypatch.setattr(builtins, "open", lambda f, mode="r", *a, **k: (_ for _ in ()).throw(full_disk(errno.EROFS))
                        if "a" in mode else real_open(f, mode, *a, **k))
    with pytest.raises(RnnkitError, match=r"cannot write .*metrics.jsonl: the file system is read-only"):
        MetricsLog(run / "metrics.jsonl").write(step=5, train_loss=1.0)


def test_atomic_write_leaves_the_old_file_or_the_new_one(tmp_path):
    path = tmp_path / "a.json"
    path.write_text("old")

    def fails(p):
        p.write_text("ne")
        raise full_disk()

    with pytest.raises(RnnkitError, match="cannot write the scores: no space left on device"):
        atomic_write(path, fails, "the scores")
    assert path.read_text() == "old" and list(tmp_path.iterdir()) == [path]
    atomic_write(path, lambda p: p.write_text("new"))
    assert path.read_text() == "new"


def test_out_paths(tmp_path, periodic_corpus, monkeypatch, capsys):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    assert main(["train", "--corpus", str(periodic_corpus), "--out", str(a_file), *TINY]) == 2
    one_line_error(capsys, r"--out .*file.txt is a file, not a folder")
    assert main(["inspect", "--checkpoint", "x", "--html", str(tmp_path / "missing" / "a.html")]) == 2
    one_line_error(capsys, r"--html cannot be written: the folder .*missing' does not exist; create it first")
    assert main(["translate", "translate", "--checkpoint", "x", "--attention", str(tmp_path / "no" / "a.png"), "hi"]) == 2
    one_line_error(capsys, r"--attention cannot be written: the folder .*no' does not exist")
    assert main(["forecast", "eval", "--checkpoint", "x", "--plot", str(tmp_path)]) == 2
    one_line_error(capsys, r"--plot must be a file name, got the folder")

    def read_only(self, *a, **k):
        raise full_disk(errno.EROFS)

    monkeypatch.setattr(Path, "mkdir", read_only)
    assert main(["train", "--corpus", str(periodic_corpus), "--out", str(tmp_path / "ro" / "run"), *TINY]) == 2
    one_line_error(capsys, r"cannot write the folder .*ro/run: the file system is read-only")
    assert main(["lab", "esn", "--out", str(tmp_path / "ro" / "lab")]) == 2
    one_line_error(capsys, r"cannot write the folder .*ro/lab: the file system is read-only")


@pytest.mark.slow  # two fresh processes that import torch and train: ~30 s on a shared CPU
def test_a_second_run_on_a_folder_is_refused_and_kill_9_leaves_no_stale_lock(tmp_path, periodic_corpus, capsys):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    first = subprocess.Popen([sys.executable, "-m", "rnnkit.cli", "train", "--corpus", str(periodic_corpus), "--out",
                              str(out), "--steps", "1000000", "--eval-every", "5", "--checkpoint-every", "5", *TINY],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        deadline = time.time() + 120
        while not (out / "checkpoint" / "config.json").exists():
            assert first.poll() is None and time.time() < deadline, "the first run did not start"
            time.sleep(0.2)
        assert main(["train", "--out", str(out), "--resume"]) == 2
        one_line_error(capsys, rf"{out} is in use by another rnnkit run \(PID {first.pid}\); wait for it to end")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert (out / ".lock").read_text().strip() == str(first.pid)  # the stale lock file stays: it must not block
    step = ckpt.load_checkpoint(out / "checkpoint")[1]["step"]
    assert main(["train", "--out", str(out), "--resume", "--steps", str(step + 2), "--threads", "1"]) == 0
    assert ckpt.load_checkpoint(out / "checkpoint")[1]["step"] == step + 2
    unlock_run(out)


def test_the_lock_is_per_process(tmp_path):
    lock_run(tmp_path / "r")
    lock_run(tmp_path / "r")  # the same process may take it again (run_folder, then the trainer)
    code = f"from rnnkit.train.files import lock_run; lock_run({str(tmp_path / 'r')!r})"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert other.returncode != 0 and f"in use by another rnnkit run (PID {os.getpid()})" in other.stderr
    unlock_run(tmp_path / "r")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_ctrl_c_before_the_first_evaluation_says_what_was_saved(tmp_path, periodic_corpus, monkeypatch, capsys):
    from rnnkit.train.trainer import Trainer

    real = Trainer.train_step

    def then_ctrl_c(self, autocast):
        value = real(self, autocast)
        if self.step == 1:
            os.kill(os.getpid(), signal.SIGINT)  # the trainer's handler: finish the step, evaluate, save
        return value

    monkeypatch.setattr(Trainer, "train_step", then_ctrl_c)
    out = tmp_path / "run"
    assert main(["train", "--corpus", str(periodic_corpus), "--out", str(out), "--steps", "50", "--eval-every", "20",
                 *TINY]) == 0
    err = capsys.readouterr().err
    assert f"interrupted at step 1: saved {out / 'checkpoint'}; continue with --resume --out {out}" in err
    assert ckpt.load_checkpoint(out / "checkpoint")[1]["step"] == 1
    unlock_run(out)


def test_a_disk_fault_no_writer_caught_is_still_one_line(tmp_path, monkeypatch, capsys):
    """The safety net of every command (rnnkit.errors.run_command): an uncaught ENOSPC/EROFS/EACCES."""
    from rnnkit.errors import run_command

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "esn.json"))

    class Args:
        func = staticmethod(full)

    assert run_command(Args()) == 2
    assert capsys.readouterr().err.endswith(f"error: {tmp_path / 'esn.json'}: no space left on device\n")

    class Other:
        @staticmethod
        def func(args):
            raise OSError(errno.EIO, "I/O error")

    with pytest.raises(OSError):  # not a disk-space or permission fault: a bug to see, not to hide
        run_command(Other())
