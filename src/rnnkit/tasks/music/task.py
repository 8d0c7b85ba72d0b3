"""The music task, declared: polyphonic pieces (music21's Bach chorales by default) as piano rolls -> a
next-frame model (an RNN with the course's sigmoid-per-pitch head, ``rnnkit.models.frame_model``)
trained with early stopping on the validation pieces -> the test pieces' NLL per frame beside the
frequency and repeat-previous-frame baselines (``scores.py``), as Chung et al. 2014 compare cells.

A run folder holds ``results.json`` (the test scores of the best checkpoint and the baselines') beside
the checkpoints; a checkpoint's ``config.json`` holds the configs, the pitch range and the split.
"""

from __future__ import annotations

from rnnkit.errors import RnnkitError
from rnnkit.models.frame_model_config import FrameModelConfig
from rnnkit.tasks.music.config import MusicDataConfig, MusicTrainFlags
from rnnkit.tasks.spec import Prepared, Task


def vocabularies(meta: dict, where) -> dict:
    """The pitch range (``low``, ``pitches``) and the split by piece stored in a checkpoint, checked."""
    low, pitches, split = meta.get("pitch_low"), meta.get("pitches"), meta.get("split")
    if not (isinstance(low, int) and isinstance(pitches, int) and 0 <= low and 1 <= pitches and low + pitches <= 128):
        raise RnnkitError(f"corrupt checkpoint {where}: pitch range {low!r} + {pitches!r} is not within MIDI's 0..127")
    if not (isinstance(split, dict) and all(isinstance(split.get(k), list)
                                            and all(isinstance(n, str) for n in split[k]) for k in ("train", "val", "test"))):
        raise RnnkitError(f"corrupt checkpoint {where}: config.json lacks the split (train, val, test piece names)")
    return {"low": low, "pitches": pitches, "split": split}


def split_sets(corpus, split: dict, low: int, pitches: int, where: str) -> dict:
    """``{"train": [rolls (T, P)], "val": ..., "test": ...}``: the named pieces of ``corpus``, cut to the range."""
    from rnnkit.tasks.music.data import cut

    by_name = dict(zip(corpus.names, corpus.rolls))
    missing = [n for names in split.values() for n in names if n not in by_name]
    if missing:
        raise RnnkitError(f"{len(missing)} piece(s) of {where} are not in the corpus read now (e.g. {missing[0]}); "
                          "the corpus changed since the run was trained")
    return {key: [cut(by_name[n], low, pitches)[0] for n in names] for key, names in split.items()}


def prepare(configs, saved, log) -> Prepared:
    import json
    from pathlib import Path

    from rnnkit.tasks.batches import AUGMENTATION, ShuffledBatches
    from rnnkit.tasks.music.data import Pieces, read_corpus, split_pieces
    from rnnkit.tasks.music.scores import baseline_scores, format_scores, model_scores
    from rnnkit.train.files import write_text
    from rnnkit.train.memory import ACTIVATION_FLOATS_PER_UNIT

    d, m, flags = configs["data"], configs["model"], configs["train"]
    corpus = read_corpus(d, log)
    if saved is not None:  # a resumed run keeps its range and split
        v = vocabularies(saved, "the run being resumed")
        low, pitches, split = v["low"], v["pitches"], v["split"]
    else:
        (low, pitches), split = corpus.pitch_range(), split_pieces(corpus.names)
    rolls = split_sets(corpus, split, low, pitches, "the run")
    train, val, test = Pieces(rolls["train"], d.transpose), Pieces(rolls["val"]), Pieces(rolls["test"])
    batches = ShuffledBatches(train, flags.batch_size, flags.seed, offset=AUGMENTATION)

    def evaluate(model):
        s = model_scores(model, val)
        return {"val_loss": s["nll"], "val_accuracy": s["accuracy"]}

    def report(model, summary):
        scores = {"model": model_scores(model, test), **baseline_scores(rolls["train"], rolls["test"])}
        summary.update(scores=scores)
        run = Path(summary["run_dir"])
        write_text(run / "results.json", json.dumps({"split": "test", "pieces": len(test), "scores": scores}, indent=2))
        return (f"done ({summary['stopped']}) at step {summary['step']} after {summary['elapsed']:.0f} s\n"
                f"{format_scores(scores, f'test ({len(test)} pieces, {test.frames} frames)')}\nwrote {run}/results.json")

    longest = max(len(r) for r in rolls["train"])
    return Prepared(
        batches=batches, steps_per_epoch=batches.steps_per_epoch,
        vocabs={"low": low, "pitches": pitches, "split": split},
        meta={"pitch_low": low, "pitches": pitches, "split": split, "skipped": corpus.skipped},
        evaluate=evaluate, report=report,
        lines=[f"corpus {d.corpus}: {len(train)} training, {len(val)} validation and {len(test)} test pieces "
               f"({train.frames}, {val.frames} and {test.frames} frames at {d.grid} per quarter note); pitches "
               f"{low}..{low + pitches - 1} (MIDI, {pitches}); {batches.steps_per_epoch} steps per epoch"],
        activations=ACTIVATION_FLOATS_PER_UNIT * flags.batch_size * longest * m.rnn.hidden * m.rnn.layers)


