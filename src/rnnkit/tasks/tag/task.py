"""The tagging task (many-to-many, one tag per word), declared: tagged sentences -> a ``Tagger`` with
early stopping on a validation set -> token accuracy (and entity P/R/F1 for BIO tags). ``eval`` (and
``predict``) take ``--checkpoint`` more than once: an ensemble.

A checkpoint's ``config.json`` holds the configs, the word and character vocabularies, the tag list and the
word-shape classes (``rnnkit.tasks.tag.shape.SHAPES``) the shape embedding was trained with.
"""

from __future__ import annotations

from rnnkit.errors import RnnkitError
from rnnkit.models.tagger_config import TaggerConfig
from rnnkit.tasks.spec import Prepared, Task, score_validation_file
from rnnkit.tasks.tag.config import PRESETS, TagDataConfig, TagTrainFlags

ENSEMBLE_HELP = ("run folder or checkpoint folder; given again (--checkpoint A --checkpoint B, same tags): their "
                 "ensemble, the models' scores averaged before decoding")


def check(configs) -> None:
    d, m = configs["data"], configs["model"]
    if d.train is None:
        raise RnnkitError("--train FILE is required: CoNLL-U (.conllu) or two-column CoNLL (token<TAB>tag)")
    if m.lm_weight > 0 and m.rnn.layers != 1:
        raise RnnkitError(f"--lm-weight needs --layers 1 (got {m.rnn.layers}): with a second layer the forward "
                          "states have already read the word they would predict; use --lm-weight 0")


def vocabularies(meta: dict, where) -> dict:
    from rnnkit.data.text import TokenVocab
    from rnnkit.tasks.tag.shape import SHAPES
    from rnnkit.train.checkpoint import saved_vocab

    if meta["configs"]["model"].get("shape") and saved_vocab(meta, "shapes", where) != list(SHAPES):
        raise RnnkitError(f"checkpoint {where} was trained with other word-shape classes than this rnnkit's "
                          f"({', '.join(SHAPES[1:])}); retrain it")
    return {"words": TokenVocab(saved_vocab(meta, "words", where)), "chars": TokenVocab(saved_vocab(meta, "chars", where)),
            "tags": saved_vocab(meta, "tags", where)}


def prepare(configs, saved, log) -> Prepared:
    from rnnkit.models.crf import is_bio
    from rnnkit.tasks.batches import AUGMENTATION, ShuffledBatches, split_indices
    from rnnkit.tasks.tag.data import BucketSampler, build_vocabs, read_tagged
    from rnnkit.tasks.tag.predict import encoded, scores
    from rnnkit.tasks.tag.shape import SHAPES
    from rnnkit.train.memory import ACTIVATION_FLOATS_PER_UNIT

    d, m, flags = configs["data"], configs["model"], configs["train"]
    read = lambda path: read_tagged(path, d.format, d.tag_column, d.max_len)  # noqa: E731
    sentences = read(d.train)
    if d.val is not None:
        val_sentences, where = read(d.val), d.val
    else:
        keep, held = split_indices(len(sentences), d.val_fraction, flags.seed)
        val_sentences, where = [sentences[i] for i in held], f"the validation split of {d.train}"
        sentences = [sentences[i] for i in keep]
    if saved is not None:
        vocabs = vocabularies(saved, flags.out)
    else:
        words, chars, tags = build_vocabs(sentences, d.min_freq, d.lowercase)
        vocabs = {"words": words, "chars": chars, "tags": tags}
    words, chars, tags = vocabs["words"], vocabs["chars"], vocabs["tags"]
    train = encoded(sentences, vocabs, d, d.train, d.case_augment)
    val = encoded(val_sentences, vocabs, d, where)
    batches = ShuffledBatches(train, flags.batch_size, flags.seed, BucketSampler(train.lengths(), flags.batch_size,
                                                                                 flags.seed), offset=AUGMENTATION)
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

    def report(model, summary):
        s = scores([(model, val)], tags)
        summary.update(val_accuracy=s["accuracy"])
        f1 = f", entity F1 {s['entities']['overall']['f1']:.2%}" if "entities" in s else ""
        return (f"done ({summary['stopped']}) at step {summary['step']} after {summary['elapsed']:.0f} s; best "
                f"checkpoint: validation loss {s['loss']:.4f}, token accuracy {s['accuracy']:.2%}{f1}")

    longest = max(train.lengths())
    return Prepared(
        batches=batches, steps_per_epoch=batches.steps_per_epoch, vocabs=vocabs, evaluate=evaluate, report=report,
        meta={"words": words.tokens, "chars": chars.tokens, "tags": tags, "shapes": list(SHAPES)},
        lines=[f"data: {len(train):,} training and {len(val):,} validation sentences, {len(tags)} tags"
               f"{' (BIO)' if is_bio(tags) else ''}, {len(words):,} words, {len(chars):,} characters; "
               f"{batches.steps_per_epoch} steps per epoch"],
        activations=ACTIVATION_FLOATS_PER_UNIT * flags.batch_size * longest * m.rnn.hidden * m.rnn.layers * 2,
        selected={"loss": "", "f1": "1 - F1", "accuracy": "1 - accuracy"}[d.select])


