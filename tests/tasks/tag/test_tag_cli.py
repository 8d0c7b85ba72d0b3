"""``rnnkit tag`` end to end on tiny files: train, eval (accuracy; entity scores for BIO), predict from
arguments and stdin, exact resume, the baseline, the tagger's engines, and one-line errors."""

import io
import json
import random
import re

import pytest
import torch
from safetensors.torch import load_file

from conftest import one_line_error
from rnnkit.cli import main
from rnnkit.models.tagger import Tagger
from rnnkit.models.tagger_config import TaggerConfig
from rnnkit.schema import from_flat, to_flat

FAST = ["--threads", "1", "--log-every", "10", "--embedding", "16", "--char-embedding", "8", "--char-hidden", "8",
        "--hidden", "16", "--dropout", "0", "--batch-size", "16", "--lr", "0.02"]

pytestmark = pytest.mark.usefixtures("one_thread")

LEXICON = {"DET": ["the", "a", "this"], "NOUN": ["cat", "dog", "house", "tree"], "VERB": ["sees", "likes", "eats"],
           "ADJ": ["big", "red", "old"], "PUNCT": [".", "!"]}


def toy_sentences(n: int, seed: int):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        tags = ["DET", *(["ADJ"] if rng.random() < 0.5 else []), "NOUN", "VERB", "DET", "NOUN", "PUNCT"]
        out.append([(rng.choice(LEXICON[t]), t) for t in tags])
    return out


def conllu(sentences) -> str:
    return "".join("# s\n" + "".join(f"{i}\t{w}\t{w}\t{t}\tX\t_\t0\tdep\t_\t_\n" for i, (w, t) in enumerate(s, 1)) + "\n"
                   for s in sentences)


@pytest.fixture
def pos(tmp_path):
    train, dev = tmp_path / "train.conllu", tmp_path / "dev.conllu"
    train.write_text(conllu(toy_sentences(64, 0)))
    dev.write_text(conllu(toy_sentences(16, 1)))
    return train, dev


