"""The tagger's self-attention (``--attention``, Li et al. 2019): padding never changes a real word's scores,
the context reads the whole sentence, and a trained tagger with attention reloads through the CLI."""

import pytest
import torch

from conftest import one_line_error
from rnnkit.cli import main
from rnnkit.errors import RnnkitError
from rnnkit.models.tagger import Tagger
from rnnkit.models.tagger_config import TaggerConfig
from rnnkit.schema import from_flat
from test_tag_language_model import TAGS, batch

pytestmark = pytest.mark.usefixtures("one_thread")


def tagger(attention: str) -> Tagger:
    return Tagger(12, 4, TAGS, from_flat(TaggerConfig, dict(
        embedding=4, chars=False, hidden=5, dropout=0.0, crf=True, attention=attention))).eval()


@pytest.mark.parametrize("attention", ["luong", "bahdanau"])
def test_padding_does_not_change_a_sentence_s_scores(attention, float64):
    """A sentence's emissions are the same alone and padded in a batch beside a longer one: padding gets no
    attention weight."""
    torch.manual_seed(0)
    model = tagger(attention)
    assert model.head.in_features == 4 * 5  # [h_t ; c_t], each 2H
    short, long = [3, 4, 5], [6, 7, 8, 9, 10, 11]
    alone = model.emissions(batch([short]))
    together = model.emissions(batch([long, short]))
    assert torch.allclose(alone[0], together[1, :3])


def test_the_context_changes_the_scores(float64):
    """Sharper attention weights over the same states change the emissions: the context is read."""
    torch.manual_seed(1)
    model = tagger("luong")
    inputs = batch([[3, 4, 5, 6]])
    before = model.emissions(inputs)
    with torch.no_grad():
        model.attention.key.weight.mul_(5.0)  # sharper weights over the same states
    assert not torch.allclose(before, model.emissions(inputs))


def test_unknown_attention_is_refused(tmp_path, capsys):
    with pytest.raises(RnnkitError, match="unknown attention 'dot'; choose one of: bahdanau, luong, none"):
        tagger("dot")
    train = tmp_path / "t.conll"
    train.write_text("Ada\tB-a\nsang\tO\n\nBob\tB-a\nran\tO\n\n")
    assert main(["tag", "train", "--train", str(train), "--attention", "dot", "--out", str(tmp_path / "r")]) == 2
    one_line_error(capsys, "--attention")


def test_cli_trains_evaluates_and_predicts_with_attention(tmp_path, capsys):
    lines = [f"{n}\tB-a\n{v}\tO\n{p}\tB-b\n.\tO\n\n" for n, v, p in [("Ada", "visited", "Paris"), ("Bob", "left", "Lyon")] * 10]
    data = tmp_path / "t.conll"
    data.write_text("".join(lines))
    out = tmp_path / "att"
    assert main(["tag", "train", "--train", str(data), "--val", str(data), "--crf", "--attention", "luong",
                 "--steps", "10", "--threads", "1", "--embedding", "8", "--char-embedding", "4", "--char-hidden",
                 "4", "--hidden", "8", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["tag", "eval", "--checkpoint", str(out), "--data", str(data)]) == 0
    assert "overall" in capsys.readouterr().out
    assert main(["tag", "predict", "--checkpoint", str(out), "Bob visited Lyon ."]) == 0
    assert len(capsys.readouterr().out.split()) == 4