def build(configs, vocabs):
    from rnnkit.models.frame_model import FrameModel

    return FrameModel(vocabs["pitches"], configs["model"])


def describe(model, configs, device) -> str:
    from rnnkit.tasks.report import model_size

    r = configs["model"].rnn
    return f"model: {r.cell} x {r.layers} layer(s) of {r.hidden}, sigmoid head, {model_size(model):,} parameters, device {device}"


def eval_arguments(parser) -> None:
    parser.add_argument("--split", default="test", choices=("train", "val", "test"),
                        help="the run's pieces to score (default: test)")
    parser.add_argument("--corpus", default=None,
                        help="score every piece of this corpus instead (a folder of MIDI/MusicXML files, or a composer "
                        "of music21's corpus); notes outside the model's pitch range are dropped and counted")


def say(line: str) -> None:
    """What a command reads, on stderr (its stdout holds the scores or the notes alone)."""
    import sys

    print(line, file=sys.stderr)


def evaluate(loaded, args) -> dict:
    """NLL per frame and accuracy of a trained model, beside the baselines fitted on its training pieces."""
    from dataclasses import replace

    from rnnkit.tasks.music.data import Pieces, cut, read_corpus
    from rnnkit.tasks.music.scores import baseline_scores, format_scores, model_scores

    d, v = loaded.configs["data"], loaded.vocabs
    rolls = split_sets(read_corpus(d, say), v["split"], v["low"], v["pitches"], loaded.path)
    if args.corpus is not None:
        other = read_corpus(replace(d, corpus=args.corpus, pieces=0), say)
        cuts = [cut(r, v["low"], v["pitches"]) for r in other.rolls]
        scored, where, dropped = [c for c, _ in cuts], f"{args.corpus} ({len(cuts)} pieces)", sum(n for _, n in cuts)
    else:
        scored, where, dropped = rolls[args.split], f"{args.split} ({len(rolls[args.split])} pieces)", 0
    pieces = Pieces(scored)
    scores = {"model": model_scores(loaded.model, pieces), **baseline_scores(rolls["train"], scored)}
    print(format_scores(scores, f"{where}, {pieces.frames} frames"))
    if dropped:
        print(f"{dropped} note frame(s) outside the model's pitches {v['low']}..{v['low'] + v['pitches'] - 1} were dropped")
    return {"split": args.split if args.corpus is None else None, "corpus": args.corpus or d.corpus,
            "pieces": len(pieces), "dropped_note_frames": dropped, "scores": scores}


TASK = Task(
    name="music", help="polyphonic music: next-frame piano-roll prediction (Bach chorales; sigmoid per pitch)",
    description="Train a next-frame model of piano rolls: an RNN reads frames 1..t and predicts frame t+1 with a "
    "sigmoid per pitch; the loss and the score are the NLL per frame (Chung et al. 2014). The pieces (music21's Bach "
    "chorales by default) are split 60/20/20 by piece; the test NLL is reported beside the frequency and "
    "repeat-previous-frame baselines. `rnnkit music generate` samples a new piece (MIDI and PNG).",
    configs={"data": MusicDataConfig, "model": FrameModelConfig, "train": MusicTrainFlags},
    prepare=prepare, vocabularies=vocabularies, build=build, describe=describe,
    eval_arguments=eval_arguments, evaluate=evaluate,
    eval_help="NLL per frame of a trained music model on its test pieces (or another corpus), beside the baselines",
    verbs="rnnkit.tasks.music.cli", what="a music model")
