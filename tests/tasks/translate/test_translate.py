"""Translation data (normalisation, skipped lines, the split) and ``rnnkit translate`` end to end on a
small synthetic language whose translation is learnable in seconds: each English word maps to one
French word and the sentence is reversed, so attention has to learn an anti-diagonal."""

import json
import random

import pytest

from rnnkit.cli import main
from rnnkit.data.pairs import normalize, read_pairs, references_by_source, split_by_source, within_length
from rnnkit.data.text import BOS, EOS, TokenVocab
from rnnkit.errors import RnnkitError

from conftest import one_line_error, run_cli

LEXICON = dict(the="le", cat="chat", dog="chien", bird="oiseau", sat="assis", ran="couru", on="sur", under="sous",
               mat="tapis", table="table", red="rouge", big="grand", small="petit")


def test_normalisation_lowercases_strips_accents_and_spaces_punctuation():
    assert normalize("Va-t'en !") == "va-t ' en !"
    assert normalize("  J'ai  ÉTÉ là, «vraiment»?") == "j ' ai ete la , « vraiment » ?"
    assert normalize("Été\u202f!", accents="keep") == "été !"
    with pytest.raises(RnnkitError, match="accents"):
        normalize("x", accents="ascii")


def test_reading_pairs_skips_and_counts_empty_lines_and_lines_without_a_tab(tmp_path):
    path = tmp_path / "p.tsv"
    path.write_text("Go.\tVa !\n\nno tab here\nRun!\tCours !\textra attribution\nHello.\t \nHi.\tSalut.\n")
    found = read_pairs(path)
    assert found.pairs == [("Go.", "Va !"), ("Run!", "Cours !"), ("Hi.", "Salut.")]
    assert (found.empty, found.no_tab, found.empty_side, found.skipped_lines) == (1, 1, 1, [2, 3, 5])
    assert "skipped 3 line(s): 1 empty, 1 without a tab" in found.report(path)
    assert read_pairs(path, reverse=True).pairs[0] == ("Va !", "Go.")
    (tmp_path / "none.tsv").write_text("\n\nno tabs at all\n")
    with pytest.raises(RnnkitError, match="no sentence pairs"):
        read_pairs(tmp_path / "none.tsv")
    with pytest.raises(RnnkitError, match="file not found"):
        read_pairs(tmp_path / "missing.tsv")


def test_length_filter_counts_normalised_words():
    assert within_length(("I'm here.", "Je suis là."), 5)  # i ' m here .  /  je suis la .
    assert not within_length(("I'm here.", "Je suis là."), 4)


def test_split_is_deterministic_disjoint_by_source_and_keeps_all_translations_together():
    pairs = [(f"Sentence {i}.", f"Phrase {i} {k}.") for i in range(200) for k in range(1 + i % 3)]
    a = split_by_source(pairs, 0.1, 0.2, seed=0)
    assert a == split_by_source(pairs, 0.1, 0.2, seed=0) and a != split_by_source(pairs, 0.1, 0.2, seed=1)
    sources = {name: {s for s, _ in part} for name, part in a.items()}
    assert len(sources["val"]) == 20 and len(sources["test"]) == 40 and len(sources["train"]) == 140
    assert not (sources["train"] & sources["test"]) and not (sources["train"] & sources["val"])
    assert sorted(p for part in a.values() for p in part) == sorted(pairs)
    assert all(len(r) == 1 + int(s.split()[1].rstrip(".")) % 3 for s, r in zip(*references_by_source(a["test"])))
    with pytest.raises(RnnkitError, match="too few"):
        split_by_source(pairs[:3], 0.1, 0.2, seed=0)


def test_seq2seq_is_exported_from_rnnkit_models():
    from rnnkit.models import Seq2Seq
    from rnnkit.models.seq2seq import Seq2Seq as defined

    assert Seq2Seq is defined


def test_target_vocabulary_puts_the_sequence_symbols_after_pad_and_unk():
    v = TokenVocab.build([["le", "chat"], ["le"]], specials=(BOS, EOS))
    assert v.tokens == ["<pad>", "<unk>", "<s>", "</s>", "le", "chat"]


# ------------------------------------------------------------------ end to end
@pytest.fixture(scope="module")
def pairs_file(tmp_path_factory):
    r = random.Random(0)
    words = list(LEXICON)
    lines = []
    for _ in range(3000):
        en = [r.choice(words) for _ in range(r.randint(2, 6))]
        lines.append(" ".join(en).capitalize() + ".\t" + " ".join(LEXICON[w] for w in reversed(en)) + " .")
    lines[5:5] = ["", "a line without a tab"]
    path = tmp_path_factory.mktemp("pairs") / "pairs.tsv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def trained(pairs_file):
    run = pairs_file.parent / "run"
    r = run_cli("translate", "train", "--data", pairs_file, "--out", run, "--steps", 400, "--hidden", 32,
                "--embedding", 32, "--eval-every", 200, "--batch-size", 32, "--threads", 1)
    assert r.returncode == 0, r.stderr
    return run, r


