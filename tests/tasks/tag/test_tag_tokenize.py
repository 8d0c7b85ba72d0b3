"""``rnnkit tag predict`` tokenises raw text the way its training data (UD English EWT, WNUT-17) is.

* the tokeniser: punctuation split off words, clitics split as EWT splits them, abbreviations, initials,
  numbers, URLs, e-mail addresses and handles kept whole; text already tokenised is unchanged;
* the command: ``"I saw her duck."`` tags ``duck`` and ``.`` separately (the same tags as the pretokenised
  sentence), and ``--pretokenized`` splits at whitespace only (``duck.`` one word).
"""

import pytest

from conftest import ROOT, run_cli
from rnnkit.tasks.tag.tokenize import tokenize

RUN = ROOT / "tests" / "fixtures" / "tag" / "run"


@pytest.mark.parametrize("text, tokens", [
    ("I saw her duck.", "I saw her duck ."),
    ("Don't stop, Mr. Smith!", "Do n't stop , Mr. Smith !"),
    ("I'm John's \"friend\"; can't wait...", "I 'm John 's \" friend \" ; ca n't wait ..."),
    ("(see https://x.org/a.b) 3.5. 1,000 J. Doe", "( see https://x.org/a.b ) 3.5 . 1,000 J. Doe"),
    ("mail me@x.com, @bob #nlp U.S. well-known e.g. Yes!!", "mail me@x.com , @bob #nlp U.S. well-known e.g. Yes ! !"),
    ("the big dog sees a cat .", "the big dog sees a cat ."),
])
def test_raw_text_is_tokenised_as_the_training_data(text, tokens):
    assert tokenize(text) == tokens.split()


@pytest.mark.slow
def test_predict_tokenises_raw_text_and_pretokenized_does_not():
    raw = run_cli("tag", "predict", "--checkpoint", RUN, "the big dog sees a cat.", "--threads", "1")
    spaced = run_cli("tag", "predict", "--checkpoint", RUN, "the big dog sees a cat .", "--threads", "1")
    assert raw.returncode == 0 and spaced.returncode == 0, raw.stderr + spaced.stderr
    assert raw.stdout == spaced.stdout and raw.stdout.split()[-1].startswith("./")
    whole = run_cli("tag", "predict", "--checkpoint", RUN, "the big dog sees a cat.", "--pretokenized", "--threads", "1")
    assert whole.returncode == 0 and whole.stdout.split()[-1].startswith("cat./"), whole.stdout
