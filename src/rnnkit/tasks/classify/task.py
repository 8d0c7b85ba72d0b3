"""The text-classification task (many-to-one): read labelled texts, tokenise, train a classifier with
early stopping on a validation split, report accuracy and the confusion matrix, reload, predict.

A checkpoint's ``config.json`` holds everything needed to reuse it: the configs, the token vocabulary,
the class labels and the training class counts (for the majority-class baseline).
"""

from __future__ import annotations

from dataclasses import asdict

import torch

from rnnkit.data.batching import pad_sequences
from rnnkit.data.text import TokenVocab, encode_labels, read_labelled, sort_labels, tokenize
from rnnkit.errors import RnnkitError
from rnnkit.models.classifier import build_classifier, class_probabilities, classification_loss
from rnnkit.models.configs import ClassifierConfig
from rnnkit.schema import check_fields
from rnnkit.tasks.configs import ClassifyDataConfig
from rnnkit.tasks.supervised import EpochSampler, make_train_config, split_indices
from rnnkit.train.checkpoint import load_checkpoint, load_weights, run_folder, saved_config, saved_vocab
from rnnkit.train.files import lock_run
from rnnkit.train.memory import ACTIVATION_FLOATS_PER_UNIT, build_within_memory
from rnnkit.train.trainer import Trainer, resolve_device
from rnnkit.runtime import set_threads

TASK = "classify"


class Encoded:
    """Token ids of each text and its class id: ``batch(indices) -> ((ids (b, T), lengths (b,)), labels (b,))``."""

    def __init__(self, texts: list[str], vocab: TokenVocab, tokens: str, max_len: int = 0,
                 labels: list[int] | None = None):
        self.ids = [vocab.encode(tokenize(t, tokens)[: max_len or None]) for t in texts]
        self.labels = torch.tensor(labels if labels is not None else [0] * len(texts), dtype=torch.long)

    def __len__(self) -> int:
        return len(self.ids)

    def batch(self, indices) -> tuple[tuple[torch.Tensor, torch.Tensor], torch.Tensor]:
        ids, lengths = pad_sequences([self.ids[i] for i in indices])  # (b, T), 0 = padding; (b,)
        return (ids, lengths), self.labels[torch.as_tensor(indices, dtype=torch.long)]


class ShuffledBatches:
    """The trainer's data: a shuffled pass over the training texts per epoch, a pure function of the step."""

    stateful = False

    def __init__(self, data: Encoded, batch_size: int, seed: int):
        self.data, self.sampler = data, EpochSampler(len(data), batch_size, seed)

    def batch(self, step: int):
        inputs, labels = self.data.batch(self.sampler.indices(step).tolist())
        return inputs, labels, True


@torch.no_grad()
def predict_logits(model, data: Encoded, batch_size: int = 256) -> torch.Tensor:
    """Logits for every text, in order: ``(N,)`` for a binary head, else ``(N, C)``."""
    model.eval()
    device = next(model.parameters()).device
    order = sorted(range(len(data)), key=lambda i: len(data.ids[i]))  # similar lengths together: less padding
    out = [None] * len(data)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        (ids, lengths), _ = data.batch(chunk)
        logits, _, _ = model((ids.to(device), lengths.to(device)))
        for i, row in zip(chunk, logits.float().cpu()):
            out[i] = row
    return torch.stack(out)


def scores(logits: torch.Tensor, labels: torch.Tensor, num_classes: int) -> dict:
    """Loss, accuracy and the confusion matrix (rows: true class, columns: predicted class)."""
    predicted = class_probabilities(logits).argmax(1)
    confusion = torch.zeros(num_classes, num_classes, dtype=torch.long)
    confusion.index_put_((labels, predicted), torch.ones_like(labels), accumulate=True)
    return {"loss": float(classification_loss(logits, labels)), "accuracy": float((predicted == labels).float().mean()),
            "confusion": confusion.tolist()}


def format_confusion(classes: list[str], confusion: list[list[int]]) -> str:
    width = max(8, *(len(c) + 1 for c in classes))
    head = "true \\ predicted".ljust(width + 8) + "".join(c[:width].rjust(width) for c in classes)
    rows = [c[:width + 7].ljust(width + 8) + "".join(str(n).rjust(width) for n in row) for c, row in zip(classes, confusion)]
    return "\n".join([head, *rows])


def check_data_config(d: ClassifyDataConfig) -> None:
    if d.train is None:
        raise RnnkitError("--train FILE is required: a TSV/CSV file with a header, a text column and a label column")
    check_fields(d)


