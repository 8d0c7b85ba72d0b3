"""The tagger's auxiliary language-modelling objective (``--lm-weight``, Rei 2017): the forward states predict
the next word and the backward states the previous one, checked against a per-position loop; it cannot see
the word it predicts; it is added in training only; it learns; and it is refused with two layers."""

import math

import pytest
import torch
from torch.nn import functional as F

from conftest import one_line_error
from rnnkit.cli import main
from rnnkit.errors import RnnkitError
from rnnkit.models.tagger import UNK_ID, Tagger
from rnnkit.models.tagger_config import TaggerConfig
from rnnkit.schema import from_flat
from rnnkit.tasks.tag.config import TagDataConfig
from rnnkit.tasks.tag.task import TASK

pytestmark = pytest.mark.usefixtures("one_thread")

TAGS = ["B-a", "I-a", "O"]


def tagger(num_words=9, **overrides) -> Tagger:
    config = dict(embedding=4, chars=False, hidden=5, dropout=0.0, word_dropout=0.0, crf=True, lm_weight=0.5,
                  lm_vocab=6, lm_hidden=3)
    return Tagger(num_words, 4, TAGS, from_flat(TaggerConfig, {**config, **overrides}))


def batch(words: list[list[int]]):
    """The tagger's inputs for word-id sentences (no characters, no shapes)."""
    lengths = torch.tensor([len(w) for w in words])
    padded = torch.zeros(len(words), int(lengths.max()), dtype=torch.long)
    for b, w in enumerate(words):
        padded[b, : len(w)] = torch.tensor(w)
    dummy = torch.zeros(1, 1, dtype=torch.long)
    return (padded, lengths, dummy, torch.ones(1, dtype=torch.long), torch.zeros_like(padded), torch.zeros_like(padded))


def test_language_model_loss_equals_a_loop_over_positions(float64):
    """h→_t predicts w_{t+1} and h←_t predicts w_{t-1}; a word outside the 6 most frequent ids is <unk>;
    padding is never predicted; each direction is a mean over its predicted words."""
    torch.manual_seed(0)
    model = tagger().double().eval()
    sentences = [[2, 7, 3, 8, 4], [5, 2], [6]]  # ids 7 and 8 are rarer than the 6 LM classes
    inputs = batch(sentences)
    _, states = model.encode(inputs)
    H = states.shape[-1] // 2
    fwd, bwd = [], []
    for b, words in enumerate(sentences):
        target = [w if w < 6 else UNK_ID for w in words]
        for t in range(len(words) - 1):
            fwd.append(-F.log_softmax(model.lm[0](states[b, t, :H]), -1)[target[t + 1]])
            bwd.append(-F.log_softmax(model.lm[1](states[b, t + 1, H:]), -1)[target[t]])
    expected = torch.stack(fwd).mean() + torch.stack(bwd).mean()
    assert model.lm[0][-1].out_features == 6
    assert torch.allclose(model.language_model_loss(states, inputs[0], inputs[1]), expected)
    lone = batch([[3], [4]])  # one-word sentences have no neighbour to predict
    assert model.language_model_loss(model.encode(lone)[1], lone[0], lone[1]) == 0


def test_each_direction_predicts_a_word_it_has_not_read(float64):
    """Changing word 3 leaves the forward states before it and the backward states after it unchanged, so the
    forward state at 2 and the backward state at 4 cannot copy the word they predict."""
    torch.manual_seed(1)
    model = tagger().double().eval()
    _, a = model.encode(batch([[2, 3, 4, 5, 6, 2]]))
    _, b = model.encode(batch([[2, 3, 4, 1, 6, 2]]))
    H = a.shape[-1] // 2
    assert torch.equal(a[:, :3, :H], b[:, :3, :H]) and torch.equal(a[:, 4:, H:], b[:, 4:, H:])
    assert not torch.allclose(a[:, 3:, :H], b[:, 3:, :H]) and not torch.allclose(a[:, :4, H:], b[:, :4, H:])


