"""End to end through the CLI: train a character LM, sample from it, evaluate it, and every bad input
gets a one-line error (no traceback)."""

import json
import re

import pytest
import torch
from safetensors.torch import load_file

from conftest import one_line_error, run_cli
from rnnkit.cli import main

SMALL = ["--hidden", "32", "--layers", "1", "--embedding", "16", "--seq-len", "24", "--batch-size", "8",
         "--eval-every", "50", "--eval-windows", "8", "--eval-window", "32", "--log-every", "10", "--warmup", "10"]


def train(tmp_path, corpus, *extra, name="run"):
    out = tmp_path / name
    code = main(["train", "--corpus", str(corpus), "--out", str(out), *SMALL, *extra])
    return code, out


def test_train_learns_sample_and_eval(tmp_path, periodic_corpus, capsys):
    code, out = train(tmp_path, periodic_corpus, "--steps", "150", "--lr", "0.01", "--sample-every", "50")
    assert code == 0
    captured = capsys.readouterr()
    assert "sample at step 50" in captured.out + captured.err
    records = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    vals = [r["val_loss"] for r in records if "val_loss" in r]
    first_train = next(r["train_loss"] for r in records if "train_loss" in r)
    assert vals[-1] < 0.3 and first_train > 2.0  # it learned the sentence: from ~ln(12) = 2.5 to near 0
    assert (out / "loss.png").stat().st_size > 1000
    for folder in ("checkpoint", "best"):
        assert (out / folder / "model.safetensors").exists() and (out / folder / "config.json").exists()
    meta = json.loads((out / "checkpoint" / "config.json").read_text())
    assert meta["step"] == 150 and meta["task"] == "char-lm" and meta["vocab"] == "".join(sorted(set(periodic_corpus.read_text())))

    # greedy decoding (temperature 0) reproduces the learned sentence
    assert main(["sample", "--checkpoint", str(out), "--prime", "the cat ", "--length", "40", "--temperature", "0"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("the cat sat on the mat.\nthe cat sat on the mat.")
    # beam search finds it too; a seeded sample is reproducible
    assert main(["sample", "--checkpoint", str(out), "--prime", "the ", "--length", "19", "--beam", "3"]) == 0
    assert capsys.readouterr().out.startswith("the cat sat on the mat.")
    samples = []
    for _ in range(2):
        main(["sample", "--checkpoint", str(out), "--length", "60", "--temperature", "1.5", "--top-p", "0.95", "--seed", "7"])
        samples.append(capsys.readouterr().out)
    assert samples[0] == samples[1]

    assert main(["eval", "--checkpoint", str(out), "--corpus", str(periodic_corpus)]) == 0
    line = capsys.readouterr().out
    m = re.search(r"loss (\d+\.\d+) nats/char, (\d+\.\d\d) bpc", line)
    assert m and float(m.group(1)) < 0.3
    assert main(["eval", "--checkpoint", str(out), "--corpus", str(periodic_corpus), "--windows", "8", "--window", "64"]) == 0
    assert "bpc" in capsys.readouterr().out


@pytest.mark.parametrize("cell", ["elman", "elman-sigmoid", "simple-lstm", "peephole-lstm", "coupled-lstm", "gru",
                                  "gru-course", "mtrnn"])
@pytest.mark.slow
def test_every_cell_trains_from_the_cli(tmp_path, periodic_corpus, cell):
    code, out = train(tmp_path, periodic_corpus, "--steps", "50", "--cell", cell, "--lr", "0.01", "--sample-every", "0",
                      "--layers", "2", "--dropout", "0.1", "--optimizer", "adamw")
    assert code == 0
    records = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    losses = [r["train_loss"] for r in records if "train_loss" in r]
    assert losses[-1] < losses[0] - 0.15, losses


@pytest.mark.parametrize("options", [["--optimizer", "sgd", "--lr", "0.5", "--embedding", "0"],
                                     ["--optimizer", "momentum", "--lr", "0.1", "--clip-value", "0.5"],
                                     ["--optimizer", "rmsprop", "--lr", "0.003", "--schedule", "linear"],
                                     ["--optimizer", "adagrad", "--lr", "0.1", "--schedule", "constant"],
                                     ["--embedding", "32", "--tie-weights", "--residual", "--layers", "2", "--init", "orthogonal"]])
@pytest.mark.slow
def test_optimisers_and_model_options(tmp_path, periodic_corpus, options):
    code, out = train(tmp_path, periodic_corpus, "--steps", "60", "--sample-every", "0", *options)
    assert code == 0
    records = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    losses = [r["train_loss"] for r in records if "train_loss" in r]
    assert losses[-1] < losses[0], losses


def test_early_stopping(tmp_path, periodic_corpus, capsys):
    # a constant learning rate far too small to improve: validation stalls, patience 2 stops the run
    code, out = train(tmp_path, periodic_corpus, "--steps", "400", "--eval-every", "10", "--patience", "2",
                      "--optimizer", "sgd", "--lr", "1e-9", "--schedule", "constant", "--warmup", "0", "--sample-every", "0")
    assert code == 0
    meta = json.loads((out / "checkpoint" / "config.json").read_text())
    assert meta["step"] < 400
    assert "early stopping" in capsys.readouterr().out


def test_bad_corpus_files(tmp_path, capsys):
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "binary.bin").write_bytes(b"\x00\x01\x02abc" * 100)
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 ".encode("latin-1") * 100)
    (tmp_path / "short.txt").write_text("hello")
    cases = [("missing.txt", "corpus file not found"), ("empty.txt", "corpus file is empty"),
             ("binary.bin", "looks binary"), ("latin1.txt", "not UTF-8"),
             ("short.txt", r"has 5 characters, fewer than the 26 needed")]
    for name, expected in cases:
        assert main(["train", "--corpus", str(tmp_path / name), "--out", str(tmp_path / "r"), *SMALL]) == 2
        one_line_error(capsys, expected)


def test_bad_names(tmp_path, periodic_corpus, capsys):
    assert main(["train", "--corpus", str(periodic_corpus), "--cell", "lstn"]) == 2
    one_line_error(capsys, r"--cell must be one of: .*gru.*lstm.*got 'lstn'")
    assert main(["train", "--corpus", str(periodic_corpus), "--optimizer", "adam2"]) == 2
    one_line_error(capsys, r"--optimizer must be one of: adagrad, adam, adamw.*got 'adam2'")


def test_help_lists_every_cell():
    from rnnkit.cells import CELLS
    from rnnkit.models.language_model_config import LMConfig
    from rnnkit.schema import flat_fields

    help_text = next(f for f in flat_fields(LMConfig) if f.name == "cell").help
    assert set(re.findall(r"[\w-]+", help_text.split(":", 1)[1])) == set(CELLS)


@pytest.mark.slow
def test_bad_prime_and_checkpoints(tmp_path, periodic_corpus, capsys):
    code, out = train(tmp_path, periodic_corpus, "--steps", "10", "--sample-every", "0")
    assert code == 0
    capsys.readouterr()
    assert main(["sample", "--checkpoint", str(out), "--prime", "QZ!"]) == 2
    one_line_error(capsys, r"prime text has 3 character\(s\) outside the model's vocabulary: '!', 'Q', 'Z'")
    assert main(["sample", "--checkpoint", str(tmp_path / "nowhere")]) == 2
    one_line_error(capsys, "checkpoint not found")
    # corrupt weights file
    weights = out / "best" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    assert main(["sample", "--checkpoint", str(out / "best")]) == 2
    one_line_error(capsys, "corrupt checkpoint .*model.safetensors cannot be read")
    # corrupt config
    (out / "best" / "config.json").write_text("{not json")
    assert main(["sample", "--checkpoint", str(out / "best")]) == 2
    one_line_error(capsys, "config.json is not valid JSON")
    # mismatched: the config says one size, the weights are another
    config = json.loads((out / "checkpoint" / "config.json").read_text())
    config["configs"]["model"]["hidden"] = 64
    (out / "checkpoint" / "config.json").write_text(json.dumps(config))
    assert main(["sample", "--checkpoint", str(out / "checkpoint")]) == 2
    one_line_error(capsys, r"does not match the model its config describes \(wrong shape: ")
    # a run folder is never overwritten
    assert main(["train", "--corpus", str(periodic_corpus), "--out", str(out), *SMALL]) == 2
    one_line_error(capsys, "already holds a run; pass --resume")


def test_nan_loss_from_the_cli(tmp_path, periodic_corpus, capsys):
    # a ReLU RNN with spectral radius 10 over 64 steps: activations overflow to inf, the loss is NaN
    code = main(["train", "--corpus", str(periodic_corpus), "--out", str(tmp_path / "nan"), *SMALL, "--seq-len", "64",
                 "--cell", "elman-relu", "--init", "spectral", "--spectral-radius", "10", "--steps", "5"])
    assert code == 2
    one_line_error(capsys, r"the training loss became nan at step 1; training stopped and no checkpoint had been "
                           r"written yet; try a lower --lr or gradient clipping")


def test_nan_loss_keeps_last_good_checkpoint(tmp_path, periodic_corpus):
    """The loss turns NaN at step 8: the step-5 checkpoint stays, complete and finite."""
    from rnnkit.models import language_model
    from rnnkit.models.language_model import CharLM
    from rnnkit.tasks import runner
    from rnnkit.train.trainer import Diverged

    class PoisonedLM(CharLM):
        calls = 0

        def forward(self, inputs, targets=None, state=None):
            logits, loss, state = super().forward(inputs, targets, state)
            if targets is not None and self.training:
                PoisonedLM.calls += 1
                if PoisonedLM.calls == 8:
                    loss = loss * float("nan")
            return logits, loss, state

    task = runner.get_task("lm")
    configs = runner.configs_from_flags(task, {
        "data": dict(corpus=str(periodic_corpus), seq_len=24, eval_windows=4, eval_window=32),
        "model": dict(hidden=16, layers=1, embedding=8),
        "train": dict(out=str(tmp_path / "run"), steps=20, checkpoint_every=5, batch_size=8, sample_every=0)})
    original = language_model.CharLM
    language_model.CharLM = PoisonedLM
    try:
        # the step-5 checkpoint is intact, but no validation ever scored it: the error does not call it good
        with pytest.raises(Diverged, match=r"loss became nan at step 8; training stopped and no validated checkpoint "
                                            r"had been written yet \(.*checkpoint, step 5, was saved before any"):
            runner.train(task, configs, log=lambda *a: None)
    finally:
        language_model.CharLM = original
    meta = json.loads((tmp_path / "run" / "checkpoint" / "config.json").read_text())
    assert meta["step"] == 5
    weights = load_file(str(tmp_path / "run" / "checkpoint" / "model.safetensors"))
    assert all(torch.isfinite(t).all() for t in weights.values())


def test_resume_refuses_changed_model(tmp_path, periodic_corpus, capsys):
    code, out = train(tmp_path, periodic_corpus, "--steps", "10", "--sample-every", "0")
    capsys.readouterr()
    assert main(["train", "--out", str(out), "--resume", "--hidden", "64"]) == 2
    one_line_error(capsys, r"--hidden cannot change when resuming \(the run used 32\)")
    assert main(["train", "--out", str(tmp_path / "none"), "--resume"]) == 2
    one_line_error(capsys, "nothing to resume")


@pytest.mark.slow
def test_console_script_help_explains_every_flag():
    result = run_cli("train", "--help")
    assert result.returncode == 0
    for flag in ["--corpus", "--cell", "--hidden", "--layers", "--seq-len", "--batch-size", "--steps", "--time", "--lr",
                 "--optimizer", "--clip", "--dropout", "--device", "--seed", "--out", "--resume"]:
        assert re.search(rf"{flag}\b.*\n?\s+\S", result.stdout), flag
    result = run_cli("sample", "--help")
    for flag in ["--checkpoint", "--prime", "--length", "--temperature", "--top-k", "--top-p", "--beam", "--seed"]:
        assert flag in result.stdout


def test_a_run_in_the_old_checkpoint_layout_resumes_exactly(tmp_path, periodic_corpus, capsys):
    """A run written before the task's declaration (``model_config`` + ``train_config``, no ``configs``)
    resumes through ``migrate`` to exactly the weights of the same run in the current layout."""
    import shutil

    code, new = train(tmp_path, periodic_corpus, "--steps", "4", "--checkpoint-every", "2", "--sample-every", "0")
    assert code == 0
    old = tmp_path / "old"
    shutil.copytree(new, old)
    for name in ("checkpoint", "best"):
        path = old / name / "config.json"
        meta = json.loads(path.read_text())
        configs = meta.pop("configs")
        configs["model"].pop("bidirectional")  # the old model config had no such field
        meta["model_config"], meta["train_config"] = configs["model"], {**configs["data"], **configs["train"]}
        path.write_text(json.dumps(meta))
    for run in (new, old):
        assert main(["train", "--out", str(run), "--resume", "--steps", "6"]) == 0
    a, b = (load_file(str(run / "checkpoint" / "model.safetensors")) for run in (new, old))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert "configs" in json.loads((old / "checkpoint" / "config.json").read_text())  # written in the new layout
