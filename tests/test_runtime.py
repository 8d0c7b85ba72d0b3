"""rnnkit.runtime: flushing denormals changes no result beyond float tolerance and is restored, every
computing command takes --threads, and progress bars stay quiet when no terminal watches."""

import argparse
import io

import pytest
import torch

from rnnkit.cli import NOT_COMPUTING, build_parser
from rnnkit.runtime import cli_runtime, denormals_flushed, flush_denormals, progress, set_threads


def test_flush_is_scoped_and_restored():
    assert not denormals_flushed()
    with flush_denormals():
        assert denormals_flushed()
        with flush_denormals(False):
            assert not denormals_flushed()
        assert denormals_flushed()
    assert not denormals_flushed()
    with pytest.raises(ValueError), flush_denormals():
        raise ValueError  # restored on an exception too
    assert not denormals_flushed()


def test_language_model_loss_unchanged_by_the_flush(one_thread):
    from rnnkit.models.language_model import CharLM
    from rnnkit.layers.config import RNNConfig
    from rnnkit.models.language_model_config import LMConfig
    from rnnkit.tasks.lm.data import stream_loss, window_loss

    torch.manual_seed(0)
    for cell in ("lstm", "gru", "elman"):
        model = CharLM(20, LMConfig(rnn=RNNConfig(cell=cell, hidden=32, layers=2), embedding=8)).eval()
        ids = torch.randint(0, 20, (3000,))
        windows = torch.randint(0, 20, (8, 65))
        plain = stream_loss(model, ids, 4, 64), window_loss(model, windows)
        with flush_denormals():
            flushed = stream_loss(model, ids, 4, 64), window_loss(model, windows)
        assert flushed == pytest.approx(plain, rel=1e-6, abs=0)


def test_denormal_state_changes_by_less_than_the_smallest_normal_float(one_thread):
    import importlib.util

    from conftest import ROOT
    from rnnkit.cells import LSTMState

    spec = importlib.util.spec_from_file_location("denormals", ROOT / "benchmarks" / "denormals.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rnn = bench.denormal_lstm(16, "auto")

    c0 = torch.full((2, 16), 1e-39)
    state = LSTMState(torch.tanh(c0) * 0.5, c0)
    x = torch.zeros(2, 50, 16)
    with torch.no_grad():
        plain, _ = rnn(x, [state])
        with flush_denormals():
            flushed, _ = rnn(x, [state])
    assert plain.abs().max() > 0  # the state really was denormal without the flush
    assert (plain - flushed).abs().max() < torch.finfo(torch.float32).tiny


def test_threads():
    before = torch.get_num_threads()
    try:
        set_threads(1)
        assert torch.get_num_threads() == 1
        set_threads(0)  # torch's default: left alone
        assert torch.get_num_threads() == 1
        with cli_runtime(None):
            assert torch.get_num_threads() == 1 and denormals_flushed()
        from rnnkit.errors import RnnkitError

        with pytest.raises(RnnkitError, match="--threads must be an integer >= 0"):
            set_threads(-1)
    finally:
        torch.set_num_threads(before)


def leaf_parsers(parser, path=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from leaf_parsers(child, (*path, name))
            return
    yield path, parser


def test_every_computing_command_takes_threads():
    leaves = list(leaf_parsers(build_parser()))
    assert len(leaves) > 15
    for path, parser in leaves:
        if path[0] in NOT_COMPUTING:
            continue
        assert "--threads" in parser._option_string_actions, " ".join(path)
    assert "--threads" in dict(leaves)[("eval",)].format_help()


def test_progress_is_quiet_without_a_terminal(monkeypatch, capsys):
    monkeypatch.delenv("RNNKIT_PROGRESS", raising=False)
    assert list(progress(range(5), unit="char")) == [0, 1, 2, 3, 4]  # pytest captures: not a terminal
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("RNNKIT_PROGRESS", "1")
    stream = io.StringIO()
    for _ in progress(range(3), unit="sentence", file=stream, mininterval=0):
        pass
    assert "sentence/s" in stream.getvalue()
