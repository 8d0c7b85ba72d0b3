"""``rnnkit classify predict|authors``: the classify task's verbs beyond train and eval (torch is imported
inside the handlers)."""

from __future__ import annotations


def cmd_predict(args) -> int:
    from rnnkit.data.text import stdin_lines
    from rnnkit.errors import RnnkitError

    texts = args.texts if args.texts and args.texts != ["-"] else stdin_lines("texts to classify")
    if not texts:
        raise RnnkitError("no text to classify: give texts as arguments or one per line on stdin")
    for text, (label, p) in zip(texts, predict_texts(args.checkpoint, texts, args.device)):
        print(f"{label}\t{p:.4f}\t{text}")
    return 0


def predict_texts(path, texts: list[str], device: str = "cpu") -> list[tuple[str, float]]:
    """The most probable label of each text and its probability."""
    from rnnkit.models.classifier import class_probabilities
    from rnnkit.tasks.classify.data import Encoded, predict_logits
    from rnnkit.tasks.runner import load

    run = load(path, device, "classify")
    d, classes = run.configs["data"], run.vocabs["classes"]
    probs = class_probabilities(predict_logits(run.model, Encoded(texts, run.vocabs["vocab"], d.tokens, d.max_len)))
    best = probs.argmax(1)
    return [(classes[int(c)], float(p[c])) for c, p in zip(best, probs)]


def cmd_authors(args) -> int:
    from rnnkit.tasks.classify.authors import write_author_splits

    counts = write_author_splits(args.corpus, args.out, top=args.top, seed=args.seed)
    for split, n in counts["splits"].items():
        print(f"{args.out}/{split}.tsv: {n:,} lines")
    print("speakers (lines): " + ", ".join(f"{s} ({n})" for s, n in counts["speakers"].items()))
    return 0


def register(sub) -> None:
    from rnnkit.cli_args import positive_int, seed
    from rnnkit.tasks.cli import add_checkpoint_flags

    p = sub.add_parser("predict", help="the label of each text given as an argument (or on stdin, one per line)")
    add_checkpoint_flags(p, json_help="")
    p.add_argument("texts", nargs="*", help="texts to classify; none (or -) reads lines from stdin")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("authors", help="write train/val/test TSVs of (line, speaker) from a play text (tinyshakespeare)")
    p.add_argument("--corpus", required=True, help="text with speaker lines such as 'First Citizen:' before each speech")
    p.add_argument("--top", type=positive_int, default=10, help="keep the N speakers with the most lines (default: 10)")
    p.add_argument("--out", required=True, help="folder for train.tsv, val.tsv and test.tsv")
    p.add_argument("--seed", type=seed, default=0, help="seed of the split by speech, 80/10/10 (default: 0)")
    p.set_defaults(func=cmd_authors)
