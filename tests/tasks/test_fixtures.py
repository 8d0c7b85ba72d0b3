"""Before/after fixtures of the seven task pipelines (lm, classify, forecast, translate, tag, caption, speech).

``tests/fixtures/<task>/`` was recorded by ``tests/fixtures/record.py`` with the code as it was before the task
pipelines were merged into one runner: a tiny run (``run/best`` and ``run/checkpoint``: model.safetensors and
config.json) trained on the committed data in ``tests/fixtures/data``, and ``expected.json``, the exact
commands used and their outputs. For every task this module proves that:

* ``test_old_checkpoint_gives_the_same_outputs``: a checkpoint written by that code still loads, and the task's
  eval (its ``--json`` scores; for the language model, which has no ``--json``, its stdout line) and its
  prediction command (sample, predict, translate, describe, transcribe: stdout) give exactly the recorded
  outputs, floats equal to the last bit;
* ``test_seeded_training_is_bit_identical``: the recorded ``train`` command, rerun with its fixed ``--seed``,
  writes the same weights (every tensor of ``best/`` and ``checkpoint/`` model.safetensors, same keys, same
  dtype and shape, max abs difference 0.0), stops at the same step with the same validation metrics, and (translate)
  writes the same test split.

Every command runs as a user runs it: ``python -m rnnkit.cli ...`` in a subprocess, from the repository root
(the recorded paths are relative to it), with ``--threads 1`` and OMP_NUM_THREADS=1, on the CPU. Exact
equality holds for the same code on the same machine and torch build; ``expected.json`` notes the torch and
Python versions it was recorded with (another torch may round differently: re-record with the old code then).
No output key is excluded: none of the recorded outputs holds a time or a rate.
"""

import json
import os
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from conftest import ROOT, run_cli

FIXTURES = ROOT / "tests" / "fixtures"
TASKS = ("lm", "classify", "forecast", "translate", "tag", "caption", "speech")
#: The quick subset (``-m "not slow"``) checks the three cheapest tasks; the full suite checks all seven.
QUICK = ("classify", "forecast", "speech")
PARAMS = [t if t in QUICK else pytest.param(t, marks=pytest.mark.slow) for t in TASKS]
JSON = "{json}"  # in a recorded command: the file its --json writes


def expected(task: str) -> dict:
    return json.loads((FIXTURES / task / "expected.json").read_text())


@pytest.fixture(autouse=True)
def one_openmp_thread(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


def rnnkit(args: list[str]):
    assert "--threads" in args, args
    r = run_cli(*args, cwd=ROOT)
    assert r.returncode == 0, f"rnnkit {' '.join(args)}\n{r.stdout}\n{r.stderr}"
    return r


@pytest.mark.parametrize("task", PARAMS)
def test_old_checkpoint_gives_the_same_outputs(task, tmp_path):
    e = expected(task)
    assert (ROOT / e["run"] / "best" / "model.safetensors").exists()
    for command in e["commands"]:
        out = tmp_path / f"{command['name']}.json"
        r = rnnkit([str(out) if a == JSON else a for a in command["args"]])
        got = json.loads(out.read_text()) if command["output"] == "json" else r.stdout
        assert got == e["outputs"][command["name"]], f"{task} {command['name']}: {' '.join(command['args'])}"


def replace_out(args: list[str], out: Path) -> list[str]:
    i = args.index("--out")
    return [*args[: i + 1], str(out), *args[i + 2:]]


@pytest.mark.parametrize("task", PARAMS)
def test_seeded_training_is_bit_identical(task, tmp_path):
    e = expected(task)
    out = tmp_path / "run"
    rnnkit(replace_out(e["train"], out))
    reference = ROOT / e["run"]
    for folder in ("best", "checkpoint"):
        old = load_file(str(reference / folder / "model.safetensors"))
        new = load_file(str(out / folder / "model.safetensors"))
        assert new.keys() == old.keys(), f"{folder}: {sorted(new.keys() ^ old.keys())}"
        for name in old:
            a, b = old[name], new[name]
            assert (a.dtype, a.shape) == (b.dtype, b.shape), f"{folder}/{name}"
            diff = (a.double() - b.double()).abs().max().item() if a.numel() else 0.0
            assert diff == 0.0 and torch.equal(a, b), f"{folder}/{name}: max abs difference {diff}"
        # the same run: the checkpoint of the same step, with the same validation metrics, was kept as best
        old_meta = json.loads((reference / folder / "config.json").read_text())
        new_meta = json.loads((out / folder / "config.json").read_text())
        assert (new_meta["step"], new_meta.get("metrics")) == (old_meta["step"], old_meta.get("metrics")), folder
    for name in e["kept_files"]:
        if not name.startswith(("best/", "checkpoint/")):  # translate's test.tsv: the same split
            assert (out / name).read_bytes() == (reference / name).read_bytes(), name
