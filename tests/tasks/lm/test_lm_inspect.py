"""Looking inside: text properties, unit ranking, and ``rnnkit inspect`` on a trained model."""

import numpy as np

from rnnkit.cli import main
from rnnkit.tasks.lm.inspect import PROPERTIES, rank_units


def test_properties():
    assert PROPERTIES["quotes"]('a "bc" d').tolist() == [0, 0, 1, 1, 1, 1, 0, 0]
    assert PROPERTIES["parentheses"]("f(a(b))c").tolist() == [0, 1, 1, 1, 1, 1, 1, 0]
    assert PROPERTIES["line-position"]("ab\ncd").tolist() == [0, 1, 2, 0, 1]


def test_rank_units_finds_the_planted_unit():
    text = 'x = "hello" + "world" and more text "again"' * 3
    target = PROPERTIES["quotes"](text)
    rng = np.random.default_rng(0)
    acts = [rng.normal(size=(len(text), 8)), rng.normal(size=(len(text), 8))]
    acts[1][:, 5] = -2 * target + 0.1 * rng.normal(size=len(text))  # a "quote cell", negative sign
    layer, unit, r = rank_units(acts, text, "quotes", top=1)[0]
    assert (layer, unit) == (1, 5) and r < -0.9


def test_inspect_cli(tmp_path, periodic_corpus, capsys):
    out = tmp_path / "run"
    assert main(["train", "--corpus", str(periodic_corpus), "--out", str(out), "--hidden", "16", "--layers", "2",
                 "--steps", "5", "--sample-every", "0", "--eval-windows", "4", "--eval-window", "32",
                 "--seq-len", "16", "--batch-size", "4"]) == 0
    capsys.readouterr()
    html = tmp_path / "unit.html"
    assert main(["inspect", "--checkpoint", str(out), "--file", str(periodic_corpus), "--chars", "200",
                 "--rank", "line-position", "--html", str(html)]) == 0
    printed = capsys.readouterr().out
    assert "units whose activation best follows 'line-position'" in printed
    assert html.read_text().count("<span") == 200
    assert main(["inspect", "--checkpoint", str(out), "--text", "the cat", "--layer", "5"]) == 2
    assert "error: no unit 0 in layer 5: the model has 2 layer(s) of 16 units" in capsys.readouterr().err
    assert main(["inspect", "--checkpoint", str(out), "--text", "the cat", "--rank", "quotes"]) == 2
    assert "never changes the property 'quotes'" in capsys.readouterr().err
    # with neither --text nor --file: the run's own validation text (the held-out tail of its corpus)
    assert main(["inspect", "--checkpoint", str(out), "--rank", "line-position", "--top", "2"]) == 0
    captured = capsys.readouterr()
    assert "--file not given: reading the run's validation text (the last 0.1 of" in captured.err
    tail = periodic_corpus.read_text()[-int(len(periodic_corpus.read_text()) * 0.1):]
    assert f"Pearson r over {len(tail)} characters" in captured.out
    assert main(["inspect", "--checkpoint", str(out), "--rank", "quotes"]) == 2
    err = capsys.readouterr().err
    assert (f"the run's validation text (the last 0.1 of {periodic_corpus}) never changes the property 'quotes': "
            f"it does not occur in its {len(tail):,} characters") in err
