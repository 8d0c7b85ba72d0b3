"""``rnnkit classify train|eval|predict|authors``: text classification from TSV/CSV files (torch is
imported inside the handlers)."""

from __future__ import annotations

import json


def _classes():
    from rnnkit.models.configs import ClassifierConfig
    from rnnkit.tasks.configs import ClassifyDataConfig, ClassifyTrainFlags

    return {"model": ClassifierConfig, "data": ClassifyDataConfig, "train": ClassifyTrainFlags}


def cmd_train(args) -> int:
    from rnnkit.tasks.classify.task import train_classifier
    from rnnkit.tasks.configs import PRESETS
    from rnnkit.tasks.supervised import train_from_args

    train_from_args(args, _classes(), train_classifier, "classify", PRESETS, args.preset)
    return 0


def cmd_eval(args) -> int:
    from rnnkit.tasks.classify.task import evaluate_file, format_confusion

    s = evaluate_file(args.checkpoint, args.data, args.device)
    print(f"{args.data}: {s['examples']:,} examples, accuracy {s['accuracy']:.2%}, loss {s['loss']:.4f} "
          f"(majority class {s['majority_class']!r}: {s['majority_accuracy']:.2%})")
    print(format_confusion(s["classes"], s["confusion"]))
    if args.json:
        from rnnkit.train.files import write_text

        write_text(args.json, json.dumps({"data": args.data, "checkpoint": args.checkpoint, **s}, indent=2))
    return 0


def cmd_predict(args) -> int:
    from rnnkit.errors import RnnkitError
    from rnnkit.tasks.classify.task import predict_texts

    from rnnkit.data.text import stdin_lines

    texts = args.texts if args.texts and args.texts != ["-"] else stdin_lines("texts to classify")
    if not texts:
        raise RnnkitError("no text to classify: give texts as arguments or one per line on stdin")
    for text, (label, p) in zip(texts, predict_texts(args.checkpoint, texts, args.device)):
        print(f"{label}\t{p:.4f}\t{text}")
    return 0


def cmd_authors(args) -> int:
    from rnnkit.tasks.classify.authors import write_author_splits

    counts = write_author_splits(args.corpus, args.out, top=args.top, seed=args.seed)
    for split, n in counts["splits"].items():
        print(f"{args.out}/{split}.tsv: {n:,} lines")
    print("speakers (lines): " + ", ".join(f"{s} ({n})" for s, n in counts["speakers"].items()))
    return 0


def register(subparsers) -> None:
    from rnnkit.cli_args import add_config_groups, output_file, positive_int, seed

    classify = subparsers.add_parser("classify", help="many-to-one text classification (sentiment, author, ...)")
    sub = classify.add_subparsers(dest="classify_command", metavar="action", required=True)
    classes = _classes()

    p = sub.add_parser("train", help="train a text classifier on a TSV/CSV file of text and label",
                       description="Train a sequence classifier: tokens -> embedding -> RNN -> pooling -> dense. "
                       "--preset course is the course's Keras recipe (Embedding(50), LSTM(64), Dense(256), ReLU, "
                       "Dropout(0.5), Dense(1), sigmoid; RMSprop; early stopping on a 20% validation split).")
    p.add_argument("--preset", default=None, help="start from a named recipe (course); flags given override it")
    add_config_groups(p, classes)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="accuracy and confusion matrix of a trained classifier on a labelled file")
    p.add_argument("--checkpoint", required=True, help="run folder or checkpoint folder")
    p.add_argument("--data", required=True, help="TSV/CSV file with the same columns as the training file")
    p.add_argument("--json", type=output_file, default=None, help="also write the scores to this JSON file")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (default: cpu)")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("predict", help="the label of each text given as an argument (or on stdin, one per line)")
    p.add_argument("--checkpoint", required=True, help="run folder or checkpoint folder")
    p.add_argument("texts", nargs="*", help="texts to classify; none (or -) reads lines from stdin")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (default: cpu)")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("authors", help="write train/val/test TSVs of (line, speaker) from a play text (tinyshakespeare)")
    p.add_argument("--corpus", required=True, help="text with speaker lines such as 'First Citizen:' before each speech")
    p.add_argument("--top", type=positive_int, default=10, help="keep the N speakers with the most lines (default: 10)")
    p.add_argument("--out", required=True, help="folder for train.tsv, val.tsv and test.tsv")
    p.add_argument("--seed", type=seed, default=0, help="seed of the split by speech, 80/10/10 (default: 0)")
    p.set_defaults(func=cmd_authors)
