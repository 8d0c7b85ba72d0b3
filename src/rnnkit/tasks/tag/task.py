"""The tagging task: read tagged sentences, train a ``Tagger`` with early stopping on a validation set,
score it (token accuracy; entity P/R/F1 for BIO tags), reload it and tag new sentences.

A checkpoint's ``config.json`` holds the configs, the word and character vocabularies, the tag list and the
word-shape classes (``rnnkit.tasks.tag.shape.SHAPES``) the shape embedding was trained with.
"""

from __future__ import annotations

import os
from dataclasses import asdict

import torch

from rnnkit.data.text import TokenVocab
from rnnkit.errors import RnnkitError
from rnnkit.models.crf import is_bio
from rnnkit.models.tagger import Tagger, ensemble_decode
from rnnkit.schema import check_fields
from rnnkit.tasks.supervised import make_train_config, split_indices
from rnnkit.tasks.tag.config import TagDataConfig, TaggerConfig
from rnnkit.tasks.tag.data import BucketBatches, Encoded, build_vocabs, encode_tags, read_plain, read_tagged
from rnnkit.tasks.tag.metrics import entity_scores, token_accuracy
from rnnkit.tasks.tag.shape import SHAPES
from rnnkit.train.checkpoint import load_checkpoint, load_weights, run_folder, saved_config, saved_vocab
from rnnkit.train.trainer import Trainer, resolve_device
from rnnkit.runtime import set_threads

TASK = "tag"


@torch.no_grad()
def predict_ids(members: list[tuple[Tagger, Encoded]], batch_size: int = 256) -> tuple[list[list[int]], float]:
    """The tag ids of every sentence, in order, and the mean loss per token (0 if the data has no tags).

    ``members``: one ``(tagger, its encoding of the sentences)``, or several (an ensemble: each reads the same
    sentences through its own vocabularies; their scores are averaged, ``ensemble_decode``; the loss is the
    members' mean)."""
    for model, _ in members:
        model.eval()
    first, home = members[0][1], next(members[0][0].parameters()).device  # decoding runs on the first's device
    order = sorted(range(len(first)), key=lambda i: len(first.words[i]))  # similar lengths together
    out, total, tokens = [None] * len(first), 0.0, 0
    for lo in range(0, len(order), batch_size):
        chunk, emissions = order[lo : lo + batch_size], []
        for model, data in members:
            device = next(model.parameters()).device
            inputs, tags = data.batch(chunk)
            inputs = tuple(x.to(device) for x in inputs)
            e, loss, _ = model(inputs, tags.to(device))
            emissions.append(e.to(home))
            total += float(loss) * int(inputs[1].sum()) / len(members)
        lengths = inputs[1].to(home)
        tokens += int(lengths.sum())
        for i, row in zip(chunk, ensemble_decode([m for m, _ in members], emissions, lengths)):
            out[i] = row
    return out, total / max(tokens, 1)


def scores(members: list[tuple[Tagger, Encoded]], tags: list[str], unseen: list[list[bool]] | None = None) -> dict:
    """Loss, token accuracy (and on unseen words) and, for BIO tags, the entity scores."""
    predicted, loss = predict_ids(members)
    gold = [[tags[i] for i in row] for row in members[0][1].tags]
    named = [[tags[i] for i in row] for row in predicted]
    out = {"loss": loss, **token_accuracy(gold, named, unseen), "predicted": named}
    if is_bio(tags):
        out["entities"] = entity_scores(gold, named)
    return out


def check_data_config(d: TagDataConfig) -> None:
    if d.train is None:
        raise RnnkitError("--train FILE is required: CoNLL-U (.conllu) or two-column CoNLL (token<TAB>tag)")
    check_fields(d)


def encoded(sentences, words: TokenVocab, chars: TokenVocab, tags: list[str], d, path) -> Encoded:
    return Encoded([s.words for s in sentences], words, chars, d["lowercase"], d["max_word"],
                   encode_tags(sentences, tags, path))


