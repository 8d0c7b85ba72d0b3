"""``rnnkit export`` as a user runs it (a subprocess): the folder it writes, its own check against PyTorch, and
one line for each bad input (not a checkpoint, a run still training or without a checkpoint, an unwritable
``--out``, an opset the installed onnx cannot write)."""

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, run_cli

pytest.importorskip("onnxruntime")

FIXTURES = ROOT / "tests" / "fixtures"


def one_error_line(r, expected: str):
    lines = [l for l in r.stderr.splitlines() if l.startswith("error:")]
    assert r.returncode == 2 and len(lines) == 1 and expected in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_export_writes_the_folder_and_checks_it(tmp_path):
    out = tmp_path / "lm"
    r = run_cli("export", FIXTURES / "lm" / "run", "--out", out, "--threads", "1")
    assert r.returncode == 0, r.stderr
    assert "onnxruntime agrees with PyTorch" in r.stdout
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "config.json", "runtime.py", "score.onnx", "step.onnx"]
    config = json.loads((out / "config.json").read_text())
    assert config["task"] == "char-lm" and config["check"]["max_abs_difference"] <= 1e-5
    assert "`ids`" in (out / "README.md").read_text()


@pytest.mark.slow
def test_bad_inputs_are_one_line(tmp_path):
    one_error_line(run_cli("export", tmp_path / "nothing", "--out", tmp_path / "o"), "checkpoint not found")
    started = tmp_path / "started"
    started.mkdir()
    (started / ".lock").write_text("123\n")
    one_error_line(run_cli("export", started, "--out", tmp_path / "o"), "holds no checkpoint yet")
    blocker = tmp_path / "file"
    blocker.write_text("")
    one_error_line(run_cli("export", FIXTURES / "classify" / "run", "--out", blocker), "is a file, not a folder")
    one_error_line(run_cli("export", FIXTURES / "classify" / "run", "--out", tmp_path / "o", "--opset", "99"),
                   "--opset 99 cannot be written")
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        one_error_line(run_cli("export", FIXTURES / "classify" / "run", "--out", locked / "x"), "cannot be written")


def test_a_run_being_trained_is_refused(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\nfrom rnnkit.train.files import lock_run\nlock_run(sys.argv[1])\nprint('locked', flush=True)\n"
        "time.sleep(60)"), str(run)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        one_error_line(run_cli("export", run, "--out", tmp_path / "o"), "is still being trained")
    finally:
        holder.kill()
        holder.wait()


def test_without_onnx_the_command_says_how_to_install(tmp_path):
    code = ("import sys\nsys.modules['onnx'] = None\nfrom rnnkit.cli import main\n"
            f"sys.exit(main(['export', {str(FIXTURES / 'lm' / 'run')!r}, '--out', {str(tmp_path / 'o')!r}]))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    one_error_line(r, "pip install 'rnnkit[export]'")
