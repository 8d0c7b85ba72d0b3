"""Every task's printed hint runs as printed.

For each of the seven tasks, a tiny seeded training (the recorded fixture command of ``tests/fixtures/<task>``,
its data paths made absolute) runs in a fresh folder outside the repository, as a user in their own folder
would; the last line it prints names the files it wrote and the ``eval`` command to score the run. Every
file named there must exist, and the command, split as a shell splits it and run with the ``rnnkit`` the
virtual environment installed (else ``python -m rnnkit.cli``), must succeed from the same folder.
"""

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, run_cli

FIXTURES = ROOT / "tests" / "fixtures"
TASKS = ("lm", "classify", "forecast", "translate", "tag", "caption", "speech")


def train_args(task: str) -> list[str]:
    args = json.loads((FIXTURES / task / "expected.json").read_text())["train"]
    args = [str(ROOT / a) if a.startswith("tests/") else a for a in args]
    i = args.index("--out")
    return [*args[: i + 1], "run", *args[i + 2:]]


def run_as_typed(command: str, cwd: Path) -> subprocess.CompletedProcess:
    words = shlex.split(command)
    assert words[0] == "rnnkit", command
    script = Path(sys.executable).with_name("rnnkit")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "rnnkit.cli"]
    return subprocess.run([*head, *words[1:]], cwd=cwd, capture_output=True, text=True, timeout=300)


#: classify (whose hint needs --data, as tag's) runs in the quick suite; the rest are slow
QUICK = ("classify",)


@pytest.mark.parametrize("task", [t if t in QUICK else pytest.param(t, marks=pytest.mark.slow) for t in TASKS])
def test_the_printed_hint_runs_as_printed(task, tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    r = run_cli(*train_args(task), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    last = r.stdout.strip().splitlines()[-1]
    m = re.fullmatch(r"checkpoints in (\S+) and (\S+), loss plot (\S+); score it with: (rnnkit .+)", last)
    assert m, last
    for name in m.groups()[:3]:
        assert (tmp_path / name).exists(), f"{task}: the hint names {name}, which is not there"
    e = run_as_typed(m.group(4), tmp_path)
    assert e.returncode == 0, f"{task}: `{m.group(4)}` failed:\n{e.stderr}"
    assert "error" not in e.stderr.lower() and e.stdout.strip(), (e.stdout, e.stderr)
