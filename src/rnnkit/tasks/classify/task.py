"""The text-classification task (many-to-one), declared: labelled texts -> a classifier with early
stopping on a validation split -> accuracy and the confusion matrix.

A checkpoint's ``config.json`` holds everything needed to reuse it: the configs, the token vocabulary,
the class labels and the training class counts (for the majority-class baseline).
"""

from __future__ import annotations

from rnnkit.errors import RnnkitError
from rnnkit.models.classifier_config import ClassifierConfig
from rnnkit.tasks.classify.config import PRESETS, ClassifyDataConfig, ClassifyTrainFlags
from rnnkit.tasks.spec import Prepared, Task, score_validation_file


def check(configs) -> None:
    if configs["data"].train is None:
        raise RnnkitError("--train FILE is required: a TSV/CSV file with a header, a text column and a label column")


def vocabularies(meta: dict, where) -> dict:
    from rnnkit.data.text import TokenVocab
    from rnnkit.train.checkpoint import saved_vocab

    from rnnkit.errors import RnnkitError

    classes = saved_vocab(meta, "classes", where)
    counts = meta.get("class_counts")
    if not (isinstance(counts, list) and len(counts) == len(classes)
            and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in counts)):
        raise RnnkitError(f"corrupt checkpoint {where}: class_counts must be a list of {len(classes)} counts >= 0, "
                          "one per class")
    return {"vocab": TokenVocab(saved_vocab(meta, "vocab", where)), "classes": classes, "class_counts": counts}


def prepare(configs, saved, log) -> Prepared:
    import torch

    from rnnkit.data.text import TokenVocab, encode_labels, read_labelled, sort_labels, tokenize
    from rnnkit.tasks.batches import ShuffledBatches, split_indices
    from rnnkit.tasks.classify.data import Encoded, predict_logits, scores
    from rnnkit.tasks.report import format_confusion
    from rnnkit.train.memory import ACTIVATION_FLOATS_PER_UNIT

    d, m, flags = configs["data"], configs["model"], configs["train"]
    texts, labels = read_labelled(d.train, d.text_column, d.label_column)
    if d.val is not None:
        val_texts, val_labels = read_labelled(d.val, d.text_column, d.label_column)
        where = d.val
    else:
        keep, held = split_indices(len(texts), d.val_fraction, flags.seed)
        val_texts, val_labels = [texts[i] for i in held], [labels[i] for i in held]
        texts, labels = [texts[i] for i in keep], [labels[i] for i in keep]
        where = f"the validation split of {d.train}"
    if saved is not None:
        vocab, classes = TokenVocab(saved["vocab"]), saved["classes"]
    else:
        vocab = TokenVocab.build([tokenize(t, d.tokens) for t in texts], d.min_freq, d.max_vocab)
        classes = sort_labels(labels)
    train = Encoded(texts, vocab, d.tokens, d.max_len, encode_labels(labels, classes, d.train))
    val = Encoded(val_texts, vocab, d.tokens, d.max_len, encode_labels(val_labels, classes, where))
    batches = ShuffledBatches(train, flags.batch_size, flags.seed)
    counts = torch.bincount(train.labels, minlength=len(classes)).tolist()

    def evaluate(model):
        s = scores(predict_logits(model, val), val.labels, len(classes))
        return {"val_loss": s["loss"], "val_accuracy": s["accuracy"]}

    def report(model, summary):
        s = scores(predict_logits(model, val), val.labels, len(classes))
        summary.update(val_accuracy=s["accuracy"], confusion=s["confusion"], classes=classes)
        return (f"done ({summary['stopped']}) at step {summary['step']} after {summary['elapsed']:.0f} s; best "
                f"checkpoint: validation loss {s['loss']:.4f}, accuracy {s['accuracy']:.2%}\n"
                f"{format_confusion(classes, s['confusion'])}")

    return Prepared(
        batches=batches, steps_per_epoch=batches.steps_per_epoch, vocabs={"vocab": vocab, "classes": classes},
        meta={"vocab": vocab.tokens, "classes": classes, "class_counts": counts}, evaluate=evaluate, report=report,
        lines=[f"data: {len(train):,} training and {len(val):,} validation texts, {len(classes)} classes, "
               f"{d.tokens} vocabulary {len(vocab):,}; {batches.steps_per_epoch} steps per epoch"],
        activations=ACTIVATION_FLOATS_PER_UNIT * flags.batch_size * (d.max_len or 200) * m.rnn.hidden * m.rnn.layers
        * (2 if m.rnn.bidirectional else 1))


def build(configs, vocabs):
    from rnnkit.models.classifier import build_classifier

    return build_classifier(len(vocabs["vocab"]), len(vocabs["classes"]), configs["model"])


def describe(model, configs, device) -> str:
    from rnnkit.tasks.report import model_size

    return f"model: {configs['model'].model}, {model_size(model):,} parameters, device {device}"


def eval_arguments(parser) -> None:
    parser.add_argument("--data", required=True, help="TSV/CSV file with the same columns as the training file")


def evaluate(loaded, args) -> dict:
    """Scores of a trained classifier on a labelled file, beside the majority-class baseline."""
    from rnnkit.data.text import encode_labels, read_labelled
    from rnnkit.tasks.classify.data import Encoded, predict_logits, scores
    from rnnkit.tasks.report import format_confusion

    vocab, classes, meta = loaded.vocabs["vocab"], loaded.vocabs["classes"], loaded.meta
    d = loaded.configs["data"]
    texts, labels = read_labelled(args.data, d.text_column, d.label_column)
    data = Encoded(texts, vocab, d.tokens, d.max_len, encode_labels(labels, classes, args.data))
    s = scores(predict_logits(loaded.model, data), data.labels, len(classes))
    majority = max(range(len(classes)), key=lambda c: loaded.vocabs["class_counts"][c])
    s.update(examples=len(data), classes=classes, majority_class=classes[majority],
             majority_accuracy=float((data.labels == majority).float().mean()))
    print(f"{args.data}: {s['examples']:,} examples, accuracy {s['accuracy']:.2%}, loss {s['loss']:.4f} "
          f"(majority class {s['majority_class']!r}: {s['majority_accuracy']:.2%})")
    print(format_confusion(s["classes"], s["confusion"]))
    return {"data": args.data, **s}


TASK = Task(
    name="classify", help="many-to-one text classification (sentiment, author, ...)",
    description="Train a sequence classifier: tokens -> embedding -> RNN -> pooling -> dense. --preset course is the "
    "course's Keras recipe (Embedding(50), LSTM(64), Dense(256), ReLU, Dropout(0.5), Dense(1), sigmoid; RMSprop; "
    "early stopping on a 20% validation split).",
    configs={"data": ClassifyDataConfig, "model": ClassifierConfig, "train": ClassifyTrainFlags},
    presets=PRESETS, preset_help="start from a named recipe (course); flags given override it",
    check=check, prepare=prepare, vocabularies=vocabularies, build=build, describe=describe,
    eval_arguments=eval_arguments, evaluate=evaluate, hint=score_validation_file,
    eval_help="accuracy and confusion matrix of a trained classifier on a labelled file",
    verbs="rnnkit.tasks.classify.cli", what="a text classifier")
