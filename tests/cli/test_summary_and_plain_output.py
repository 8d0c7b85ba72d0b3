"""``rnnkit summary RUN``, ``rnnkit --help``'s task list, and ``inspect`` output without escape codes in pipes.

* ``summary`` of a trained run lists its modules with their types and parameter shapes, and the parameter
  counts add up to the model's (checked against the checkpoint's weights); a missing run is one line;
* ``rnnkit --help`` names every task registered (``cli.TASK_COMMANDS``);
* ``rnnkit inspect`` writes no ANSI codes into a pipe, unless ``--color always``.
"""

import re

import pytest
from safetensors.torch import load_file

from conftest import ROOT, run_cli
from rnnkit.cli import TASK_COMMANDS

FIX = ROOT / "tests" / "fixtures"


@pytest.mark.slow
def test_summary_lists_modules_shapes_and_counts_that_add_up():
    r = run_cli("summary", FIX / "translate" / "run", "--threads", "1")
    assert r.returncode == 0, r.stderr
    weights = load_file(str(FIX / "translate" / "run" / "best" / "model.safetensors"))
    total = sum(t.numel() for t in weights.values())
    assert f"total: {total:,} parameters" in r.stdout
    assert re.search(r"^\s+src_embed\s+Embedding\s+104\s+weight 13x8$", r.stdout, re.M), r.stdout
    assert "model: embedding=8, cell=lstm, hidden=12" in r.stdout
    bad = run_cli("summary", "no-such-run")
    assert bad.returncode == 2 and bad.stderr.strip().startswith("error: checkpoint not found")


def test_help_names_every_task():
    r = run_cli("--help")
    text = " ".join(r.stdout.split())
    assert all(f"{name}: " in text for name in TASK_COMMANDS), text


@pytest.mark.slow
def test_inspect_writes_no_escape_codes_into_a_pipe():
    common = ("inspect", "--checkpoint", FIX / "lm" / "run", "--chars", "60", "--threads", "1")
    plain, coloured = run_cli(*common), run_cli(*common, "--color", "always")
    assert plain.returncode == 0 and coloured.returncode == 0, plain.stderr
    assert "\x1b[" not in plain.stdout and "colours only on a terminal" in plain.stdout
    assert "\x1b[48;5;" in coloured.stdout