@pytest.mark.slow
def test_training_reports_skipped_lines_writes_the_split_and_learns(trained):
    run, r = trained
    assert "skipped 2 line(s): 1 empty, 1 without a tab" in r.stdout
    for split in ("train", "val", "test"):
        assert (run / f"{split}.tsv").stat().st_size > 0
    records = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines()]
    bleus = [x["val_bleu"] for x in records if "val_bleu" in x]
    assert bleus[-1] > 90, bleus


@pytest.mark.slow
def test_eval_reports_bleu_and_chrf_for_greedy_and_beam(trained, tmp_path):
    run, _ = trained
    out = tmp_path / "scores.json"
    r = run_cli("translate", "eval", "--checkpoint", run, "--decoder", "greedy,beam", "--json", out)
    assert r.returncode == 0, r.stderr
    assert "greedy: BLEU" in r.stdout and "beam 5: BLEU" in r.stdout and "chrF" in r.stdout
    scores = json.loads(out.read_text())["scores"]
    assert scores["greedy"]["bleu"] > 90 and scores["beam 5"]["bleu"] > 90
    assert scores["greedy"]["sentences"] == len({l.split("\t")[0] for l in (run / "test.tsv").read_text().splitlines()})


@pytest.mark.slow
def test_translate_warns_on_unknown_words_and_truncates_long_input(trained):
    run, _ = trained
    r = run_cli("translate", "translate", "--checkpoint", run, "The red cat sat on the table.", "the zebra ran",
                "the cat " * 8)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("Table le sur assis chat rouge")  # (the reversed word-by-word translation, detokenised)
    assert "unknown word(s) 'zebra'" in r.stderr and "read as <unk>" in r.stderr
    assert "has 16 words; truncated to the first 10" in r.stderr


@pytest.mark.slow
def test_translate_n_best_sampling_exhaustive_and_the_attention_heat_map(trained, tmp_path):
    run, _ = trained
    png = tmp_path / "attention.png"
    r = run_cli("translate", "translate", "--checkpoint", run, "the big dog ran.", "--n-best", 3, "--attention", png)
    assert r.returncode == 0, r.stderr
    rows = r.stdout.splitlines()[1:]
    scores = [float(row.split()[0]) for row in rows]
    assert len(rows) == 3 and scores == sorted(scores, reverse=True)
    assert rows[0].split()[2:] == ["couru", "chien", "grand", "le", "."]
    assert png.stat().st_size > 10_000
    r = run_cli("translate", "translate", "--checkpoint", run, "the big dog ran.", "--decoder", "exhaustive",
                "--max-output", 6, "--shortlist", 7)
    assert r.returncode == 0 and r.stdout.strip() == "couru chien grand le.", r.stderr  # the 1-best, detokenised (cased as the source)
    r = run_cli("translate", "translate", "--checkpoint", run, "the big dog ran.", "--decoder", "sample",
                "--temperature", 0.5, "--top-k", 3, "--top-p", 0.9, "--n-best", 2, "--seed", 3)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 3, r.stderr


@pytest.mark.slow
def test_bad_input_gets_one_clear_error_line(trained, tmp_path, capsys):
    run, _ = trained
    assert main(["translate", "translate", "--checkpoint", str(run), "the cat", "--decoder", "exhaustive"]) == 2
    one_line_error(capsys, r"exhaustive search over a shortlist of 8 words .* lower --shortlist or --max-output")
    assert main(["translate", "translate", "--checkpoint", str(run), "the cat", "--decoder", "viterbi"]) == 2
    one_line_error(capsys, r"unknown decoder 'viterbi'")
    assert main(["translate", "translate", "--checkpoint", str(run), "the cat", "--n-best", "9"]) == 2
    one_line_error(capsys, r"--n-best 9 is more than the beam width 5")
    empty = tmp_path / "empty.tsv"
    empty.write_text("\n\n")
    assert main(["translate", "train", "--data", str(empty), "--out", str(tmp_path / "r")]) == 2
    one_line_error(capsys, r"holds no sentence pairs")
    assert main(["translate", "train", "--out", str(tmp_path / "r2")]) == 2
    one_line_error(capsys, r"--data FILE is required")
    assert main(["translate", "eval", "--checkpoint", str(tmp_path / "nowhere")]) == 2
    one_line_error(capsys, r"checkpoint not found")


@pytest.mark.slow
def test_a_min_cell_trains_and_translates_through_the_cli(pairs_file, tmp_path):
    run = tmp_path / "mingru"
    r = run_cli("translate", "train", "--data", pairs_file, "--out", run, "--steps", 20, "--hidden", 16,
                "--embedding", 16, "--cell", "mingru", "--eval-bleu", 0, "--threads", 1)
    assert r.returncode == 0, r.stderr
    r = run_cli("translate", "translate", "--checkpoint", run, "the cat sat.", "--decoder", "beam", "--n-best", 2)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 3, r.stderr
