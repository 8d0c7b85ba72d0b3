"""``rnnkit speech train|eval|transcribe``: spoken digits, isolated or connected (torch is imported
inside the handlers)."""

from __future__ import annotations

import json


def _classes():
    from rnnkit.tasks.speech.configs import SpeechDataConfig, SpeechModelConfig, SpeechTrainFlags

    return {"model": SpeechModelConfig, "data": SpeechDataConfig, "train": SpeechTrainFlags}


def cmd_train(args) -> int:
    from rnnkit.tasks.speech.task import train_speech
    from rnnkit.tasks.supervised import train_from_args

    train_from_args(args, _classes(), train_speech, "speech")
    return 0


def _beams(text: str) -> list[int]:
    from rnnkit.errors import RnnkitError

    try:
        beams = [int(b) for b in text.split(",")]
    except ValueError:
        beams = [0]
    if min(beams) < 1:
        raise RnnkitError(f"--beam takes beam widths >= 1 separated by commas (1: greedy), got {text!r}")
    return beams


def cmd_eval(args) -> int:
    from dataclasses import replace

    from rnnkit.tasks.classify.task import format_confusion
    from rnnkit.tasks.speech.task import DIGITS, build_sets, load_speech, score

    beams = _beams(args.beam)
    model, d, _ = load_speech(args.checkpoint, args.device)
    if args.data:
        d = replace(d, data=args.data)
    test = build_sets(d, ("test",))["test"]
    results = {}
    for beam in beams if d.task == "connected" else [1]:
        s = score(model, test, beam=beam)
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
    if args.json:
        from rnnkit.train.files import write_text

        write_text(args.json, json.dumps({"checkpoint": args.checkpoint, "task": d.task, "holdout": d.holdout, **results},
                                         indent=2))
    return 0


def cmd_transcribe(args) -> int:
    from rnnkit.errors import RnnkitError
    from rnnkit.tasks.speech.task import load_speech, transcribe

    if not args.files:
        raise RnnkitError("no recording to transcribe: give one or more .wav files (8 kHz mono)")
    model, d, meta = load_speech(args.checkpoint, args.device)
    results = transcribe(model, d, args.files, _beams(args.beam)[0])
    for r in results:
        extra = f"\t{r['probability']:.4f}" if "probability" in r else ""
        print(f"{''.join(map(str, r['digits']))}{extra}\t{r['path']}")
    if args.plot:
        from pathlib import Path

        from rnnkit.tasks.speech.plot import plot_transcription

        r = results[0]
        plot_transcription(r["features"], r.get("posteriors"), r["digits"], meta["configs"]["model"]["stack"],
                           args.plot, title=f"{Path(r['path']).name}: recognised {' '.join(map(str, r['digits']))}")
        print(f"spectrogram and posteriors of the first recording: {args.plot}")
    return 0


def register(subparsers) -> None:
    from rnnkit.cli_args import add_config_groups, output_file

    speech = subparsers.add_parser("speech", help="spoken-digit recognition (FSDD): isolated digits or connected "
                                   "digits with CTC")
    sub = speech.add_subparsers(dest="speech_command", metavar="action", required=True)
    classes = _classes()

    p = sub.add_parser("train", help="train a digit recogniser on the Free Spoken Digit Dataset",
                       description="Log-mel (or MFCC) frames -> bidirectional RNN -> a digit (--task isolated, "
                       "mean pooling) or a digit sequence (--task connected: synthesised 2-7 digit utterances, CTC).")
    add_config_groups(p, classes)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="accuracy (isolated) or digit error rate and sequence accuracy (connected) on "
                       "the run's test split, with a confusion matrix")
    p.add_argument("--checkpoint", required=True, help="run folder or checkpoint folder")
    p.add_argument("--beam", default="1,8", help="connected: CTC beam widths to compare, 1 is greedy (default: 1,8)")
    p.add_argument("--data", default=None, help="FSDD folder (default: the one the run trained on)")
    p.add_argument("--json", type=output_file, default=None, help="also write the scores to this JSON file")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (default: cpu)")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("transcribe", help="the digits spoken in each WAV file (8 kHz, mono, 16-bit)")
    p.add_argument("--checkpoint", required=True, help="run folder or checkpoint folder")
    p.add_argument("files", nargs="*", help="WAV files to transcribe")
    p.add_argument("--beam", default="8", help="CTC prefix beam width (1: greedy) (default: 8)")
    p.add_argument("--plot", type=output_file, default=None, help="draw the first file's log-mel spectrogram and CTC posteriors (PNG)")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (default: cpu)")
    p.set_defaults(func=cmd_transcribe)
