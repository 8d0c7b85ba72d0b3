"""The trainer's progress: the time elapsed and left against the budget that ends first, the epoch, no bar
frames in a log, and a figure that draws each quantity on an axis of its own.

* ``Budget``: under ``--time`` the expected last step comes from the measured rate (not the ``--steps``
  default), the time left never exceeds the time budget, and the epoch is the step over the steps per epoch;
* a run whose output is redirected (a pipe) gets no ``\\r`` frames, and its evaluation lines say the time
  elapsed and left; with ``RNNKIT_PROGRESS=1`` (a terminal) the bar shows both, and the epoch;
* a tagger that picks its best checkpoint by accuracy says so in its lines and draws its real loss beside
  the training loss, its accuracy below, and the learning rate.
"""

import json

import pytest

from conftest import ROOT, run_cli
from rnnkit.train.metrics import plot_losses
from rnnkit.train.progress import Budget, clock

TAG = ROOT / "tests" / "fixtures" / "data" / "tag"


def test_the_budget_that_ends_first_sets_the_expected_end_and_the_time_left():
    b = Budget(steps=2000, time_limit=120.0, steps_per_epoch=40)
    b.observe(0, 0.0)
    assert b.left(0, 0.0) == 120.0 and b.final_step(0, 0.0) == 2000  # no rate measured yet
    assert b.final_step(10, 12.0) == 100 and b.left(10, 12.0) == 108.0  # 1.2 s a step: 90 more steps
    assert b.status(10, 12.0) == "00:12 elapsed, 01:48 left, epoch 0.2"
    fast = Budget(steps=50, time_limit=120.0)
    fast.observe(0, 0.0)
    assert fast.final_step(10, 1.0) == 50 and fast.left(10, 1.0) == 4.0  # the steps run out first
    assert clock(3725) == "1:02:05"


def common(tmp_path, corpus):
    return ["train", "--corpus", corpus, "--hidden", "8", "--embedding", "4", "--seq-len", "8", "--batch-size", "2",
            "--warmup", "2", "--log-every", "5", "--eval-every", "10", "--eval-windows", "2", "--eval-window", "16",
            "--sample-every", "0", "--threads", "1", "--device", "cpu", "--out", tmp_path / "run"]


@pytest.mark.slow
def test_a_redirected_run_gets_no_frames_and_its_lines_say_elapsed_and_left(tmp_path, periodic_corpus):
    r = run_cli(*common(tmp_path, periodic_corpus), "--steps", "20")
    assert r.returncode == 0, r.stderr
    assert "\r" not in r.stdout + r.stderr
    evals = [line for line in r.stdout.splitlines() if line.startswith("step ")]
    assert len(evals) == 2 and all(" elapsed, " in line and " left" in line for line in evals), evals


@pytest.mark.slow
def test_the_bar_shows_elapsed_left_and_the_epoch(tmp_path, periodic_corpus, monkeypatch):
    monkeypatch.setenv("RNNKIT_PROGRESS", "1")
    r = run_cli(*common(tmp_path, periodic_corpus), "--time", "3", "--steps", "1000000")
    assert r.returncode == 0, r.stderr
    frames = [f for f in r.stderr.replace("\r", "\n").splitlines() if f.startswith("train:")]
    assert frames and all(" elapsed, " in f and " left, epoch " in f for f in frames[1:]), frames[-3:]
    last = frames[-1]
    total = int(last.split("/")[1].split()[0])
    assert total < 1000000, last  # the time budget, not --steps, sets the bar's end


@pytest.mark.slow
def test_a_tagger_selecting_by_accuracy_names_it_and_draws_its_loss_metric_and_rate(tmp_path):
    run = tmp_path / "tag"
    r = run_cli("tag", "train", "--train", TAG / "train.conllu", "--val", TAG / "dev.conllu", "--preset", "pos",
                "--embedding", "8", "--char-embedding", "4", "--char-hidden", "4", "--hidden", "12",
                "--batch-size", "8", "--steps", "12", "--eval-every", "6", "--log-every", "3", "--threads", "1",
                "--device", "cpu", "--out", run)
    assert r.returncode == 0, r.stderr
    lines = [line for line in r.stdout.splitlines() if line.startswith("step ")]
    assert lines and all("(the best checkpoint follows 1 - accuracy: " in line for line in lines), lines
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    nll = [rec["val_nll"] for rec in records if "val_nll" in rec]
    assert nll and all(f"validation loss {v:.4f}" in line for v, line in zip(nll, lines))
    drawn = plot_losses(records, tmp_path / "again.png", selected="1 - accuracy")
    assert drawn == {"loss": ["training loss", "validation loss"], "metric": ["validation accuracy"],
                     "lr": ["learning rate"]}
    assert (run / "loss.png").stat().st_size > 1000
