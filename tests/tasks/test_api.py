"""The Python API trains and loads any task without the CLI: ``rnnkit.tasks.train(task, **settings)`` takes
the ``train`` flags as keyword arguments, validated by the same parser as the flags (a bad value raises
``RnnkitError`` with the flag's message, an unknown name lists the valid ones, and nothing is written);
``rnnkit.tasks.load(path)`` returns the trained ``torch.nn.Module`` with its configs and vocabularies, and
gives the same predictions as the CLI's checkpoint."""

import pytest
import torch

import rnnkit.tasks
from rnnkit.errors import RnnkitError
from rnnkit.layers.config import RNNConfig
from rnnkit.models.classifier_config import ClassifierConfig

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def reviews(tmp_path):
    rows = [("a good film", 1), ("great acting", 1), ("a bad film", 0), ("awful acting", 0)]
    path = tmp_path / "reviews.tsv"
    path.write_text("text\tlabel\n" + "".join(f"{t}\t{l}\n" for t, l in rows * 10))
    return path


def test_train_then_load_a_classifier(reviews, tmp_path):
    out = tmp_path / "rev"
    summary = rnnkit.tasks.train("classify", train=str(reviews), hidden=16, embedding=8, bidirectional=True,
                                 steps=30, lr=0.01, seed=2, out=str(out), log_every=10)
    assert summary["run_dir"] == str(out) and 0.0 <= summary["val_accuracy"] <= 1.0
    assert summary["step"] == 30 and (out / "best" / "model.safetensors").exists()

    run = rnnkit.tasks.load(out)
    assert isinstance(run.model, torch.nn.Module) and not run.model.training
    assert isinstance(run.configs["model"], ClassifierConfig) and isinstance(run.configs["model"].rnn, RNNConfig)
    assert (run.configs["model"].rnn.hidden, run.configs["model"].rnn.bidirectional) == (16, True)
    assert run.vocabs["classes"] == ["0", "1"] and run.task.name == "classify"
    from rnnkit.tasks.classify.cli import predict_texts
    from rnnkit.tasks.classify.data import Encoded, predict_logits

    texts = ["a good film", "awful acting"]
    d = run.configs["data"]
    logits = predict_logits(run.model, Encoded(texts, run.vocabs["vocab"], d.tokens, d.max_len))
    via_cli = predict_texts(str(out), texts)
    assert [run.vocabs["classes"][int(l > 0)] for l in logits] == [label for label, _ in via_cli]


@pytest.mark.parametrize("settings, message", [
    (dict(hidden=0), r"--hidden must be an integer >= 1, got '0'"),
    (dict(cell="lstn"), r"--cell must be one of: .*got 'lstn'"),
    (dict(hiden=8), r"unknown setting of classify 'hiden'; choose one of: .*hidden"),
    (dict(), r"--train FILE is required"),
])
def test_bad_settings_raise_one_clear_error_and_write_nothing(settings, message, reviews, tmp_path):
    out = tmp_path / "never"
    if "hiden" in settings or "hidden" in settings or "cell" in settings:
        settings = {"train": str(reviews), **settings}
    with pytest.raises(RnnkitError, match=message):
        rnnkit.tasks.train("classify", out=str(out), steps=2, **settings)
    assert not out.exists()


def test_load_names_what_is_wrong(tmp_path):
    with pytest.raises(RnnkitError, match="checkpoint not found"):
        rnnkit.tasks.load(tmp_path / "nowhere")


def test_a_run_refused_while_reading_its_data_leaves_no_folder(tmp_path):
    out = tmp_path / "never"
    with pytest.raises(RnnkitError, match="missing.tsv"):
        rnnkit.tasks.train("classify", train=str(tmp_path / "missing.tsv"), out=str(out), steps=2)
    assert not out.exists()


@pytest.mark.parametrize("cell, engine", [("lstm", "torch"), ("peephole-lstm", "cpu"), ("mingru", "scan")])
def test_the_checkpoint_says_which_engine_ran(cell, engine, reviews, tmp_path):
    import json

    out = tmp_path / cell
    rnnkit.tasks.train("classify", train=str(reviews), cell=cell, hidden=8, embedding=4, steps=2, out=str(out))
    assert json.loads((out / "checkpoint" / "config.json").read_text())["engines"] == [engine]
