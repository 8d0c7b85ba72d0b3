import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


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