def build(configs, vocabs):
    from rnnkit.models.tagger import Tagger
    from rnnkit.tasks.tag.shape import SHAPES

    return Tagger(len(vocabs["words"]), len(vocabs["chars"]), vocabs["tags"], configs["model"], len(SHAPES))


def describe(model, configs, device) -> str:
    from rnnkit.tasks.report import model_size

    m = configs["model"]
    return (f"model: {model_size(model):,} parameters, {m.rnn.cell} x{m.rnn.layers} bidirectional "
            f"({model.rnn.layers[0].engine_used} engine){', chars' if m.chars else ''}"
            f"{f', shape {m.shape}' if m.shape else ''}{', CRF' if m.crf else ''}, device {device}")


def eval_arguments(parser) -> None:
    parser.add_argument("--data", required=True, help="tagged file in the training file's format")
    parser.add_argument("--format", default=None, help="auto, conllu or conll (default: the training run's)")


def evaluate(runs, args) -> dict:
    """Scores of a trained tagger (or of the ensemble of several) on a tagged file; ``unseen``: words outside
    the (first) tagger's word vocabulary."""
    from rnnkit.models.crf import is_bio
    from rnnkit.tasks.tag.data import read_tagged
    from rnnkit.tasks.tag.metrics import format_entity_table
    from rnnkit.tasks.tag.predict import encoded, ensemble, scores

    runs = ensemble(runs)
    d = runs[0].configs["data"]
    sentences = read_tagged(args.data, args.format or d.format, d.tag_column, d.max_len)
    tags = runs[0].model.tags
    members = [(run.model, encoded(sentences, {**run.vocabs, "tags": tags}, run.configs["data"], args.data))
               for run in runs]
    unseen = [[w == 1 for w in row] for row in members[0][1].words]
    s = scores(members, tags, unseen)
    s.update(sentences=len(sentences), bio=is_bio(tags), models=len(runs))
    loss = f"loss {s['loss']:.4f}" if s["models"] == 1 else f"the {s['models']} models' mean loss {s['loss']:.4f}"
    print(f"{args.data}: {s['sentences']:,} sentences, {s['tokens']:,} tokens, token accuracy {s['accuracy']:.2%} "
          f"(words unseen in training: {s['unseen_accuracy']:.2%} of {s['unseen_tokens']:,}), {loss}")
    if s["bio"]:
        print(format_entity_table(s["entities"]))
    return {"data": args.data, **{k: v for k, v in s.items() if k != "predicted"}}


TASK = Task(
    name="tag", help="many-to-many sequence labelling: a tag per word (POS, named entities)",
    description="Train a tagger: word embedding [+ character BiLSTM] -> bidirectional RNN stack -> a tag per word "
    "(softmax, or a linear-chain CRF with --crf).",
    configs={"model": TaggerConfig, "data": TagDataConfig, "train": TagTrainFlags},
    presets=PRESETS, preset_help="start from a named recipe (pos, ner); flags given override it",
    check=check, prepare=prepare, vocabularies=vocabularies, build=build, describe=describe,
    eval_arguments=eval_arguments, evaluate=evaluate, hint=score_validation_file, ensemble=ENSEMBLE_HELP,
    eval_help="token accuracy (and entity P/R/F1 for BIO tags) of a tagger on a tagged file",
    verbs="rnnkit.tasks.tag.cli", what="a tagger")
