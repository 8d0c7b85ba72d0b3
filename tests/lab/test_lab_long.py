"""The long-dependency lab's training runs: early stopping once solved, per-model learning rates, the
test-loss curves and figure, and the sequential-digits reader and CLI."""

import builtins
import importlib.util
import json

import pytest
import torch

from rnnkit.cli import main
from rnnkit.errors import RnnkitError
from rnnkit.lab import digits
from rnnkit.lab.gradient_flow import ModelSpec
from rnnkit.lab.sequence_tasks import SOLVED_FRACTION, make_task, run_task, train_on_task
from rnnkit.lab.tasks import ADDING_BASELINE_MSE, copy_baseline

needs_sklearn = pytest.mark.skipif(importlib.util.find_spec("sklearn") is None,
                                   reason="the sequential digits come from scikit-learn, which is not installed")


def test_solved_run_stops_at_the_first_evaluation_below_the_target(tmp_path):
    # a target above any reachable loss: solved at the first evaluation, after eval_every steps
    r = run_task("adding", "lstm", 8, hidden=4, out=tmp_path, steps=50, eval_every=5, solved_fraction=100.0)
    assert r.solved_at == 5 and r.steps == 5
    assert [step for step, _ in r.curve] == [5]
    # no target: the run goes the whole way, with a test loss every eval_every steps
    r = run_task("adding", "lstm", 8, hidden=4, out=tmp_path / "b", steps=20, eval_every=5, solved_fraction=None)
    assert r.solved_at is None and r.steps == 20
    assert [step for step, _ in r.curve] == [5, 10, 15, 20]
    assert r.curve[-1][1] == pytest.approx(r.test_loss)  # the last point is the reported test loss
    assert r.engine == "torch" and r.cpu_seconds > 0 and r.baseline == ADDING_BASELINE_MSE


def test_stop_below_follows_the_test_loss(tmp_path):
    generate, _, kwargs = make_task("adding")
    from rnnkit.lab.models import SequenceTaskModel

    torch.manual_seed(0)
    model = SequenceTaskModel("elman", hidden=4, **kwargs)
    test, trainer, _ = train_on_task(model, generate, 6, tmp_path, {}, steps=12, eval_every=4, stop_below=-1.0)
    assert trainer.solved_at is None and trainer.step == 12  # an MSE is never below -1
    losses = [r["val_loss"] for r in trainer.metrics.read() if "val_loss" in r]
    assert len(losses) == 3 and losses[-1] == pytest.approx(test)


def test_solved_level_is_one_percent_of_each_baseline():
    assert SOLVED_FRACTION == 0.01
    assert make_task("adding")[1](400) == ADDING_BASELINE_MSE
    assert make_task("copy")[1](100) == copy_baseline(100)


def test_model_spec_learning_rate_and_aliases():
    spec = ModelSpec.parse("irnn:lr=1e-4")
    assert (spec.cell, spec.init, spec.lr, spec.forget_bias) == ("elman-relu", "identity", 1e-4, None)
    spec = ModelSpec.parse("lstm:default:fb=2:lr=0.01")
    assert (spec.cell, spec.init, spec.forget_bias, spec.lr) == ("lstm", "default", 2.0, 0.01)
    assert ModelSpec.parse("gru").lr is None
    with pytest.raises(RnnkitError, match="lr in model spec 'irnn:lr=x' must be a finite number, got 'x'"):
        ModelSpec.parse("irnn:lr=x")


def test_spec_learning_rate_wins_over_the_common_one(tmp_path):
    r = run_task("adding", "tanh:lr=0.005", 4, hidden=4, out=tmp_path, steps=2, eval_every=1, lr=1e-3)
    assert r.lr == 0.005


# ------------------------------------------------------------------ sequential digits


@needs_sklearn
def test_digit_sequences_shapes_and_values():
    d = digits.digit_sequences("pixel", seed=0)
    n = len(d.train_y) + len(d.val_y) + len(d.test_y)
    assert n == 1797
    assert d.train_x.shape == (len(d.train_y), 64, 1) and d.test_x.shape == (len(d.test_y), 64, 1)
    assert 0.0 <= float(d.train_x.min()) and float(d.train_x.max()) <= 1.0
    assert len(d.test_y) == pytest.approx(0.2 * n, abs=10) and len(d.val_y) == pytest.approx(0.1 * n, abs=10)
    rows = digits.digit_sequences("row", seed=0)
    assert rows.train_x.shape == (len(rows.train_y), 8, 8)
    # one pixel per step is the image read row by row
    torch.testing.assert_close(d.train_x.squeeze(2), rows.train_x.flatten(1))
    # every class is in every split (stratified)
    for y in (d.train_y, d.val_y, d.test_y):
        assert set(y.tolist()) == set(range(10))


@needs_sklearn
def test_no_test_image_in_training():
    d = digits.digit_sequences("permuted", seed=3)
    train, val, test = (set(d.indices[k].tolist()) for k in ("train", "val", "test"))
    assert not (train & test) and not (train & val) and not (val & test)
    assert train | val | test == set(range(1797))
    # the tensors are the images at those indices, read in the split's order
    images, labels = digits._load_digits()
    torch.testing.assert_close(d.test_x.squeeze(2), images.flatten(1)[d.indices["test"]][:, d.order])
    assert torch.equal(d.test_y, labels[d.indices["test"]])