def test_pos_train_eval_predict_and_exact_resume(tmp_path, pos, capsys, monkeypatch):
    train, dev = pos
    flags = ["tag", "train", "--train", str(train), "--val", str(dev), "--eval-every", "10", "--patience", "0", *FAST]
    assert main([*flags, "--steps", "30", "--out", str(tmp_path / "full")]) == 0
    text = capsys.readouterr().out
    assert re.search(r"data: 64 training and 16 validation sentences, 5 tags, \d+ words", text)
    assert "(torch engine), chars" in text  # the bidirectional LSTM runs through torch's fused kernel
    out = tmp_path / "full"
    meta = json.loads((out / "best" / "config.json").read_text())
    assert meta["task"] == "tag" and meta["tags"] == ["ADJ", "DET", "NOUN", "PUNCT", "VERB"]
    assert (out / "loss.png").exists() and (out / "metrics.jsonl").exists()

    assert main(["tag", "eval", "--checkpoint", str(out), "--data", str(dev), "--json", str(tmp_path / "s.json")]) == 0
    assert "token accuracy 100.00%" in capsys.readouterr().out
    assert json.loads((tmp_path / "s.json").read_text())["accuracy"] == 1.0

    assert main(["tag", "predict", "--checkpoint", str(out), "the big dog likes a cat ."]) == 0
    assert capsys.readouterr().out.strip() == "the/DET big/ADJ dog/NOUN likes/VERB a/DET cat/NOUN ./PUNCT"
    monkeypatch.setattr("sys.stdin", io.StringIO("this tree eats the house !\n\n"))
    assert main(["tag", "predict", "--checkpoint", str(out)]) == 0
    assert capsys.readouterr().out.strip() == "this/DET tree/NOUN eats/VERB the/DET house/NOUN !/PUNCT"

    assert main([*flags, "--steps", "10", "--out", str(tmp_path / "half")]) == 0
    assert main([*flags, "--steps", "30", "--out", str(tmp_path / "half"), "--resume"]) == 0
    a = load_file(str(out / "checkpoint" / "model.safetensors"))
    b = load_file(str(tmp_path / "half" / "checkpoint" / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    capsys.readouterr()
    assert main([*flags, "--steps", "40", "--out", str(tmp_path / "half"), "--resume", "--hidden", "32"]) == 2
    one_line_error(capsys, "--hidden cannot change when resuming")


def test_ner_with_crf_reports_entity_scores(tmp_path, capsys):
    rng = random.Random(0)
    people, places = ["Ada Lovelace", "Alan Turing", "Grace"], ["New York", "Paris", "Lyon"]

    def sentence():
        who, where = rng.choice(people).split(), rng.choice(places).split()
        tags = [f"{'B' if i == 0 else 'I'}-person" for i in range(len(who))] + ["O"]
        tags += [f"{'B' if i == 0 else 'I'}-location" for i in range(len(where))]
        return "".join(f"{w}\t{t}\n" for w, t in zip([*who, "visited", *where], tags)) + "\n"

    train, dev = tmp_path / "train.conll", tmp_path / "dev.conll"
    train.write_text("".join(sentence() for _ in range(48)))
    dev.write_text("".join(sentence() for _ in range(12)))
    assert main(["tag", "train", "--preset", "ner", "--train", str(train), "--val", str(dev), "--steps", "40",
                 "--out", str(tmp_path / "ner"), *FAST]) == 0
    assert ", CRF" in capsys.readouterr().out
    # the ner preset chooses the best checkpoint by the validation entity F1: val_loss is 1 - F1
    evals = [json.loads(line) for line in (tmp_path / "ner" / "metrics.jsonl").read_text().splitlines()]
    evals = [e for e in evals if "val_nll" in e]
    assert evals and all(e["val_loss"] == pytest.approx(1 - e["val_f1"]) for e in evals)
    assert main(["tag", "eval", "--checkpoint", str(tmp_path / "ner"), "--data", str(dev)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"overall\s+100.00%\s+100.00%\s+100.00%\s+\d+", out) and "person" in out and "location" in out
    # an ensemble: the same model twice scores as the model; predict reads several checkpoints too
    ner = str(tmp_path / "ner")
    assert main(["tag", "eval", "--checkpoint", ner, "--checkpoint", ner, "--data", str(dev)]) == 0
    out = capsys.readouterr().out
    assert "the 2 models' mean loss" in out and re.search(r"overall\s+100.00%\s+100.00%\s+100.00%", out)
    assert main(["tag", "predict", "--checkpoint", ner, "--checkpoint", f"{ner}/best", "Alan Turing visited Paris"]) == 0
    assert capsys.readouterr().out.split() == ["Alan/B-person", "Turing/I-person", "visited/O", "Paris/B-location"]
    assert main(["tag", "baseline", "--train", str(train), "--data", str(dev)]) == 0
    assert "entity F1" in capsys.readouterr().out


def test_shape_embedding_is_trained_saved_and_reloaded(tmp_path, pos, capsys):
    """``--shape 4`` (and ``--select accuracy``): the shape embedding is in the checkpoint with the shape classes, a reloaded model gives
    the same emissions, and a checkpoint made with other classes is refused in one line."""
    from rnnkit.tasks.tag.data import Encoded
    from rnnkit.tasks.tag.shape import SHAPES
    from rnnkit.tasks.runner import load

    train, dev = pos
    out = tmp_path / "shape"
    assert main(["tag", "train", "--train", str(train), "--val", str(dev), "--steps", "20", "--shape", "4",
                 "--select", "accuracy", "--eval-every", "5", "--out", str(out), *FAST]) == 0
    assert ", shape 4" in capsys.readouterr().out
    evals = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    evals = [e for e in evals if "val_nll" in e]  # --select accuracy: the trainer follows 1 - accuracy
    assert len(evals) == 4 and all(e["val_loss"] == pytest.approx(1 - e["val_accuracy"]) for e in evals)
    weights = load_file(str(out / "best" / "model.safetensors"))
    assert weights["shape.weight"].shape == (len(SHAPES), 4) and weights["shape.weight"][0].abs().sum() == 0
    meta = json.loads((out / "best" / "config.json").read_text())
    assert meta["shapes"] == list(SHAPES) and meta["configs"]["model"]["shape"] == 4
    run = load(out / "best", "cpu", "tag")
    model, words, chars = run.model, run.vocabs["words"], run.vocabs["chars"]
    assert torch.equal(model.shape.weight, weights["shape.weight"])
    data = Encoded([["The", "CAT", "sees", "@dog", "42"]], words, chars, True, 30)
    inputs, _ = data.batch([0])
    other = list(inputs)
    other[-1] = torch.full_like(inputs[-1], SHAPES.index("lower"))
    assert not torch.allclose(model.emissions(inputs), model.emissions(tuple(other)))  # the shapes are read
    assert main(["tag", "eval", "--checkpoint", str(out), "--data", str(dev)]) == 0
    capsys.readouterr()
    (out / "best" / "config.json").write_text(json.dumps({**meta, "shapes": list(SHAPES[:-1])}))
    assert main(["tag", "eval", "--checkpoint", str(out / "best"), "--data", str(dev)]) == 2
    one_line_error(capsys, "other word-shape classes")
    assert main(["tag", "train", "--train", str(train), "--shape", "-1", "--out", str(tmp_path / "bad"), *FAST]) == 2
    one_line_error(capsys, "--shape")


def test_tagger_engines_agree_and_crf_loss_has_gradients():
    """The fused torch engine and the readable loop give the same emissions with the same weights."""
    torch.manual_seed(0)
    tags = ["B-x", "I-x", "O"]
    config = from_flat(TaggerConfig, dict(embedding=6, char_embedding=4, char_hidden=3, hidden=5, layers=2, dropout=0.0,
                                          crf=True))
    fast = Tagger(20, 10, tags, config).eval()
    slow = Tagger(20, 10, tags, from_flat(TaggerConfig, {**to_flat(config), "engine": "loop"})).eval()
    slow.load_state_dict(fast.state_dict())
    assert fast.rnn.layers[0].engine_used == "torch" and slow.rnn.layers[0].engine_used == "loop"
    words = torch.tensor([[3, 4, 5, 6], [7, 8, 0, 0]])
    lengths = torch.tensor([4, 2])
    chars, char_lengths = torch.randint(2, 10, (6, 5)), torch.tensor([5, 1, 3, 2, 4, 5])
    slots = torch.tensor([[0, 1, 2, 3], [4, 5, 0, 0]])
    inputs = (words, lengths, chars, char_lengths, slots, torch.zeros_like(words))
    a, b = fast.emissions(inputs), slow.emissions(inputs)
    assert torch.allclose(a[0], b[0], atol=1e-5) and torch.allclose(a[1, :2], b[1, :2], atol=1e-5)
    fast.train()
    _, loss, _ = fast(inputs, torch.tensor([[0, 1, 2, 2], [2, 0, 0, 0]]))
    loss.backward()
    assert fast.crf.trans.grad.abs().sum() > 0 and fast.chars.embed.weight.grad.abs().sum() > 0
    assert all(len(p) == n for p, n in zip(fast.decode(inputs), [4, 2]))


def test_bad_input_one_line_errors(tmp_path, pos, capsys):
    train, dev = pos
    assert main(["tag", "train", "--out", str(tmp_path / "r")]) == 2
    one_line_error(capsys, "--train FILE is required")
    unknown = tmp_path / "unknown.conllu"
    unknown.write_text(conllu([[("the", "DET"), ("cat", "NOUN")], [("cat", "INTJ")]]))
    assert main(["tag", "train", "--train", str(train), "--val", str(unknown), "--out", str(tmp_path / "r"), *FAST]) == 2
    one_line_error(capsys, r"unknown.conllu:6: unknown tag 'INTJ'")
    assert main(["tag", "train", "--train", str(train), "--steps", "1", "--out", str(tmp_path / "r"), *FAST]) == 0
    capsys.readouterr()
    assert main(["tag", "eval", "--checkpoint", str(tmp_path / "r"), "--data", str(unknown)]) == 2
    one_line_error(capsys, r"unknown.conllu:6: unknown tag 'INTJ'; the model knows: ADJ, DET")
    assert main(["tag", "predict", "--checkpoint", str(tmp_path / "r"), " "]) == 2
    one_line_error(capsys, "no sentence to tag")
    other = tmp_path / "other.conllu"  # another tag set: no ensemble with the first model
    other.write_text(conllu([[("the", "DET"), ("cat", "NOUN")], [("hi", "INTJ")]]))
    assert main(["tag", "train", "--train", str(other), "--val", str(other), "--steps", "1", "--out",
                 str(tmp_path / "o"), *FAST]) == 0
    capsys.readouterr()
    assert main(["tag", "predict", "--checkpoint", str(tmp_path / "r"), "--checkpoint", str(tmp_path / "o"),
                 "the cat"]) == 2
    one_line_error(capsys, r"o tags DET, INTJ, NOUN but .*r tags ADJ, DET, .*same tag set")
    assert main(["tag", "train", "--train", str(train), "--max-len", "3", "--out", str(tmp_path / "s"), *FAST]) == 2
    one_line_error(capsys, r"train.conllu:2: a sentence of \d words is longer than --max-len 3")
    assert main(["tag", "train", "--train", str(train), "--select", "f1", "--out", str(tmp_path / "t"), *FAST]) == 2
    one_line_error(capsys, "--select f1 needs BIO tags")


def test_bad_validation_file_leaves_no_run_folder(tmp_path, monkeypatch):
    """The run folder is made only once the inputs are valid (an unknown tag in --val fails first)."""
    from rnnkit.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "tr.conll").write_text("a\tO\nb\tB-x\n\n")
    (tmp_path / "va.conll").write_text("a\tO\nb\tB-zzz\n\n")
    rc = main(["tag", "train", "--train", "tr.conll", "--val", "va.conll", "--format", "conll", "--steps", "1",
               "--out", "runs/t"])
    assert rc == 2 and not (tmp_path / "runs" / "t").exists()
