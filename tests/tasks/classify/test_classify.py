"""Text classification: tokenisers, file reading, pooling over padded batches, learning a rule that
needs word order (which the bag-of-words baseline cannot learn), and the author-attribution data."""

import random

import pytest
import torch

from conftest import SHARED_DATA, fit_batches
from rnnkit.data.text import TokenVocab, encode_labels, read_labelled, sort_labels, tokenize
from rnnkit.errors import RnnkitError
from rnnkit.layers.config import RNNConfig
from rnnkit.models.classifier_config import ClassifierConfig
from rnnkit.models.classifier import SequenceClassifier, build_classifier, pool
from rnnkit.tasks.classify.authors import author_splits, speeches
from rnnkit.tasks.batches import ShuffledBatches
from rnnkit.tasks.classify.data import Encoded, predict_logits, scores


pytestmark = pytest.mark.usefixtures("one_thread")


def test_tokenizers_and_vocab():
    assert tokenize("It 's a GOOD film, don't miss it!", "word") == ["it", "'s", "a", "good", "film", ",", "don't",
                                                                       "miss", "it", "!"]
    assert tokenize("Ab c", "char") == ["A", "b", " ", "c"]
    vocab = TokenVocab.build([["b", "a", "b"], ["c", "b", "a"], ["d"]], min_freq=2)
    assert vocab.tokens == ["<pad>", "<unk>", "b", "a"]
    assert vocab.encode(["a", "zzz", "b"]) == [3, 1, 2] and vocab.encode([]) == [1]
    assert TokenVocab.build([["a", "b", "b", "c"]], max_size=3).tokens == ["<pad>", "<unk>", "b"]
    assert sort_labels(["10", "2", "1"]) == ["1", "2", "10"] and sort_labels(["pos", "neg"]) == ["neg", "pos"]
    with pytest.raises(RnnkitError, match=r"label\(s\) not seen in training: 'maybe'; the model knows: 'neg', 'pos'"):
        encode_labels(["pos", "maybe"], ["neg", "pos"], "dev.tsv")


def test_read_tsv_and_csv(tmp_path):
    tsv = tmp_path / "a.tsv"
    tsv.write_text('sentence\tlabel\nsay "hi" , friend \t1\n\nbad \t0\n')
    assert read_labelled(tsv) == (['say "hi" , friend', "bad"], ["1", "0"])
    csv_file = tmp_path / "b.csv"
    csv_file.write_text('label,text,id\nspam,"win, now",1\nham,hello,2\n')
    assert read_labelled(csv_file) == (["win, now", "hello"], ["spam", "ham"])
    assert read_labelled(csv_file, label_column="id")[1] == ["1", "2"]
    only_text = tmp_path / "c.tsv"
    only_text.write_text("text\nhello\n")
    assert read_labelled(only_text, need_labels=False) == (["hello"], None)
    with pytest.raises(RnnkitError, match="has no label column"):
        read_labelled(only_text)
    with pytest.raises(RnnkitError, match="no text column 'review'; its columns are: label, text, id"):
        read_labelled(csv_file, text_column="review")


def test_pooling_ignores_padding():
    """Each row gives the same logits alone as in a padded batch, for every pooling and direction."""
    torch.manual_seed(0)
    for pooling in ("last", "mean", "max"):
        for bidirectional in (False, True):
            config = ClassifierConfig(embedding=8, rnn=RNNConfig(hidden=6, layers=2, bidirectional=bidirectional), pooling=pooling)
            model = SequenceClassifier(20, 3, config).eval()
            rows = [[3, 4, 5, 6, 7], [8, 9], [2]]
            data = Encoded(["x"] * 3, TokenVocab(["<pad>", "<unk>"]), "word")
            data.ids = rows
            batched = predict_logits(model, data, batch_size=3)
            alone = predict_logits(model, data, batch_size=1)
            assert torch.allclose(batched, alone, atol=1e-5), (pooling, bidirectional)


def test_last_pooling_is_each_directions_final_state():
    outputs = torch.arange(2 * 4 * 4, dtype=torch.float).view(2, 4, 4)  # (B, T, 2H), H = 2
    lengths = torch.tensor([4, 2])
    last = pool(outputs, lengths, "last", bidirectional=True)
    assert torch.equal(last[1], torch.cat([outputs[1, 1, :2], outputs[1, 0, 2:]]))
    assert torch.equal(pool(outputs, lengths, "max", False)[1], outputs[1, 1])
    assert torch.equal(pool(outputs, lengths, "mean", False)[1], outputs[1, :2].mean(0))


