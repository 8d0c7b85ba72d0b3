"""Tagging data and scores: the CoNLL-U and CoNLL readers with their quirks, one-line errors naming the
file and line, bucketed batches, and entity P/R/F1 equal to seqeval's on the WNUT-17 gold files."""

import random

import pytest
import torch

from conftest import SHARED_DATA
from rnnkit.errors import RnnkitError
from rnnkit.schema import check_fields
from rnnkit.tasks.batches import AUGMENTATION, ShuffledBatches
from rnnkit.tasks.tag.config import TagDataConfig
from rnnkit.tasks.tag.data import BucketSampler, Encoded, build_vocabs, encode_tags, read_plain, read_tagged
from rnnkit.tasks.tag.metrics import entities, entity_scores, most_frequent_tag, token_accuracy
from rnnkit.tasks.tag.shape import SHAPES, word_shape

CONLLU = """# sent_id = 1
# text = I don't know.
1\tI\tI\tPRON\tPRP\t_\t3\tnsubj\t_\t_
2-3\tdon't\t_\t_\t_\t_\t_\t_\t_\t_
2\tdo\tdo\tAUX\tVBP\t_\t4\taux\t_\t_
3\tn't\tnot\tPART\tRB\t_\t4\tadvmod\t_\t_
3.1\tknow\tknow\tVERB\tVB\t_\t_\t_\t_\t_
4\tknow\tknow\tVERB\tVB\t_\t0\troot\t_\t_
5\t.\t.\tPUNCT\t.\t_\t4\tpunct\t_\t_

1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_conllu_reader_skips_comments_multiword_tokens_and_empty_nodes(tmp_path):
    path = write(tmp_path, "a.conllu", CONLLU)
    s = read_tagged(path)
    assert [x.words for x in s] == [["I", "do", "n't", "know", "."], ["Hi"]]
    assert [x.tags for x in s] == [["PRON", "AUX", "PART", "VERB", "PUNCT"], ["INTJ"]]
    assert s[0].lines == [3, 5, 6, 8, 9] and s[1].lines == [11]
    assert read_tagged(path, tag_column="xpos")[0].tags == ["PRP", "VBP", "RB", "VB", "."]


def test_conll_reader_two_columns_and_tab_only_separator_lines(tmp_path):
    path = write(tmp_path, "a.conll", "Empire\tB-location\nState\tI-location\n.\tO\n\t\nHi\tO\n\n\n")
    s = read_tagged(path)
    assert [x.words for x in s] == [["Empire", "State", "."], ["Hi"]]
    assert [x.tags for x in s] == [["B-location", "I-location", "O"], ["O"]]
    assert s[1].lines == [5]


@pytest.mark.parametrize("name, text, fmt, message", [
    ("bad.conll", "a\tO\nb\n", "auto", r"bad.conll:2: missing column"),
    ("bad.conllu", "1\tI\tI\n", "auto", r"bad.conllu:1: missing column"),
    ("long.conll", "x\tO\n\na\tO\nb\tO\nc\tO\n", "auto", r"long.conll:3: a sentence of 3 words is longer than --max-len 2"),
    ("x.conll", "a\tO\n", "json", r"unknown format 'json'"),
])
def test_reader_errors_name_file_and_line(tmp_path, name, text, fmt, message):
    with pytest.raises(RnnkitError, match=message):
        read_tagged(write(tmp_path, name, text), fmt, max_len=2)


def test_unknown_tag_at_evaluation_names_file_and_line(tmp_path):
    path = write(tmp_path, "test.conll", "a\tO\n\nb\tB-person\nc\tI-thing\n")
    with pytest.raises(RnnkitError, match=r"test.conll:4: unknown tag 'I-thing'; the model knows: B-person, O"):
        encode_tags(read_tagged(path), ["B-person", "O"], path)


def test_vocabularies_frequency_floor_and_batches():
    sentences = read_plain(["The cat sat", "the dog sat down", "A cat"])
    tagged = [type("S", (), {"words": s, "tags": ["X"] * len(s)}) for s in sentences]
    words, chars, tags = build_vocabs(tagged, min_freq=2, lowercase=True)
    assert words.tokens == ["<pad>", "<unk>", "cat", "sat", "the"] and tags == ["X"]
    data = Encoded(sentences, words, chars, lowercase=True, max_word=2)
    (w, lengths, ch, ch_lengths, slots, shapes), t = data.batch([0, 1])
    assert w.tolist() == [[4, 2, 3, 0], [4, 1, 3, 1]] and lengths.tolist() == [3, 4]
    distinct = ["Th", "ca", "sa", "th", "do"]  # each distinct (truncated, cased) word once
    assert ch.shape == (5, 2) and ch_lengths.tolist() == [2] * 5
    assert slots.tolist() == [[0, 1, 2, 0], [3, 4, 2, 4]]  # "dog" and "down" both read as "do"
    assert ch[3].tolist() == chars.encode(list(distinct[3]))
    capital, lower = SHAPES.index("Capital"), SHAPES.index("lower")
    assert shapes.tolist() == [[capital, lower, lower, 0], [lower] * 4]  # from the words as written, 0 pads


@pytest.mark.parametrize("lowercase", [True, False])
def test_case_augmentation_reads_chosen_sentences_in_lowercase(lowercase):
    sentences = read_plain(["Ariana Grande sings", "at Netflix HQ"])
    tagged = [type("S", (), {"words": s, "tags": ["X"] * len(s)}) for s in sentences]
    words, chars, _ = build_vocabs(tagged + [type("S", (), {"words": ["ariana"], "tags": ["X"]})], 1, lowercase)
    data = Encoded(sentences, words, chars, lowercase, max_word=20)
    (w, _, ch, _, slots, shapes), _ = data.read([0, 1], lowered=[1])
    spelled = ["".join(chars.tokens[c] for c in row if c) for row in ch.tolist()]
    assert [spelled[k] for k in slots[1].tolist()[:3]] == ["at", "netflix", "hq"]  # sentence 1 lowered
    assert [spelled[k] for k in slots[0].tolist()[:3]] == ["Ariana", "Grande", "sings"]  # sentence 0 as written
    assert shapes[1].tolist() == [SHAPES.index("lower")] * 3
    assert shapes[0, 0] == SHAPES.index("Capital")
    (w0, *_), _ = data.read([0], lowered=[0])
    assert w0[0, 0] == words.index["ariana"]  # the lowered word's id, cased vocabulary or not
    assert w0[0, 1] == (words.index["grande"] if lowercase else 1)  # "grande" unseen in a cased vocabulary


def bucketed(sentences, words, chars, batch_size, seed, case_augment=0.0):
    """The tag task's training batches: length buckets, each step's case augmentation from its generator."""
    data = Encoded(sentences, words, chars, True, 10, case_augment=case_augment)
    return ShuffledBatches(data, batch_size, seed, BucketSampler(data.lengths(), batch_size, seed), offset=AUGMENTATION)


def test_case_augment_draws_a_share_of_sentences_per_step_reproducibly():
    sentences = [["Word"] * 3 for _ in range(400)]
    words, chars, _ = build_vocabs([type("S", (), {"words": s, "tags": []}) for s in sentences], 1, True)
    lower = SHAPES.index("lower")
    share = lambda b, step: float((b.batch(step)[0].shapes[:, 0] == lower).float().mean())  # noqa: E731
    batches = bucketed(sentences, words, chars, 40, seed=1, case_augment=0.5)
    shares = [share(batches, step) for step in range(10)]
    assert 0.35 < sum(shares) / 10 < 0.65
    assert shares == [share(bucketed(sentences, words, chars, 40, seed=1, case_augment=0.5), step) for step in range(10)]
    assert share(bucketed(sentences, words, chars, 40, seed=1), 0) == 0.0  # off by default
    with pytest.raises(RnnkitError, match=r"--case-augment must be a finite number in \[0, 1\], got 1.5"):
        check_fields(TagDataConfig(case_augment=1.5))


@pytest.mark.parametrize("shape, words", [
    ("url", ["http://t.co/x", "https://a.b", "www.rnnkit.org", "ftp://x"]),
    ("mention", ["@user", "@Bob_2"]),
    ("hashtag", ["#tag", "#NLP2017"]),
    ("number", ["3", "3.5", "12:30", "1/2", "2017-06-01", "1,000"]),
    ("digits", ["4th", "mp3", "B2B", "3.", "-5", "$5"]),
    ("lower", ["cat", "don't", "e-mail", "café"]),
    ("Capital", ["London", "I", "Mr.", "'Neill", "Élodie"]),
    ("ALLCAPS", ["USA", "AT&T", "U.S."]),
    ("miXed", ["iPhone", "McDonald", "eBay"]),
    ("punct", [".", "!!", ":-)", "@", "#", "\U0001F600"]),
    ("other", ["日本", "中"]),
])
def test_word_shapes(shape, words):
    assert [SHAPES[word_shape(w)] for w in words] == [shape] * len(words)


def test_bucketed_batches_cover_each_epoch_once_with_similar_lengths():
    rng = random.Random(0)
    sentences = [["w"] * rng.randint(1, 60) for _ in range(500)]
    words, chars, _ = build_vocabs([type("S", (), {"words": s, "tags": []}) for s in sentences], 1, True)
    batches = bucketed(sentences, words, chars, 8, seed=3)
    seen, padding = [], 0
    for step in range(batches.steps_per_epoch):
        (w, lengths, *_), _, _ = batches.batch(step)
        padding += int(w.numel() - lengths.sum())
        seen.append(len(lengths))
    assert sum(seen) == 500
    assert padding < 0.1 * sum(len(s) for s in sentences)  # sorted pools: little padding
    again = bucketed(sentences, words, chars, 8, seed=3)
    assert torch.equal(again.batch(17)[0][0], batches.batch(17)[0][0])  # a pure function of the step


def test_entities_follow_conlleval():
    assert entities(["B-a", "I-a", "O", "I-b", "I-b", "B-b", "I-a"]) == {("a", 0, 1), ("b", 3, 4), ("b", 5, 5), ("a", 6, 6)}
    s = entity_scores([["B-a", "I-a", "O", "B-b"]], [["B-a", "I-a", "O", "B-a"]])
    assert s["overall"]["precision"] == 0.5 and s["overall"]["recall"] == 0.5
    assert s["per_type"]["b"]["recall"] == 0.0 and s["per_type"]["b"]["support"] == 1
    # the span of "b" was found with the wrong type: a hit for the spans, a b -> a cell of the confusion
    assert s["spans"]["precision"] == s["spans"]["recall"] == 1.0
    assert s["confusion"] == {"a": {"a": 1}, "b": {"a": 1}}


def test_token_accuracy_and_most_frequent_tag_baseline():
    tag = most_frequent_tag([["a", "b", "a"], ["a"]], [["X", "Y", "X"], ["Y"]])
    assert tag(["a", "b", "zzz"]) == ["X", "Y", "X"]
    s = token_accuracy([["X", "Y"]], [["X", "X"]], [[False, True]])
    assert s["accuracy"] == 0.5 and s["unseen_accuracy"] == 0.0 and s["unseen_tokens"] == 1


WNUT = SHARED_DATA / "wnut17"


@pytest.mark.skipif(not WNUT.exists(), reason=f"WNUT-17 not found at {WNUT}")
@pytest.mark.parametrize("name", ["emerging.dev.conll", "emerging.test.annotated"])
def test_entity_scores_equal_seqeval_on_wnut17_gold(name):
    seqeval = pytest.importorskip("seqeval.metrics", reason="seqeval is a test dependency (pip install -e .[dev])")
    gold = [s.tags for s in read_tagged(WNUT / name, "conll")]
    types = sorted({t[2:] for g in gold for t in g if t != "O"})
    rng = random.Random(name)
    # predictions: the gold tags with a third of the tokens replaced by a random tag (illegal I- starts included)
    predicted = [[rng.choice(["O", *(f"{p}-{t}" for p in "BI" for t in types)]) if rng.random() < 0.3 else t for t in g]
                 for g in gold]
    ours = entity_scores(gold, predicted)
    for key, fn in (("precision", seqeval.precision_score), ("recall", seqeval.recall_score), ("f1", seqeval.f1_score)):
        assert ours["overall"][key] == pytest.approx(fn(gold, predicted), abs=1e-12)
    report = seqeval.classification_report(gold, predicted, output_dict=True, zero_division=0)
    for t in types:
        for key, theirs in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score"), ("support", "support")):
            assert ours["per_type"][t][key] == pytest.approx(report[t][theirs], abs=1e-12)
    for t in types:  # the confusion's diagonal holds the typed hits; all its cells, the span hits
        assert ours["confusion"].get(t, {}).get(t, 0) == round(ours["per_type"][t]["recall"] * ours["per_type"][t]["support"])
    found = sum(n for row in ours["confusion"].values() for n in row.values())
    assert found == round(ours["spans"]["recall"] * ours["overall"]["support"]) > ours["overall"]["recall"] * len(gold)
    assert entity_scores(gold, gold)["overall"]["f1"] == 1.0
