"""``rnnkit view``'s command: one line for a missing or foreign folder, a checkpoint of an unknown task, a
port in use; a warning for a non-local --host; the states' fast path equals the stepped cells."""

from __future__ import annotations

import json
import shutil
import socket

import pytest
import torch
from viewserver import FIXTURES, start_view, stop

from conftest import one_line_error
from rnnkit.cli import main as rnnkit


def test_missing_and_foreign_folders(tmp_path, capsys):
    assert rnnkit(["view", str(tmp_path / "nope")]) == 2
    one_line_error(capsys, "run folder not found: .*nope")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("hello")
    assert rnnkit(["view", str(tmp_path / "notes")]) == 2
    one_line_error(capsys, "no checkpoint in .*notes")


def test_checkpoint_of_a_task_the_view_does_not_know(tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(FIXTURES / "classify" / "run" / "best", run)
    meta = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**meta, "task": "poetry"}))
    assert rnnkit(["view", str(run)]) == 2
    one_line_error(capsys, "unknown task 'poetry'")


def test_port_in_use(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert rnnkit(["view", str(FIXTURES / "lm" / "run"), "--port", str(port)]) == 2
    one_line_error(capsys, f"port {port} is in use on 127.0.0.1; choose another with --port")


def test_another_host_warns():
    proc, url = start_view([FIXTURES / "lm" / "run"], "--host", "0.0.0.0")
    stop(proc)
    assert url.startswith("http://0.0.0.0:")
    assert "warning: --host 0.0.0.0 serves the page to every machine that can reach this one" in proc.printed


@pytest.mark.parametrize("cell,bidirectional,layers", [("lstm", False, 2), ("gru", True, 1), ("coupled-lstm", False, 1),
                                                        ("peephole-lstm", True, 1), ("elman", False, 1)])
def test_fast_states_equal_the_stepped_cells(cell, bidirectional, layers, one_thread):
    from rnnkit.layers import build_rnn
    from rnnkit.layers.config import RNNConfig
    from rnnkit.view.states import record_states, stepped

    torch.manual_seed(0)
    stack = build_rnn(RNNConfig(cell=cell, hidden=6, layers=layers, bidirectional=bidirectional), 5).eval()
    x = torch.randn(30, 5)
    directions = record_states(stack, x)
    inputs = x
    for l, layer in enumerate(stack.layers):
        parts = [layer] if not bidirectional else [layer.fwd, layer.bwd]
        outs = []
        for recurrent, d in zip(parts, [d for d in directions if d.layer == l]):
            read = inputs.flip(0) if recurrent.reverse else inputs
            expected = stepped(recurrent.cell, read)
            for kind, values in expected.items():
                got = d.values(kind)[::-1] if recurrent.reverse else d.values(kind)
                assert abs(got - values).max() < 1e-5, (kind, d.direction)
            outs.append(torch.from_numpy(d.values("h")))
            if cell in ("lstm", "coupled-lstm"):  # h_t = o_t * tanh(c_t) from the batched gates
                assert abs(d.values("o") * torch.tanh(torch.from_numpy(d.values("c"))).numpy() - d.values("h")).max() < 1e-5
        inputs = torch.cat(outs, dim=-1)
    kinds = {d.kinds for d in directions}
    assert kinds == {{"lstm": ("h", "c", "i", "f", "g", "o"), "gru": ("h", "r", "z", "n"), "elman": ("h",),
                      "coupled-lstm": ("h", "c", "i", "f", "g", "o"), "peephole-lstm": ("h", "c")}[cell]}
