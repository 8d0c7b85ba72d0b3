"""Long lab commands say what they will do and how far they are: ``lab task`` announces how many trainings
its table holds and, after each row, how many are done and the time left; ``lab mtrnn`` says when each of its
two trainings starts and ends; a row that Ctrl-C stopped is marked in the table.
"""

import pytest

from conftest import run_cli
from rnnkit.lab.cli import _task_line


@pytest.mark.slow
def test_lab_task_announces_its_trainings_and_the_time_left(tmp_path):
    r = run_cli("lab", "task", "adding", "--T", "20", "--models", "elman,gru", "--steps", "3", "--out", tmp_path / "a",
                "--threads", "1")
    assert r.returncode == 0, r.stderr
    assert r.stderr.startswith("2 trainings (2 models x 1 lengths, each up to 3 steps)")
    assert "1 of 2 trainings done in " in r.stderr and " left" in r.stderr


@pytest.mark.slow
def test_lab_mtrnn_says_when_each_training_starts_and_ends(tmp_path):
    r = run_cli("lab", "mtrnn", "--steps", "2", "--out", tmp_path / "m", "--threads", "1")
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("training ") >= 2 and r.stderr.count("  done in ") == 2, r.stderr


def test_a_row_stopped_by_ctrl_c_is_marked():
    row = dict(name="lstm", truncate=0, T=100, lr=1e-3, steps=40, solved_at=None, test_loss=0.1, baseline=0.17,
               ratio=0.6, seconds=3, cpu_seconds=3, engine="torch")
    assert "| lstm (interrupted: Ctrl-C) |" in _task_line({**row, "stopped": "interrupted"})
    assert _task_line({**row, "stopped": "steps"}).startswith("| lstm | full |")