def order_rule(n, seed):
    """Texts of filler words with one 'a' and one 'b': the label is whether 'a' comes first. A bag of
    words sees the same tokens in both classes, so only a model of order can learn it."""
    r = random.Random(seed)
    texts, labels = [], []
    for _ in range(n):
        words = [r.choice("cdefgh") for _ in range(r.randint(2, 8))]
        i, j = sorted(r.sample(range(len(words) + 2), 2))
        first, second = ("a", "b") if r.random() < 0.5 else ("b", "a")
        words.insert(i, first)
        words.insert(j, second)
        texts.append(" ".join(words))
        labels.append("a-first" if first == "a" else "b-first")
    return texts, labels


def fit(model, train, steps, lr=0.01):
    return fit_batches(model, ShuffledBatches(train, 32, seed=0), steps, lr)


@pytest.mark.slow
def test_rnn_learns_word_order_and_bag_of_words_cannot():
    torch.manual_seed(0)
    texts, labels = order_rule(800, seed=1)
    vocab = TokenVocab.build([tokenize(t, "word") for t in texts])
    classes = sort_labels(labels)
    train = Encoded(texts[:600], vocab, "word", labels=encode_labels(labels[:600], classes, "train"))
    test = Encoded(texts[600:], vocab, "word", labels=encode_labels(labels[600:], classes, "test"))
    rnn = fit(build_classifier(len(vocab), 2, ClassifierConfig(embedding=16, rnn=RNNConfig(hidden=32, cell="gru"))), train, 250)
    bow = fit(build_classifier(len(vocab), 2, ClassifierConfig(model="bow")), train, 250)
    assert scores(predict_logits(rnn, test), test.labels, 2)["accuracy"] > 0.95
    assert scores(predict_logits(bow, test), test.labels, 2)["accuracy"] < 0.7


@pytest.mark.slow
def test_multiclass_softmax_head_learns():
    """Three classes: softmax and cross-entropy; the class is the last word's group."""
    torch.manual_seed(0)
    r = random.Random(2)
    groups = {"x": "one", "y": "two", "z": "three"}
    texts = [" ".join(r.choice("pqrs") for _ in range(r.randint(1, 6))) + " " + r.choice("xyz") for _ in range(500)]
    labels = [groups[t[-1]] for t in texts]
    vocab = TokenVocab.build([tokenize(t, "word") for t in texts])
    classes = sort_labels(labels)
    data = Encoded(texts, vocab, "word", labels=encode_labels(labels, classes, "train"))
    model = fit(build_classifier(len(vocab), 3, ClassifierConfig(embedding=8, rnn=RNNConfig(hidden=16))), data, 150)
    logits = predict_logits(model, data)
    assert logits.shape == (500, 3)
    s = scores(logits, data.labels, 3)
    assert s["accuracy"] > 0.95 and sum(map(sum, s["confusion"])) == 500


PLAY = """First Citizen:
Before we proceed any further, hear me speak.

All:
Speak, speak.

First Citizen:
You are all resolved rather to die than to famish?
Is't a verdict?

MENENIUS:
Why, masters, my good friends.

First Citizen:
We are accounted poor citizens.
"""


def test_speeches_and_top_speakers():
    found = speeches(PLAY)
    assert [s for s, _ in found] == ["First Citizen", "All", "First Citizen", "MENENIUS", "First Citizen"]
    assert found[2][1] == ["You are all resolved rather to die than to famish?", "Is't a verdict?"]
    splits, counts = author_splits(PLAY * 10, top=2, seed=0)
    assert counts == {"First Citizen": 40, "All": 10}  # 4 lines and 1 line per copy
    rows = [r for part in splits.values() for r in part]
    assert len(rows) == 50 and {s for _, s in rows} == {"First Citizen", "All"}


@pytest.mark.skipif(not (SHARED_DATA / "tinyshakespeare").exists(), reason="needs ../shared/data/tinyshakespeare")
@pytest.mark.slow
def test_tinyshakespeare_speakers():
    splits, counts = author_splits((SHARED_DATA / "tinyshakespeare" / "input.txt").read_text(), top=5, seed=0)
    assert list(counts)[:2] == ["GLOUCESTER", "DUKE VINCENTIO"] or len(counts) == 5
    sizes = {k: len(v) for k, v in splits.items()}
    assert sizes["train"] > 6 * sizes["test"] > 0 and sum(sizes.values()) == sum(counts.values())