@needs_sklearn
def test_permutation_is_fixed_by_the_seed():
    a, b, c = (digits.digit_sequences("permuted", seed=s) for s in (1, 1, 2))
    assert torch.equal(a.order, b.order) and torch.equal(a.train_x, b.train_x)
    assert not torch.equal(a.order, c.order)
    assert sorted(a.order.tolist()) == list(range(64))  # a permutation of the 64 pixels
    plain = digits.digit_sequences("pixel", seed=1)
    assert torch.equal(plain.order, torch.arange(64))
    # the same images, the same split: the permuted sequences are the plain ones reordered
    torch.testing.assert_close(a.train_x, plain.train_x[:, a.order])


def test_bad_variant_and_missing_scikit_learn(monkeypatch):
    with pytest.raises(RnnkitError, match="unknown digits variant 'pixels'"):
        digits.digit_sequences("pixels")
    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    with pytest.raises(RnnkitError, match="needs scikit-learn.*pip install scikit-learn"):
        digits.digit_sequences("pixel")


@needs_sklearn
def test_lab_task_merge_and_digits_cli(tmp_path, capsys):
    figure = tmp_path / "adding.png"
    assert main(["lab", "task", "adding", "--models", "lstm:default:fb=2,irnn:lr=1e-4", "--T", "6", "--steps", "6",
                 "--hidden", "4", "--eval-every", "3", "--threads", "1", "--out", str(tmp_path / "task"),
                 "--figure", str(figure)]) == 0
    data = json.loads((tmp_path / "task" / "results.json").read_text())
    assert [r["name"] for r in data["runs"]] == ["lstm:default:fb=2", "irnn:lr=1e-4"]
    assert [r["lr"] for r in data["runs"]] == [1e-2, 1e-4]  # the default, and the spec's own
    assert all(len(r["curve"]) == 2 for r in data["runs"]) and figure.stat().st_size > 1000
    assert "wall time" in (tmp_path / "task" / "results.md").read_text()
    # a second length run apart, then one table and one figure for both
    assert main(["lab", "task", "adding", "--models", "tanh", "--T", "7", "--steps", "3", "--hidden", "4",
                 "--eval-every", "3", "--out", str(tmp_path / "task7")]) == 0
    assert main(["lab", "merge", str(tmp_path / "task"), str(tmp_path / "task7"), "--out", str(tmp_path / "m")]) == 0
    merged = (tmp_path / "m" / "results.md").read_text()
    assert "| irnn:lr=1e-4 | full | 6 |" in merged and "| tanh | full | 7 |" in merged
    assert (tmp_path / "m" / "adding.png").stat().st_size > 1000
    # the same model and length twice: the merge keeps the longer run
    assert main(["lab", "task", "adding", "--models", "tanh", "--T", "7", "--steps", "6", "--hidden", "4",
                 "--eval-every", "3", "--out", str(tmp_path / "task7b")]) == 0
    assert main(["lab", "merge", str(tmp_path / "task7"), str(tmp_path / "task7b"), "--out", str(tmp_path / "m3")]) == 0
    runs = json.loads((tmp_path / "m3" / "results.json").read_text())["runs"]
    assert [(r["name"], r["steps"]) for r in runs] == [("tanh", 6)]
    assert main(["lab", "merge", str(tmp_path / "nothing"), "--out", str(tmp_path / "m2")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["lab", "digits", "--models", "tanh,gru", "--variants", "pixel,row", "--steps", "4", "--hidden", "4",
                 "--eval-every", "2", "--threads", "1", "--out", str(tmp_path / "digits")]) == 0
    out = capsys.readouterr().out
    assert "| pixel | 64 | tanh |" in out and "| row | 8 | gru |" in out
    rows = json.loads((tmp_path / "digits" / "results.json").read_text())["runs"]
    assert all(0.0 <= r["test_accuracy"] <= 1.0 and r["steps"] == 4 for r in rows)
    assert (tmp_path / "digits" / "digits.png").stat().st_size > 1000
    assert main(["lab", "merge", str(tmp_path / "digits"), "--out", str(tmp_path / "dm")]) == 0
    assert "| row | 8 | gru |" in (tmp_path / "dm" / "results.md").read_text()


def test_ctrl_c_ends_the_table_with_what_was_done(tmp_path, monkeypatch):
    from rnnkit.lab import sequence_tasks

    real, calls = sequence_tasks.run_task, []

    def interrupted_second(task, spec, T, **kwargs):
        r = real(task, spec, T, **kwargs)
        calls.append(spec)
        if len(calls) == 2:
            r.stopped = "interrupted"
        return r

    monkeypatch.setattr(sequence_tasks, "run_task", interrupted_second)
    assert main(["lab", "task", "adding", "--models", "tanh,gru,lstm", "--T", "5,6", "--steps", "2", "--hidden", "4",
                 "--out", str(tmp_path)]) == 0
    assert calls == ["tanh", "gru"]  # neither lstm nor T = 6 started
    assert len(json.loads((tmp_path / "results.json").read_text())["runs"]) == 2
