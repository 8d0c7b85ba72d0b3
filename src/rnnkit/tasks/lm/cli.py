"""``rnnkit sample|inspect`` (also ``rnnkit lm sample|inspect``): the language model's verbs beyond train
and eval (torch is imported inside the handlers). Models are read with ``rnnkit.tasks.runner.load``."""

from __future__ import annotations

SAMPLE_DESCRIPTION = (
    "Generate text from a trained language model. For open-ended text, sample (the default; e.g. --temperature 0.8 "
    "--top-p 0.95). Greedy decoding (--temperature 0) and beam search (--beam 5) look for the most probable "
    "continuation, which on a character model loops (self._file.self._file...) or fills up with spaces; "
    "--no-repeat-ngram 12 stops that.")
EVAL_DESCRIPTION = (
    "Loss and bits per character of a trained language model. With no flags it repeats the run's validation: the "
    "held-out tail of its corpus, in the run's random windows.")
INSPECT_DESCRIPTION = (
    "Colour a text by the activation of one unit (the memory cell c_t of an LSTM), or find the units that best "
    "follow a property of the text (course-notes §9). With neither --text nor --file: the run's validation text.")


def sampling_conflicts(args) -> list[str]:
    """The flags given that the chosen decoder ignores, each as a warning (the command still runs)."""
    beam, greedy = args.beam > 1, args.beam == 1 and args.temperature == 0
    decoder = f"--beam {args.beam} (beam search does not sample)" if beam else "--temperature 0 (greedy decoding)"
    warnings = []
    if beam or greedy:
        named = [f for f, v in (("--temperature", None if greedy else args.temperature), ("--top-k", args.top_k),
                                ("--top-p", args.top_p), ("--seed", args.seed)) if v is not None]
        warnings += [f"{flag} has no effect with {decoder}" for flag in named]
    if args.stream and (beam or args.num_samples > 1):
        why = "a beam search knows its text only at the end" if beam else "it follows one sample"
        warnings.append(f"--stream has no effect with {'--beam' if beam else '--num-samples'}: {why}")
    return warnings


def cmd_sample(args) -> int:
    import sys

    from rnnkit.tasks.lm.generate import generate_texts
    from rnnkit.tasks.runner import load

    for warning in sampling_conflicts(args):
        print(f"warning: {warning}", file=sys.stderr)
    run = load(args.checkpoint, args.device, "lm")
    vocab = run.vocabs["vocab"]
    prime = args.prime if args.prime is not None else ("\n" if "\n" in vocab.index else vocab.chars[0])
    one = args.beam == 1 and args.num_samples == 1
    stream = one and (args.stream if args.stream is not None else sys.stdout.isatty())

    def show(piece: str) -> None:
        sys.stdout.write(piece)
        sys.stdout.flush()

    temperature = 1.0 if args.temperature is None else args.temperature
    texts = generate_texts(run.model, vocab, prime, args.length, temperature=temperature, top_k=args.top_k,
                           top_p=args.top_p, beam=args.beam, seed=args.seed, repetition_penalty=args.repetition_penalty,
                           no_repeat_ngram=args.no_repeat_ngram, progress=True, num_samples=args.num_samples,
                           stop=args.stop or (), ban=args.ban, stream=show if stream else None)
    if stream:
        print()
        return 0
    for i, text in enumerate(texts):
        if len(texts) > 1:
            print(f"--- {'beam' if args.beam > 1 else 'sample'} {i + 1} of {len(texts)} ---")
        print(text)
    return 0


def inspected_text(args, run) -> tuple[str, str]:
    """The text to inspect and how to name it: ``--text``, the start of ``--file``, or else the start of
    the run's validation text (the held-out tail of its corpus)."""
    import sys

    from rnnkit.data.corpus import read_corpus
    from rnnkit.tasks.lm.data import tail

    if args.text is not None:
        return args.text, "the text"
    if args.file is not None:
        return read_corpus(args.file, min_chars=2)[: args.chars], args.file
    d = run.configs["data"]
    what = f"the run's validation text (the last {d.val_fraction:g} of {d.corpus or 'the embedded corpus'})"
    print(f"--file not given: reading {what}", file=sys.stderr)
    return tail(read_corpus(d.corpus, min_chars=2), d.val_fraction)[: args.chars], what


