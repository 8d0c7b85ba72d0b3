"""A run folder has one owner and a refused run writes nothing into it; a checkpoint is data that
cannot steer rnnkit (links out of its folder, deep JSON, weights of the wrong dtype); every file is
written atomically (no raw write in src/rnnkit)."""

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from conftest import ROOT, one_line_error
from rnnkit.cli import main
from rnnkit.errors import RnnkitError
from rnnkit.train.checkpoint import load_checkpoint, load_weights, save_checkpoint

HOLD = "import sys, time; from rnnkit.train.files import lock_run; lock_run(sys.argv[1]); print('held', flush=True); time.sleep(60)"


def hold_lock(folder: Path) -> subprocess.Popen:
    """Another process owning ``folder`` (as a running training does, still reading its data)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_translate_refused_on_a_held_folder_writes_no_split(tmp_path, capsys):
    """A second `translate train` on a running run's folder is refused before it writes its split files."""
    data = tmp_path / "pairs.txt"
    data.write_text("".join(f"go {i} .\tva {i} .\n" for i in range(40)))
    run = tmp_path / "run"
    run.mkdir()
    (run / "test.tsv").write_text("the first run's test split\n")
    holder = hold_lock(run)
    try:
        assert main(["translate", "train", "--data", str(data), "--steps", "1", "--out", str(run)]) == 2
    finally:
        holder.kill()
    one_line_error(capsys, r"is in use by another rnnkit run \(PID \d+\)")
    assert sorted(p.name for p in run.iterdir()) == [".lock", "test.tsv"]
    assert (run / "test.tsv").read_text() == "the first run's test split\n"


def test_a_second_train_on_a_held_folder_is_refused_before_reading(tmp_path, capsys):
    """The lock is taken before the data is read: a missing corpus is never reached."""
    run = tmp_path / "run"
    holder = hold_lock(run)
    try:
        assert main(["train", "--corpus", str(tmp_path / "not-there.txt"), "--steps", "1", "--out", str(run)]) == 2
    finally:
        holder.kill()
    one_line_error(capsys, r"is in use by another rnnkit run")


# ---------------------------------------------------------------------------- checkpoints are data
@pytest.fixture
def checkpoint(tmp_path) -> Path:
    model = torch.nn.Linear(3, 2)
    return save_checkpoint(tmp_path / "ck", model.state_dict(), {"task": "x", "configs": {}})


def test_links_out_of_a_checkpoint_folder_are_refused(checkpoint, tmp_path):
    outside = tmp_path / "elsewhere.json"
    outside.write_text((checkpoint / "config.json").read_text())
    (checkpoint / "config.json").unlink()
    (checkpoint / "config.json").symlink_to(outside)
    with pytest.raises(RnnkitError, match=r"config.json is a link to .*elsewhere.json, outside the checkpoint"):
        load_checkpoint(checkpoint)
    (checkpoint / "config.json").unlink()
    (checkpoint / "config.json").write_text(outside.read_text())
    (checkpoint / "weights.bin").write_bytes((checkpoint / "model.safetensors").read_bytes())
    (checkpoint / "model.safetensors").unlink()
    (checkpoint / "model.safetensors").symlink_to("weights.bin")  # a link inside the folder is fine
    assert set(load_checkpoint(checkpoint)[0]) == {"weight", "bias"}


def test_a_deeply_nested_config_is_one_line(checkpoint):
    (checkpoint / "config.json").write_text("[" * 50_000 + "]" * 50_000)
    with pytest.raises(RnnkitError, match="nests its values too deeply"):
        load_checkpoint(checkpoint)


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.bool, torch.uint8])
def test_integer_and_boolean_weights_are_refused(checkpoint, dtype):
    weights = load_file(str(checkpoint / "model.safetensors"))
    weights["weight"] = weights["weight"].to(dtype)
    save_file(weights, str(checkpoint / "model.safetensors"))
    with pytest.raises(RnnkitError, match=r"wrong dtype: weight \(\w+, the model uses float\)"):
        load_weights(torch.nn.Linear(3, 2), load_checkpoint(checkpoint)[0], checkpoint)


def test_other_float_precisions_still_load(checkpoint):
    weights = {k: v.to(torch.float16) for k, v in load_file(str(checkpoint / "model.safetensors")).items()}
    save_file(weights, str(checkpoint / "model.safetensors"))
    model = torch.nn.Linear(3, 2)
    load_weights(model, load_checkpoint(checkpoint)[0], checkpoint)
    assert torch.equal(model.weight, weights["weight"].float())


# ---------------------------------------------------------------------------- atomic writes
RAW_WRITE = re.compile(r"\.savefig\(|\.write_text\(|\.write_bytes\(|open\([^)]*['\"][wa]b?['\"]|np\.save\(|json\.dump\(")
#: The helpers themselves, and writes into a temporary file that one of them renames into place.
ALLOWED = {"train/files.py", "train/checkpoint.py", "data/pairs.py", "tasks/caption/images.py", "export/exporter.py",
           "train/launch.py", "tasks/music/data.py"}


def test_every_file_is_written_through_the_atomic_helpers():
    """A figure, a JSON score file or a results table written with a plain write leaves a 0-byte file on a
    full disk; every write in src/rnnkit goes through rnnkit.train.files (atomic_write, write_text,
    save_figure) instead, apart from the helpers, the writes into their temporary files and the metrics
    log (appended a record at a time)."""
    src = ROOT / "src" / "rnnkit"
    raw = [f"{p.relative_to(src)}:{n}: {line.strip()}" for p in sorted(src.rglob("*.py"))
           if str(p.relative_to(src)) not in ALLOWED
           for n, line in enumerate(p.read_text().splitlines(), 1)
           if RAW_WRITE.search(line) and "atomic_write(" not in line and 'open(self.path, "a")' not in line]
    assert not raw, "\n".join(raw)
