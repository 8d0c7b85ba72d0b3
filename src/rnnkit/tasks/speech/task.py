"""The spoken-digit task, declared: FSDD recordings -> cached log-mel (or MFCC) features -> a
``WordClassifier`` (isolated digits) or a ``CTCRecognizer`` (connected digits) -> accuracy, or digit
error rate and sequence accuracy.

A run's ``config.json`` holds the configs; the test set is rebuilt from them (the split is a function
of the data folder, ``--holdout`` and ``--split-seed``; connected test utterances are synthesised with
a fixed seed), so ``eval`` scores exactly the held-out data the run never trained on.
"""

from __future__ import annotations

from rnnkit.errors import RnnkitError
from rnnkit.models.speech_config import SpeechModelConfig
from rnnkit.tasks.speech.config import SpeechDataConfig, SpeechTrainFlags
from rnnkit.tasks.spec import Prepared, Task

DIGITS = [str(d) for d in range(10)]


def vocabularies(meta: dict, where) -> dict:
    return {"classes": DIGITS}


def prepare(configs, saved, log) -> Prepared:
    from rnnkit.tasks.batches import AUGMENTATION, ShuffledBatches
    from rnnkit.tasks.speech.data import build_sets, check_alignable, score
    from rnnkit.train.memory import ACTIVATION_FLOATS_PER_UNIT

    d, m, flags = configs["data"], configs["model"], configs["train"]
    sets = build_sets(d, ("train", "val"), log)
    check_alignable(sets, m.stack)
    batches = ShuffledBatches(sets["train"], flags.batch_size, flags.seed, offset=AUGMENTATION)
    isolated = d.task == "isolated"

    def evaluate(model):
        s = score(model, sets["val"])
        if isolated:
            return {"val_loss": s["loss"], "val_accuracy": s["accuracy"]}
        return {"val_loss": s["loss"], "val_digit_error_rate": s["digit_error_rate"]}

    def report(model, summary):
        s = score(model, sets["val"])
        summary.update(validation=s)
        shown = f"accuracy {s['accuracy']:.2%}" if isolated else f"digit error rate (greedy) {s['digit_error_rate']:.2%}"
        return (f"done ({summary['stopped']}) at step {summary['step']} after {summary['elapsed']:.0f} s; best "
                f"checkpoint: validation loss {s['loss']:.4f}, {shown}")

    steps = (int(sets["train"].lengths.max()) + m.stack - 1) // m.stack  # RNN steps of the longest example
    return Prepared(
        batches=batches, steps_per_epoch=batches.steps_per_epoch, vocabs={"classes": DIGITS},
        meta={"classes": DIGITS}, evaluate=evaluate, report=report,
        model_note=f"; {batches.steps_per_epoch} steps per epoch",
        activations=ACTIVATION_FLOATS_PER_UNIT * flags.batch_size * steps * m.rnn.hidden * m.rnn.layers
        * (2 if m.rnn.bidirectional else 1))


def build(configs, vocabs):
    from rnnkit.models.speech import CTCRecognizer, WordClassifier

    d, m = configs["data"], configs["model"]
    size = d.mels if d.features == "logmel" else d.mfcc
    model = WordClassifier if d.task == "isolated" else CTCRecognizer
    return model(size, len(vocabs["classes"]), m)


def describe(model, configs, device) -> str:
    from rnnkit.tasks.report import model_size

    d, m = configs["data"], configs["model"]
    r = m.rnn
    return (f"model: {'BiRNN' if r.bidirectional else 'RNN'} {r.layers} x {r.hidden} {r.cell}, "
            f"{'pooling ' + m.pooling if d.task == 'isolated' else 'CTC'}, {model_size(model):,} parameters, "
            f"device {device}")


def beam_widths(text: str) -> list[int]:
    """``--beam 1,8`` -> ``[1, 8]``."""
    try:
        beams = [int(b) for b in text.split(",")]
    except ValueError:
        beams = [0]
    if min(beams) < 1:
        raise RnnkitError(f"--beam takes beam widths >= 1 separated by commas (1: greedy), got {text!r}")
    return beams


def eval_arguments(parser) -> None:
    parser.add_argument("--beam", default="1,8", help="connected: CTC beam widths to compare, 1 is greedy (default: 1,8)")
    parser.add_argument("--data", default=None, help="FSDD folder (default: the one the run trained on)")


def evaluate(loaded, args) -> dict:
    """Scores on the run's test split: accuracy (isolated), or digit error rate and sequence accuracy per
    beam width (connected), with a confusion matrix."""
    import sys
    from dataclasses import replace

    from rnnkit.tasks.report import format_confusion
    from rnnkit.tasks.speech.data import build_sets, check_alignable, score

    beams = beam_widths(args.beam)
    d = loaded.configs["data"]
    if args.data:
        d = replace(d, data=args.data)
    else:  # a path from the checkpoint: said before it is read
        print(f"--data not given: reading {d.data}, the FSDD folder named in the checkpoint", file=sys.stderr)
    test = build_sets(d, ("test",))["test"]
    check_alignable({"test": test}, loaded.configs["model"].stack)
    results = {}
    for beam in beams if d.task == "connected" else [1]:
        s = score(loaded.model, test, beam=beam)
        if d.task == "isolated":
            print(f"test: {s['examples']:,} recordings, accuracy {s['accuracy']:.2%}, loss {s['loss']:.4f}")
            print(format_confusion(DIGITS, s["confusion"]))
        else:
            how = "greedy" if beam == 1 else f"beam {beam}"
            print(f"test ({how:>7}): {s['utterances']:,} utterances, {s['reference_digits']:,} digits: digit error "
                  f"rate {s['digit_error_rate']:.2%} ({s['substitutions']} substitutions, {s['deletions']} deletions, "
                  f"{s['insertions']} insertions), sequence accuracy {s['sequence_accuracy']:.2%}")
            if beam == beams[-1]:
                print(f"confusion ({how}; '-' is a deletion in the last column, an insertion in the last row):")
                print(format_confusion([*DIGITS, "-"], s["confusion"]))
        results[f"beam{beam}"] = s
    return {"task": d.task, "holdout": d.holdout, **results}


TASK = Task(
    name="speech", help="spoken-digit recognition (FSDD): isolated digits or connected digits with CTC",
    description="Log-mel (or MFCC) frames -> bidirectional RNN -> a digit (--task isolated, mean pooling) or a digit "
    "sequence (--task connected: synthesised 2-7 digit utterances, CTC).",
    configs={"data": SpeechDataConfig, "model": SpeechModelConfig, "train": SpeechTrainFlags},
    prepare=prepare, vocabularies=vocabularies, build=build, describe=describe,
    eval_arguments=eval_arguments, evaluate=evaluate,
    eval_help="accuracy (isolated) or digit error rate and sequence accuracy (connected) on the run's test split, "
    "with a confusion matrix",
    verbs="rnnkit.tasks.speech.cli", what="a speech model")
