"""``rnnkit speech transcribe``: the speech task's verb beyond train and eval (torch is imported inside
the handlers)."""

from __future__ import annotations

#: The shortest recording transcribed: FSDD's shortest spoken digit lasts 0.14 s; a recording under 0.1 s
#: (a click, a truncated file) holds no digit, and a model would still name one.
MIN_SECONDS = 0.1


def transcribe(model, d, paths, beam: int = 8) -> list[dict]:
    """For each WAV: its features ``(T, F)``, the digits recognised and, for a CTC model, the per-frame
    posteriors ``(T', 11)``; for a word classifier the digit's probability (``d``: the run's data config)."""
    import torch

    from rnnkit.data.audio import FrontEnd, read_wav
    from rnnkit.decoding.ctc import ctc_beam_decode
    from rnnkit.errors import RnnkitError
    from rnnkit.tasks.speech.data import FrameBatch, feature_spec, features_of
    from rnnkit.tasks.speech.fsdd import RATE

    front_end = FrontEnd(feature_spec(d))
    device = next(model.parameters()).device
    results = []
    recordings = [read_wav(path, RATE) for path in paths]  # all read (and checked) before any is transcribed
    for path, samples in zip(paths, recordings):
        if len(samples) < MIN_SECONDS * RATE:
            raise RnnkitError(f"{path} lasts {len(samples) / RATE:.3f} s ({len(samples)} samples), shorter than any "
                              f"spoken digit (at least {MIN_SECONDS} s); give a recording of one or more digits")
    with torch.no_grad():
        for path, samples in zip(paths, recordings):
            feats = features_of(front_end, samples)  # (T, F)
            outputs, _, _ = model(FrameBatch(feats.unsqueeze(0).to(device), torch.tensor([len(feats)], device=device)))
            if d.task == "connected":
                log_probs = outputs[0][0].cpu()  # (T', 11)
                digits = [c - 1 for c in ctc_beam_decode(log_probs, beam)]
                results.append({"path": str(path), "features": feats, "digits": digits,
                                "posteriors": log_probs.exp()})
            else:
                probs = torch.softmax(outputs[0].float(), -1).cpu()
                digit = int(probs.argmax())
                results.append({"path": str(path), "features": feats, "digits": [digit],
                                "probability": float(probs[digit])})
    return results


def cmd_transcribe(args) -> int:
    from rnnkit.errors import RnnkitError
    from rnnkit.tasks.runner import load
    from rnnkit.tasks.speech.task import beam_widths

    if not args.files:
        raise RnnkitError("no recording to transcribe: give one or more .wav files (8 kHz mono)")
    run = load(args.checkpoint, args.device, "speech")
    results = transcribe(run.model, run.configs["data"], args.files, beam_widths(args.beam)[0])
    for r in results:
        extra = f"\t{r['probability']:.4f}" if "probability" in r else ""
        print(f"{''.join(map(str, r['digits']))}{extra}\t{r['path']}")
    if args.plot:
        from pathlib import Path

        from rnnkit.tasks.speech.plot import plot_transcription

        r = results[0]
        plot_transcription(r["features"], r.get("posteriors"), r["digits"], run.configs["model"].stack,
                           args.plot, title=f"{Path(r['path']).name}: recognised {' '.join(map(str, r['digits']))}")
        print(f"spectrogram and posteriors of the first recording: {args.plot}")
    return 0


def cmd_example(args) -> int:
    """A connected-digit recording built from FSDD's test takes (0-4: the official test split, which
    training leaves out by default), one speaker, the digits in the order given, with short silences."""
    import torch

    from rnnkit.data.audio import read_wav, write_wav
    from rnnkit.errors import RnnkitError
    from rnnkit.tasks.speech.fsdd import RATE, TEST_TAKES, list_recordings
    from rnnkit.train.files import atomic_write

    if not args.digits.isdigit():
        raise RnnkitError(f"the digits to say must be 0-9 only, e.g. 4071; got {args.digits!r}")
    recs = [r for r in list_recordings(args.data) if r.take in TEST_TAKES]
    speakers = sorted({r.speaker for r in recs})
    speaker = args.speaker or (speakers[0] if speakers else "")
    if speaker not in speakers:
        raise RnnkitError(f"unknown speaker {speaker!r}; choose one of: {', '.join(speakers)}")
    silence = torch.zeros(int(0.15 * RATE))
    parts = [silence]
    for i, d in enumerate(map(int, args.digits)):
        takes = sorted((r for r in recs if r.speaker == speaker and r.digit == d), key=lambda r: r.take)
        if not takes:
            raise RnnkitError(f"{speaker} has no test recording of the digit {d} in {args.data}")
        parts += [read_wav(takes[i % len(takes)].path, RATE), silence]
    atomic_write(args.out, lambda tmp: write_wav(tmp, torch.cat(parts), RATE), "the recording")
    print(f"wrote {args.out}: {speaker} saying {' '.join(args.digits)} ({sum(map(len, parts)) / RATE:.1f} s, 8 kHz), "
          f"from the test takes of {args.data}")
    return 0


def register(sub) -> None:
    from rnnkit.cli_args import output_file
    from rnnkit.tasks.cli import add_checkpoint_flags

    p = sub.add_parser("transcribe", help="the digits spoken in each WAV file (8 kHz, mono, 16-bit)")
    add_checkpoint_flags(p, json_help="")
    p.add_argument("files", nargs="*", help="WAV files to transcribe")
    p.add_argument("--beam", default="8", help="CTC prefix beam width (1: greedy) (default: 8)")
    p.add_argument("--plot", type=output_file, default=None, help="draw the first file's log-mel spectrogram and CTC posteriors (PNG)")
    p.set_defaults(func=cmd_transcribe)

    from rnnkit.tasks.speech.config import DEFAULT_FSDD

    p = sub.add_parser("example", help="write a recording of the digits given, spoken by one FSDD speaker (test takes)")
    p.add_argument("digits", help="the digits to say, e.g. 4071")
    p.add_argument("--out", type=output_file, required=True, help="the WAV file to write")
    p.add_argument("--data", default=DEFAULT_FSDD, help=f"the FSDD folder (default: {DEFAULT_FSDD})")
    p.add_argument("--speaker", default=None, help="FSDD speaker (default: the first in alphabetical order)")
    p.set_defaults(func=cmd_example)
