"""Scratch optimisers: the same steps as torch.optim (SGD, momentum, RMSprop, Adam), min-char-rnn's
Adagrad, clipping by value and by norm, and the lab trainer learning a learnable text."""

import numpy as np
import pytest

from rnnkit.errors import RnnkitError
from rnnkit.scratch import OPTIMIZERS, TrainConfig, clip_by_norm, clip_by_value, make_optimizer, train
from rnnkit.scratch.optim import global_norm


def gradients(step):
    rng = np.random.default_rng(step)
    return {"w": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}


def run_numpy(name, lr, steps=5):
    rng = np.random.default_rng(0)
    params = {"w": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
    arrays = {k: v for k, v in params.items()}
    opt = make_optimizer(name, params, lr)
    for step in range(steps):
        opt.step(gradients(step))
    assert all(params[k] is arrays[k] for k in params)  # updated in place
    return params


@pytest.mark.parametrize("name, make", [
    ("sgd", lambda p, lr: __import__("torch").optim.SGD(p, lr=lr)),
    ("momentum", lambda p, lr: __import__("torch").optim.SGD(p, lr=lr, momentum=0.9)),
    ("rmsprop", lambda p, lr: __import__("torch").optim.RMSprop(p, lr=lr, alpha=0.99, eps=1e-8)),
    ("adam", lambda p, lr: __import__("torch").optim.Adam(p, lr=lr, betas=(0.9, 0.999), eps=1e-8)),
])
def test_same_steps_as_torch_optim(name, make):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    tparams = {"w": torch.tensor(rng.normal(size=(3, 4)), requires_grad=True),
               "b": torch.tensor(rng.normal(size=4), requires_grad=True)}
    opt = make(list(tparams.values()), 0.05)
    for step in range(5):
        for k, g in gradients(step).items():
            tparams[k].grad = torch.tensor(g)
        opt.step()
    ours = run_numpy(name, 0.05)
    for k in ours:
        np.testing.assert_allclose(ours[k], tparams[k].detach().numpy(), rtol=0, atol=1e-12, err_msg=k)


def test_adagrad_is_min_char_rnn():
    ours = run_numpy("adagrad", 0.1)
    rng = np.random.default_rng(0)
    params = {"w": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
    mem = {k: np.zeros_like(v) for k, v in params.items()}
    for step in range(5):
        for k, g in gradients(step).items():
            mem[k] += g * g
            params[k] += -0.1 * g / np.sqrt(mem[k] + 1e-8)
    for k in ours:
        np.testing.assert_allclose(ours[k], params[k], rtol=0, atol=1e-14)


def test_clipping():
    g = {"a": np.array([3.0, -10.0]), "b": np.array([[0.5]])}
    clip_by_value(g, 5.0)
    np.testing.assert_array_equal(g["a"], [3.0, -5.0])
    g = {"a": np.array([3.0, 4.0]), "b": np.array([12.0])}  # norm 13
    assert clip_by_norm(g, 1.0) == pytest.approx(13.0)
    assert global_norm(g) == pytest.approx(1.0)
    np.testing.assert_allclose(g["a"], [3 / 13, 4 / 13])
    g = {"a": np.array([0.3, 0.4])}
    clip_by_norm(g, 1.0)  # below the threshold: untouched
    np.testing.assert_array_equal(g["a"], [0.3, 0.4])


def test_bad_optimizer_settings():
    with pytest.raises(RnnkitError, match="unknown optimizer 'adamw'; choose one of: adagrad, adam, momentum"):
        make_optimizer("adamw", {}, 0.1)
    with pytest.raises(RnnkitError, match="learning rate must be positive"):
        make_optimizer("sgd", {}, 0.0)
    with pytest.raises(RnnkitError, match="clip value must be positive"):
        clip_by_value({}, 0)
    with pytest.raises(RnnkitError, match="no gradient for parameter"):
        make_optimizer("adam", {"w": np.zeros(2)}, 0.1).step({})


@pytest.mark.parametrize("cell, optimizer, bptt", [("elman", "adam", None), ("lstm", "rmsprop", None),
                                                   ("gru", "adagrad", None), ("elman", "momentum", 1)])
def test_the_lab_trainer_learns_a_periodic_text(periodic_corpus, cell, optimizer, bptt):
    lr = {"adam": 0.02, "rmsprop": 0.01, "adagrad": 0.1, "momentum": 0.1}[optimizer]
    lines = []
    result = train(TrainConfig(corpus=str(periodic_corpus), cell=cell, hidden_size=32, seq_len=12, bptt=bptt,
                               batch_size=8, optimizer=optimizer, lr=lr, iters=150, print_every=50,
                               sample_every=150, sample_length=30, dtype="float64"), log=lines.append)
    assert result.losses[-1] < 0.5 * result.losses[0]
    assert result.val_loss is not None and result.val_loss < 1.5
    assert len(result.samples) == 1 and len(result.samples[0]) == 30
    assert any("it/s" in line and "loss" in line for line in lines)
    assert 0.9 * 150 * 8 * 12 < result.chars <= 150 * 8 * 12  # the last chunk of an epoch is shorter


def test_training_is_deterministic(periodic_corpus):
    config = dict(corpus=str(periodic_corpus), hidden_size=16, batch_size=4, iters=20, print_every=0, sample_every=0)
    a = train(TrainConfig(**config), log=lambda *_: None)
    b = train(TrainConfig(**config), log=lambda *_: None)
    assert a.losses == b.losses


def test_optimizers_registry_names():
    assert set(OPTIMIZERS) == {"sgd", "momentum", "adagrad", "rmsprop", "adam"}
