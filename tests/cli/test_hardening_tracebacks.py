"""Inputs that ended in tracebacks end in one line: an empty text to inspect."""

from conftest import one_line_error
from rnnkit.cli import main


def test_inspect_an_empty_text(tmp_path, periodic_corpus, capsys):
    run = tmp_path / "lm"
    assert main(["train", "--corpus", str(periodic_corpus), "--steps", "2", "--hidden", "8", "--layers", "1",
                 "--seq-len", "8", "--batch-size", "2", "--eval-every", "2", "--sample-every", "0", "--threads", "1",
                 "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["inspect", "--checkpoint", str(run), "--text", ""]) == 2
    one_line_error(capsys, r"the text is empty: nothing to inspect")
