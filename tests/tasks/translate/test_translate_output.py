"""What ``translate``/``caption`` users read and control: detokenised translations, banned words, warnings
for flags the decoder ignores, and a BLEU signature that matches its score.

* ``detokenize`` joins the normalised words back as a person writes them (``l ' eau est froide .`` ->
  ``L'eau est froide.``), capitalised like the source;
* ``rnnkit translate translate`` prints the 1-best translation detokenised; ``--ban '<unk>'`` (or any word of
  the target vocabulary) never comes out, for every decoder, in translations and captions; a word outside
  the vocabulary is refused in one line; ``--temperature`` with beam search is warned of;
* the BLEU signature names as many references as the headline score used (``nrefs:2`` with two).
"""

import pytest

from conftest import ROOT, run_cli
from rnnkit.tasks.translate.detok import detokenize

FIX = ROOT / "tests" / "fixtures"
TRANSLATE, CAPTION = FIX / "translate" / "run", FIX / "caption" / "run"
IMAGES = FIX / "data" / "caption" / "img"


@pytest.mark.parametrize("words, source, text", [
    ("l ' eau est froide .", "The water is cold.", "L'eau est froide."),
    ("aujourd ' hui , je n ' ai pas froid !", "Today", "Aujourd'hui, je n'ai pas froid!"),
    ('il a dit : " bonjour " ( vraiment ) ?', "he said", 'il a dit: "bonjour" (vraiment)?'),
    ("¿ que ?", "", "¿que?"),
])
def test_normalised_words_are_joined_as_a_person_writes_them(words, source, text):
    assert detokenize(words.split(), source) == text


def cli(*args):
    return run_cli(*args, "--threads", "1")


@pytest.mark.slow
def test_translations_are_detokenised_bans_hold_and_ignored_flags_are_warned_of():
    one = cli("translate", "translate", "--checkpoint", TRANSLATE, "The cat sees a dog.", "--decoder", "beam",
              "--beam", "3", "--temperature", "0.5")
    assert one.returncode == 0, one.stderr
    assert one.stdout.strip() == "Rouge."  # the model's normalised "rouge ." (see the fixture's n-best list)
    assert "warning: --temperature has no effect with --decoder beam (only sample reads it)" in one.stderr
    for decoder in ("greedy", "beam", "sample", "exhaustive"):
        r = cli("translate", "translate", "--checkpoint", TRANSLATE, "The cat sees a dog.", "A big red house.",
                "--decoder", decoder, "--n-best", "2" if decoder != "greedy" else "1", "--ban", "rouge,.,<unk>",
                "--max-output", "4")
        assert r.returncode == 0, (decoder, r.stderr)
        words = [w for line in r.stdout.splitlines() if line.startswith("  ") for w in line.split()[2:]]
        words += [] if decoder != "greedy" else r.stdout.lower().replace(".", " . ").split()
        assert not {"rouge", ".", "<unk>"} & set(words), (decoder, r.stdout)
    bad = cli("translate", "translate", "--checkpoint", TRANSLATE, "x", "--ban", "zzz")
    assert bad.returncode == 2 and bad.stderr.strip().splitlines()[-1].startswith("error: --ban 'zzz': not in the target")


@pytest.mark.slow
def test_captions_keep_out_banned_words():
    r = cli("caption", "describe", "--checkpoint", CAPTION, IMAGES / "red0.png", "--decoder", "beam", "--beam", "2",
            "--n-best", "2", "--ban", "a,blue")
    assert r.returncode == 0, r.stderr
    words = [w for line in r.stdout.splitlines() if line.startswith("  ") for w in line.split()[2:]]
    assert words and not {"a", "blue"} & set(words), r.stdout


@pytest.mark.slow
def test_the_bleu_signature_counts_the_references_of_the_headline_score(tmp_path):
    pairs = tmp_path / "two.tsv"
    pairs.write_text("The cat sees a dog.\tle chat voit un chien .\nThe cat sees a dog.\tle chat voit le chien .\n")
    r = cli("translate", "eval", "--checkpoint", TRANSLATE, "--data", pairs, "--decoder", "greedy")
    assert r.returncode == 0, r.stderr
    assert "2 reference translations" in r.stdout and "sacrebleu: nrefs:2|" in r.stdout, r.stdout