def train_tagger(model_config: TaggerConfig, data_config: TagDataConfig, flags, log=print) -> dict:
    """Train as configured; returns the run's summary with the best checkpoint's validation scores."""
    d, m = data_config, model_config
    check_data_config(d)
    torch.manual_seed(flags.seed)
    set_threads(flags.threads)  # 0: torch's default
    read = lambda path: read_tagged(path, d.format, d.tag_column, d.max_len)  # noqa: E731
    sentences = read(d.train)
    if d.val is not None:
        val_sentences, where = read(d.val), d.val
    else:
        keep, held = split_indices(len(sentences), d.val_fraction, flags.seed)
        val_sentences, where = [sentences[i] for i in held], f"the validation split of {d.train}"
        sentences = [sentences[i] for i in keep]
    run_dir = run_folder(flags.out, TASK, flags.resume, create=False)  # the Trainer makes and locks it
    if flags.resume:
        _, saved = load_checkpoint(run_dir / "checkpoint")
        words, chars = TokenVocab(saved_vocab(saved, "words", run_dir)), TokenVocab(saved_vocab(saved, "chars", run_dir))
        tags = saved_vocab(saved, "tags", run_dir)
    else:
        words, chars, tags = build_vocabs(sentences, d.min_freq, d.lowercase)
    train = encoded(sentences, words, chars, tags, asdict(d), d.train)
    val = encoded(val_sentences, words, chars, tags, asdict(d), where)
    data = BucketBatches(train, flags.batch_size, flags.seed, d.case_augment)
    config = make_train_config(flags, data.steps_per_epoch, d.epochs)
    model = Tagger(len(words), len(chars), tags, m, len(SHAPES))
    meta = {"task": TASK, "configs": {"model": asdict(m), "data": asdict(d), "train": asdict(flags)},
            "words": words.tokens, "chars": chars.tokens, "tags": tags, "shapes": list(SHAPES)}

    if d.select == "f1" and not is_bio(tags):
        raise RnnkitError("--select f1 needs BIO tags (O, B-x, I-x); use --select loss for this tag set")

    def evaluate(model):
        s = scores([(model, val)], tags)
        out = {"val_loss": s["loss"], "val_accuracy": s["accuracy"]}
        if "entities" in s:
            out["val_f1"] = s["entities"]["overall"]["f1"]
        if d.select != "loss":  # the trainer follows "val_loss": here 1 - F1 or 1 - accuracy, the NLL kept as val_nll
            score = out["val_f1"] if d.select == "f1" else out["val_accuracy"]
            out["val_nll"], out["val_loss"] = out["val_loss"], 1.0 - score
        return out

    trainer = Trainer(model, config, data, evaluate, run_dir, meta)
    if flags.resume:
        trainer.resume()
        log(f"resuming {run_dir} at step {trainer.step}")
    log(f"data: {len(train):,} training and {len(val):,} validation sentences, {len(tags)} tags"
        f"{' (BIO)' if is_bio(tags) else ''}, {len(words):,} words, {len(chars):,} characters; "
        f"{data.steps_per_epoch} steps per epoch")
    log(f"model: {sum(p.numel() for p in model.parameters()):,} parameters, "
        f"{m.cell} x{m.layers} bidirectional ({model.rnn.layers[0].engine_used} engine)"
        f"{', chars' if m.chars else ''}{f', shape {m.shape}' if m.shape else ''}{', CRF' if m.crf else ''}, "
        f"device {trainer.device}")
    summary = trainer.fit()
    best, _ = load_checkpoint(run_dir / "best")
    load_weights(trainer.model, best, run_dir / "best")
    s = scores([(trainer.model, val)], tags)
    summary.update(run_dir=str(run_dir), val_accuracy=s["accuracy"])
    f1 = f", entity F1 {s['entities']['overall']['f1']:.2%}" if "entities" in s else ""
    log(f"done ({summary['stopped']}) at step {summary['step']} after {summary['elapsed']:.0f} s; best checkpoint: "
        f"validation loss {s['loss']:.4f}, token accuracy {s['accuracy']:.2%}{f1}")
    return summary


def load_tagger(path, device: str = "cpu"):
    """``(model, words, chars, meta)`` from a checkpoint or run folder, the model in eval mode."""
    weights, meta = load_checkpoint(path, task=TASK, what="a tagger")
    config = saved_config(TaggerConfig, meta, "configs", "model", where=path)
    saved_config(TagDataConfig, meta, "configs", "data", where=path)
    words, chars = TokenVocab(saved_vocab(meta, "words", path)), TokenVocab(saved_vocab(meta, "chars", path))
    tags = saved_vocab(meta, "tags", path)
    if config.shape and saved_vocab(meta, "shapes", path) != list(SHAPES):
        raise RnnkitError(f"checkpoint {path} was trained with other word-shape classes than this rnnkit's "
                          f"({', '.join(SHAPES[1:])}); retrain it")
    model = Tagger(len(words), len(chars), tags, config, len(SHAPES))
    load_weights(model, weights, path)
    return model.to(resolve_device(device)).eval(), words, chars, meta


def load_taggers(paths, device: str = "cpu") -> list:
    """``load_tagger`` of each path (or of one path): the members of an ensemble, which must share their tags."""
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    members = [load_tagger(p, device) for p in paths]
    for p, (model, *_) in zip(paths[1:], members[1:]):
        if model.tags != members[0][0].tags:
            raise RnnkitError(f"{p} tags {', '.join(model.tags)} but {paths[0]} tags {', '.join(members[0][0].tags)}: "
                              "an ensemble's taggers must be trained on the same tag set")
    return members


def evaluate_file(paths, data_file, device: str = "cpu", fmt: str | None = None) -> dict:
    """Scores of a trained tagger (or of the ensemble of several) on a tagged file; ``unseen``: words outside
    the (first) tagger's word vocabulary."""
    members = load_taggers(paths, device)
    d = members[0][3]["configs"]["data"]
    sentences = read_tagged(data_file, fmt or d["format"], d["tag_column"], d["max_len"])
    tags = members[0][0].tags
    encoded_by = [(model, encoded(sentences, words, chars, tags, meta["configs"]["data"], data_file))
                  for model, words, chars, meta in members]
    unseen = [[w == 1 for w in row] for row in encoded_by[0][1].words]
    s = scores(encoded_by, tags, unseen)
    s.update(sentences=len(sentences), bio=is_bio(tags), models=len(members))
    return s


def tag_sentences(paths, lines: list[str], device: str = "cpu") -> list[list[tuple[str, str]]]:
    """Tag whitespace-tokenised sentences (one per line) with a tagger or an ensemble: ``[[(word, tag), ...]]``."""
    members = load_taggers(paths, device)
    sentences = read_plain(lines, members[0][3]["configs"]["data"]["max_len"])
    if not sentences:
        raise RnnkitError("no sentence to tag: give sentences as arguments or one per line on stdin")
    encoded_by = [(model, Encoded(sentences, words, chars, meta["configs"]["data"]["lowercase"],
                                  meta["configs"]["data"]["max_word"])) for model, words, chars, meta in members]
    predicted, _ = predict_ids(encoded_by)
    tags = members[0][0].tags
    return [[(w, tags[t]) for w, t in zip(s, row)] for s, row in zip(sentences, predicted)]