def cmd_inspect(args) -> int:
    from rnnkit.errors import RnnkitError
    from rnnkit.tasks.lm.inspect import activations, rank_units, render_html, render_terminal
    from rnnkit.tasks.runner import load

    run = load(args.checkpoint, args.device, "lm")
    text, where = inspected_text(args, run)
    if not text:
        raise RnnkitError(f"{where} is empty: nothing to inspect; give --text with at least one character")
    acts = activations(run.model, run.vocabs["vocab"].encode(text, "the text to inspect"))
    if args.rank:
        ranked = rank_units(acts, text, args.rank, args.top, where=where)
        print(f"units whose activation best follows {args.rank!r} (Pearson r over {len(text)} characters):")
        for layer, unit, r in ranked:
            print(f"  layer {layer} unit {unit}: r = {r:+.3f}")
        layer, unit, _ = ranked[0]
    else:
        layer, unit = args.layer, args.unit
    if not (0 <= layer < len(acts) and 0 <= unit < acts[layer].shape[1]):
        raise RnnkitError(f"no unit {unit} in layer {layer}: the model has {len(acts)} layer(s) of {acts[0].shape[1]} units")
    values = acts[layer][:, unit]
    import os
    import sys

    colour = args.color == "always" or (args.color == "auto" and sys.stdout.isatty() and not os.environ.get("NO_COLOR"))
    if colour:
        print(f"layer {layer} unit {unit} over the text (blue negative, red positive):")
        print(render_terminal(text, values))
    else:  # a pipe or a file gets no escape codes: the text, and where the unit is most active
        order = values.argsort()
        print(f"layer {layer} unit {unit}: colours only on a terminal (--color always forces them; --html writes "
              f"them to a file); most positive at characters {sorted(order[-5:].tolist())}, most negative at "
              f"{sorted(order[:5].tolist())} of:")
        print(text)
    if args.html:
        from rnnkit.train.files import write_text

        write_text(args.html, render_html(text, values, f"layer {layer} unit {unit}"))
        print(f"wrote {args.html} (every unit, gates, span matches and generation: rnnkit view {args.checkpoint})")
    return 0


def add_sample_parser(sub, name: str = "sample"):
    import argparse

    from rnnkit.cli_args import count, fraction, non_negative_float, number, positive_int, seed
    from rnnkit.tasks.cli import add_checkpoint_flags

    p = sub.add_parser(name, help="generate text from a trained language model", description=SAMPLE_DESCRIPTION)
    add_checkpoint_flags(p, json_help="")
    p.add_argument("--prime", default=None, help="text to start from (default: a newline)")
    p.add_argument("--length", type=positive_int, default=500, help="characters to generate (default: 500)")
    p.add_argument("--temperature", type=non_negative_float, default=None,
                   help="sampling temperature: below 1 more conservative, above 1 more varied; 0 always takes the most "
                   "probable character (greedy decoding) (default: 1.0)")
    p.add_argument("--top-k", type=positive_int, default=None, help="sample only among the k most probable characters")
    p.add_argument("--top-p", type=fraction, default=None,
                   help="nucleus sampling: only the smallest set of characters whose probability reaches p")
    p.add_argument("--repetition-penalty", type=number(float, low=1), default=1.0,
                   help="multiply the log-probability of every character already in the text by this (CTRL's "
                   "penalty; 1: off); on characters it mostly flattens the distribution (default: 1.0)")
    p.add_argument("--no-repeat-ngram", type=count, default=0,
                   help="never repeat a run of N characters already in the text (the prime included): stops the "
                   "loops of greedy and beam search; 8 to 20 suits code and prose (default: 0, off)")
    p.add_argument("--beam", type=positive_int, default=1, help="beam width; above 1 runs beam search instead of sampling")
    p.add_argument("--seed", type=seed, default=None, help="random seed, for a reproducible sample")
    p.add_argument("--num-samples", type=positive_int, default=1,
                   help="texts to generate from the prime: samples drawn together, or with --beam the N best beams "
                   "(default: 1)")
    p.add_argument("--stop", action="append", default=None, metavar="TEXT",
                   help="end a text just before it generates TEXT (the prime is not searched); give it again for "
                   "several, e.g. --stop $'\\n\\n'")
    p.add_argument("--ban", default="", metavar="CHARS", help="characters never to generate, e.g. --ban '@#'")
    p.add_argument("--stream", action=argparse.BooleanOptionalAction, default=None,
                   help="print the text as it is generated (default: on when stdout is a terminal; one sample, "
                   "no --beam)")
    p.set_defaults(func=cmd_sample)
    return p


def add_inspect_parser(sub, name: str = "inspect"):
    from rnnkit.cli_args import count, number, output_file, positive_int
    from rnnkit.tasks.cli import add_checkpoint_flags

    p = sub.add_parser(name, help="show what one cell of a trained language model responds to",
                       description=INSPECT_DESCRIPTION)
    add_checkpoint_flags(p, json_help="")
    p.add_argument("--text", default=None, help="text to read (default: the start of --file)")
    p.add_argument("--file", default=None,
                   help="text file to read from (default: the run's validation text, the held-out tail of its corpus)")
    p.add_argument("--chars", type=number(int, low=1, high=10_000_000), default=2000,
                   help="characters of --file (or of the validation text) to read (default: 2000)")
    p.add_argument("--layer", type=count, default=0, help="layer of the unit to show (default: 0)")
    p.add_argument("--unit", type=count, default=0, help="unit to show (default: 0)")
    p.add_argument("--rank", default=None,
                   help="find the units that follow a property instead: quotes, single-quotes, parentheses, "
                   "brackets, line-position, indentation")
    p.add_argument("--top", type=positive_int, default=5, help="units to list with --rank (default: 5)")
    p.add_argument("--html", type=output_file, default=None, help="also write the coloured text to this HTML file")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="colour the text with ANSI codes: auto (only on a terminal, unless NO_COLOR is set), "
                   "always, never (default: auto)")
    p.set_defaults(func=cmd_inspect)
    return p


def register(sub) -> None:
    """``sample`` and ``inspect`` under ``sub`` (``rnnkit lm ...``; the top-level parser adds its own aliases)."""
    add_sample_parser(sub)
    add_inspect_parser(sub)
