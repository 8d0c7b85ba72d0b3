"""``rnnkit music generate``: the music task's verb beyond train and eval (torch is imported inside the handler)."""

from __future__ import annotations


def cmd_generate(args) -> int:
    import json

    from rnnkit.errors import RnnkitError
    from rnnkit.tasks.music.generate import sample_roll
    from rnnkit.tasks.music.midi import plot_roll, roll_notes, write_midi
    from rnnkit.tasks.runner import load

    run = load(args.checkpoint, args.device, "music")
    v, d = run.vocabs, run.configs["data"]
    primer, name = None, None
    if args.prime:
        from rnnkit.tasks.music.data import read_corpus
        from rnnkit.tasks.music.task import say, split_sets

        rolls = split_sets(read_corpus(d, say), v["split"], v["low"], v["pitches"], run.path)["test"]
        name = v["split"]["test"][args.seed % len(rolls)]
        piece = rolls[args.seed % len(rolls)]
        if args.prime >= len(piece):
            raise RnnkitError(f"--prime {args.prime} is not shorter than the test piece {name} ({len(piece)} frames)")
        primer = piece[: args.prime]
    roll = sample_roll(run.model, args.steps, args.temperature, args.seed, args.max_notes, primer)
    notes = roll_notes(roll, v["low"])
    write_midi(args.out, roll, v["low"], d.grid, args.bpm)
    print(f"wrote {args.out}: {len(roll)} frames ({len(roll) / d.grid:g} quarter notes at {args.bpm:g} bpm), "
          f"{len(notes)} notes, {roll.sum(1).mean():.2f} sounding per frame"
          + (f"; the first {args.prime} frames from the test piece {name}" if primer is not None else ""))
    if args.plot:
        title = f"{run.configs['model'].rnn.cell}, temperature {args.temperature:g}, seed {args.seed}"
        plot_roll(args.plot, roll, v["low"], d.grid, title, primed=args.prime)
        print(f"wrote {args.plot}")
    if args.json:
        from rnnkit.train.files import write_text

        write_text(args.json, json.dumps({"checkpoint": args.checkpoint, "low": v["low"], "grid": d.grid,
                                          "frames": [[v["low"] + int(k) for k in f.nonzero()[0]] for f in roll],
                                          "notes": notes}, indent=1))
    return 0


def register(sub) -> None:
    from rnnkit.cli_args import number, output_file, seed
    from rnnkit.tasks.cli import add_checkpoint_flags

    p = sub.add_parser("generate", help="sample a piano roll frame by frame; write it as MIDI (and a PNG)")
    add_checkpoint_flags(p, json_help="also write the sampled frames (MIDI pitches per frame) and notes here")
    p.add_argument("--steps", type=number(int, low=1, high=100_000), default=64, help="frames to sample (default: 64)")
    p.add_argument("--temperature", type=number(float, above=0.0, high=100.0), default=1.0,
                   help="divides the logits before the sigmoid: < 1 surer, > 1 more random (default: 1)")
    p.add_argument("--seed", type=seed, default=0, help="seed of the Bernoulli draws (and of the primer's piece)")
    p.add_argument("--max-notes", type=number(int, low=1, high=128, allow_zero=True), default=0,
                   help="keep at most N pitches a frame, the most probable of those drawn (0: no cap)")
    p.add_argument("--prime", type=number(int, low=0, high=100_000), default=0,
                   help="start from the first N frames of a test piece (chosen by --seed), then sample")
    p.add_argument("--bpm", type=number(float, above=0.0, high=1000.0), default=90.0,
                   help="quarter notes per minute in the MIDI file (default: 90)")
    p.add_argument("--out", type=output_file, default="piece.mid", help="the MIDI file to write (default: piece.mid)")
    p.add_argument("--plot", type=output_file, default=None, help="also draw the piano roll into this PNG")
    p.set_defaults(func=cmd_generate)
