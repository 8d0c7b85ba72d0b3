import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

# Without a GPU the Triton kernels' tests run through Triton's interpreter: set here, before anything imports
# triton, so a plain `python -m pytest` runs them.
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def work_in_a_temporary_folder(tmp_path_factory, monkeypatch):
    """Every test runs in a fresh temporary folder: a default output (``runs/<task>-<time>``) never lands in
    the repository."""
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


@pytest.fixture
def periodic_corpus(tmp_path) -> Path:
    """A small corpus with an exactly learnable structure: a model that learned it predicts it."""
    path = tmp_path / "corpus.txt"
    path.write_text("the cat sat on the mat.\n" * 200)
    return path


def run_cli(*args, timeout=300, **kwargs) -> subprocess.CompletedProcess:
    """Run ``rnnkit ...`` as a user would, in a fresh process."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "rnnkit.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env, **kwargs)


def one_line_error(capsys, expected: str):
    """The command failed with exactly one ``error:`` line matching ``expected``, and no traceback."""
    err = capsys.readouterr().err
    lines = [l for l in err.splitlines() if l.startswith("error:")]
    assert len(lines) == 1 and re.search(expected, lines[0]), err
    assert "Traceback" not in err


@pytest.fixture
def float64():
    """Exact comparisons in float64, restored afterwards so other test modules keep float32."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


@pytest.fixture
def one_thread():
    """Small models on a shared CPU: one thread is many times faster than two contending ones."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def fit_batches(model, batches, steps: int, lr: float = 0.01):
    """A few Adam steps on ``batches.batch(step)`` (a task's trainer data), outside the Trainer: the model learns."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for step in range(steps):
        inputs, targets, _ = batches.batch(step)
        _, loss, _ = model(inputs, targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model