def test_the_objective_is_added_in_training_only(float64):
    torch.manual_seed(2)
    model = tagger().double()
    inputs, tags = batch([[2, 3, 4], [5, 6]]), torch.tensor([[0, 1, 2], [2, 0, 0]])
    model.eval()
    _, tag_loss, _ = model(inputs, tags)
    plain = tagger(lm_weight=0.0).double()
    plain.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith("lm.")})
    assert plain.lm is None and torch.allclose(plain(inputs, tags)[1], tag_loss)  # evaluation ignores the heads
    model.train()  # no dropout in this config: the only difference is the language-model term
    _, train_loss, _ = model(inputs, tags)
    _, states = model.encode(inputs)
    lm = model.language_model_loss(states, inputs[0], inputs[1])
    assert torch.allclose(train_loss, tag_loss + 0.5 * lm) and lm > 0
    train_loss.backward()
    assert model.lm[0][0].weight.grad.abs().sum() > 0 and model.lm[1][-1].weight.grad.abs().sum() > 0


def test_the_heads_learn_a_deterministic_successor():
    """Sentences walk 2, 3, 4, 5 cyclically: the next and the previous word are certain, so both directions'
    cross-entropies fall far below the uniform guess ln 6 ~ 1.79 (their sum starts near 3.6)."""
    torch.manual_seed(3)
    model = tagger(lm_weight=1.0, hidden=8, lm_hidden=8).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=0.05)
    sentences = [[2 + (s + t) % 4 for t in range(6)] for s in range(8)]
    inputs, tags = batch(sentences), torch.full((8, 6), 2)
    for _ in range(120):
        optimiser.zero_grad()
        model(inputs, tags)[1].backward()
        optimiser.step()
    _, states = model.encode(inputs)
    assert model.language_model_loss(states, inputs[0], inputs[1]) < 0.2 < 2 * math.log(6)


def test_two_layers_are_refused_in_one_line(tmp_path, capsys):
    configs = {"data": TagDataConfig(train="t.conll"), "model": from_flat(TaggerConfig, {"lm_weight": 0.1, "layers": 2})}
    with pytest.raises(RnnkitError, match="--lm-weight needs --layers 1"):
        TASK.check(configs)  # a rule between two settings: the task's check, before anything is read
    train = tmp_path / "t.conll"
    train.write_text("Ada\tB-a\nsang\tO\n\nBob\tB-a\nran\tO\n\n")
    assert main(["tag", "train", "--train", str(train), "--lm-weight", "0.1", "--layers", "2", "--steps", "1",
                 "--out", str(tmp_path / "r"), "--threads", "1"]) == 2
    one_line_error(capsys, "--lm-weight needs --layers 1")
    assert main(["tag", "train", "--train", str(train), "--lm-weight", "-1", "--out", str(tmp_path / "r2")]) == 2
    one_line_error(capsys, "--lm-weight")


def test_cli_trains_with_the_objective_and_reloads_the_heads(tmp_path, capsys):
    """``rnnkit tag train --lm-weight``: the heads and their settings are saved with the tagger, and eval and
    predict reload it."""
    import json

    from safetensors.torch import load_file

    lines = []
    for name, verb, place in [("Ada", "visited", "Paris"), ("Bob", "left", "Lyon"), ("Eve", "saw", "Rome")] * 8:
        lines.append(f"{name}\tB-a\n{verb}\tO\n{place}\tB-b\n.\tO\n\n")
    data = tmp_path / "t.conll"
    data.write_text("".join(lines))
    out = tmp_path / "lm"
    assert main(["tag", "train", "--train", str(data), "--val", str(data), "--crf", "--lm-weight", "0.5",
                 "--lm-vocab", "5", "--steps", "12", "--eval-every", "6", "--log-every", "6", "--threads", "1",
                 "--embedding", "8", "--char-embedding", "4", "--char-hidden", "4", "--hidden", "8",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    weights = load_file(str(out / "best" / "model.safetensors"))
    assert weights["lm.0.2.weight"].shape == (5, 50) and weights["lm.1.0.weight"].shape == (50, 8)
    meta = json.loads((out / "best" / "config.json").read_text())["configs"]["model"]
    assert meta["lm_weight"] == 0.5 and meta["lm_vocab"] == 5
    assert main(["tag", "eval", "--checkpoint", str(out), "--data", str(data)]) == 0
    assert "overall" in capsys.readouterr().out
    assert main(["tag", "predict", "--checkpoint", str(out), "Ada visited Rome ."]) == 0
    assert len(capsys.readouterr().out.split()) == 4