def train_classifier(model_config: ClassifierConfig, data_config: ClassifyDataConfig, flags, log=print) -> dict:
    """Train as configured; returns the run's summary with the best checkpoint's validation scores."""
    d, m = data_config, model_config
    check_data_config(d)
    torch.manual_seed(flags.seed)
    set_threads(flags.threads)  # 0: torch's default
    texts, labels = read_labelled(d.train, d.text_column, d.label_column)
    if d.val is not None:
        val_texts, val_labels = read_labelled(d.val, d.text_column, d.label_column)
        where = d.val
    else:
        keep, held = split_indices(len(texts), d.val_fraction, flags.seed)
        val_texts, val_labels = [texts[i] for i in held], [labels[i] for i in held]
        texts, labels = [texts[i] for i in keep], [labels[i] for i in keep]
        where = f"the validation split of {d.train}"
    run_dir = run_folder(flags.out, "classify", flags.resume, create=False)  # made once the inputs are known good
    if flags.resume:
        _, saved = load_checkpoint(run_dir / "checkpoint")
        vocab, classes = TokenVocab(saved["vocab"]), saved["classes"]
    else:
        vocab = TokenVocab.build([tokenize(t, d.tokens) for t in texts], d.min_freq, d.max_vocab)
        classes = sort_labels(labels)
    train = Encoded(texts, vocab, d.tokens, d.max_len, encode_labels(labels, classes, d.train))
    val = Encoded(val_texts, vocab, d.tokens, d.max_len, encode_labels(val_labels, classes, where))
    data = ShuffledBatches(train, flags.batch_size, flags.seed)
    config = make_train_config(flags, data.sampler.steps_per_epoch, d.epochs)
    model = build_within_memory(lambda: build_classifier(len(vocab), len(classes), m), resolve_device(flags.device),
                                activations=ACTIVATION_FLOATS_PER_UNIT * flags.batch_size * (d.max_len or 200) * m.hidden
                                * m.layers * (2 if m.bidirectional else 1))
    counts = torch.bincount(train.labels, minlength=len(classes)).tolist()
    meta = {"task": TASK, "configs": {"model": asdict(m), "data": asdict(d), "train": asdict(flags)},
            "vocab": vocab.tokens, "classes": classes, "class_counts": counts}

    def evaluate(model):
        s = scores(predict_logits(model, val), val.labels, len(classes))
        return {"val_loss": s["loss"], "val_accuracy": s["accuracy"]}

    lock_run(run_dir)  # makes the folder (one line if it cannot) and refuses a second run on it
    trainer = Trainer(model, config, data, evaluate, run_dir, meta)
    if flags.resume:
        trainer.resume()
        log(f"resuming {run_dir} at step {trainer.step}")
    log(f"data: {len(train):,} training and {len(val):,} validation texts, {len(classes)} classes, "
        f"{d.tokens} vocabulary {len(vocab):,}; {data.sampler.steps_per_epoch} steps per epoch")
    log(f"model: {m.model}, {sum(p.numel() for p in model.parameters()):,} parameters, device {trainer.device}")
    summary = trainer.fit()
    best, _ = load_checkpoint(run_dir / "best")
    load_weights(trainer.model, best, run_dir / "best")
    s = scores(predict_logits(trainer.model, val), val.labels, len(classes))
    summary.update(run_dir=str(run_dir), val_accuracy=s["accuracy"], confusion=s["confusion"], classes=classes)
    log(f"done ({summary['stopped']}) at step {summary['step']} after {summary['elapsed']:.0f} s; best checkpoint: "
        f"validation loss {s['loss']:.4f}, accuracy {s['accuracy']:.2%}\n{format_confusion(classes, s['confusion'])}")
    return summary


def load_classifier(path, device: str = "cpu"):
    """``(model, vocab, classes, meta)`` from a checkpoint or run folder, the model in eval mode."""
    weights, meta = load_checkpoint(path, task=TASK, what="a text classifier")
    model_config = saved_config(ClassifierConfig, meta, "configs", "model", where=path)
    saved_config(ClassifyDataConfig, meta, "configs", "data", where=path)
    vocab, classes = TokenVocab(saved_vocab(meta, "vocab", path)), saved_vocab(meta, "classes", path)
    model = build_within_memory(lambda: build_classifier(len(vocab), len(classes), model_config), "cpu", training=False)
    load_weights(model, weights, path)
    return model.to(resolve_device(device)).eval(), vocab, classes, meta


def evaluate_file(path, data_file, device: str = "cpu") -> dict:
    """Scores of a trained classifier on a labelled file, beside the majority-class baseline."""
    model, vocab, classes, meta = load_classifier(path, device)
    d = meta["configs"]["data"]
    texts, labels = read_labelled(data_file, d["text_column"], d["label_column"])
    data = Encoded(texts, vocab, d["tokens"], d["max_len"], encode_labels(labels, classes, data_file))
    s = scores(predict_logits(model, data), data.labels, len(classes))
    majority = max(range(len(classes)), key=lambda c: meta["class_counts"][c])
    s.update(examples=len(data), classes=classes, majority_class=classes[majority],
             majority_accuracy=float((data.labels == majority).float().mean()))
    return s


def predict_texts(path, texts: list[str], device: str = "cpu") -> list[tuple[str, float]]:
    """The most probable label of each text and its probability."""
    model, vocab, classes, meta = load_classifier(path, device)
    d = meta["configs"]["data"]
    probs = class_probabilities(predict_logits(model, Encoded(texts, vocab, d["tokens"], d["max_len"])))
    best = probs.argmax(1)
    return [(classes[int(c)], float(p[c])) for c, p in zip(best, probs)]
