"""``rnnkit tag train|eval|predict|baseline``: sequence labelling from CoNLL-U or two-column CoNLL files
(torch is imported inside the handlers)."""

from __future__ import annotations

import json
import sys

ENSEMBLE_HELP = ("run folder or checkpoint folder; given again (--checkpoint A --checkpoint B, same tags): their "
                 "ensemble, the models' scores averaged before decoding")


def _classes():
    from rnnkit.tasks.tag.config import TagDataConfig, TaggerConfig, TagTrainFlags

    return {"model": TaggerConfig, "data": TagDataConfig, "train": TagTrainFlags}


def cmd_train(args) -> int:
    from rnnkit.tasks.supervised import train_from_args
    from rnnkit.tasks.tag.config import PRESETS
    from rnnkit.tasks.tag.task import train_tagger

    train_from_args(args, _classes(), train_tagger, "tag", PRESETS, args.preset)
    return 0


def cmd_eval(args) -> int:
    from rnnkit.tasks.tag.metrics import format_entity_table
    from rnnkit.tasks.tag.task import evaluate_file

    s = evaluate_file(args.checkpoint, args.data, args.device, args.format)
    loss = f"loss {s['loss']:.4f}" if s["models"] == 1 else f"the {s['models']} models' mean loss {s['loss']:.4f}"
    print(f"{args.data}: {s['sentences']:,} sentences, {s['tokens']:,} tokens, token accuracy {s['accuracy']:.2%} "
          f"(words unseen in training: {s['unseen_accuracy']:.2%} of {s['unseen_tokens']:,}), {loss}")
    if s["bio"]:
        print(format_entity_table(s["entities"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"data": args.data, "checkpoints": args.checkpoint,
                       **{k: v for k, v in s.items() if k != "predicted"}}, f, indent=2)
    return 0


def cmd_predict(args) -> int:
    from rnnkit.tasks.tag.task import tag_sentences

    lines = args.sentences if args.sentences and args.sentences != ["-"] else sys.stdin.read().splitlines()
    for sentence in tag_sentences(args.checkpoint, lines, args.device):
        print(" ".join(f"{w}/{t}" for w, t in sentence))
    return 0


def cmd_baseline(args) -> int:
    from rnnkit.tasks.tag.data import read_tagged
    from rnnkit.tasks.tag.metrics import entity_scores, most_frequent_tag, token_accuracy
    from rnnkit.models.crf import is_bio

    train = read_tagged(args.train, args.format, args.tag_column)
    test = read_tagged(args.data, args.format, args.tag_column)
    tagger = most_frequent_tag([s.words for s in train], [s.tags for s in train])
    seen = {w for s in train for w in s.words}
    gold, predicted = [s.tags for s in test], [tagger(s.words) for s in test]
    s = token_accuracy(gold, predicted, [[w not in seen for w in t.words] for t in test])
    line = (f"most-frequent-tag baseline on {args.data}: token accuracy {s['accuracy']:.2%} (words unseen in "
            f"training: {s['unseen_accuracy']:.2%} of {s['unseen_tokens']:,})")
    if is_bio({t for g in gold for t in g}):
        line += f", entity F1 {entity_scores(gold, predicted)['overall']['f1']:.2%}"
    print(line)
    return 0


def register(subparsers) -> None:
    from rnnkit.cli_args import add_config_groups, output_file

    tag = subparsers.add_parser("tag", help="many-to-many sequence labelling: a tag per word (POS, named entities)")
    sub = tag.add_subparsers(dest="tag_command", metavar="action", required=True)
    classes = _classes()

    p = sub.add_parser("train", help="train a tagger on a CoNLL-U or token<TAB>tag file",
                       description="Train a tagger: word embedding [+ character BiLSTM] -> bidirectional RNN stack "
                       "-> a tag per word (softmax, or a linear-chain CRF with --crf).")
    p.add_argument("--preset", default=None, help="start from a named recipe (pos, ner); flags given override it")
    add_config_groups(p, classes)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="token accuracy (and entity P/R/F1 for BIO tags) of a tagger on a tagged file")
    p.add_argument("--checkpoint", required=True, action="append", help=ENSEMBLE_HELP)
    p.add_argument("--data", required=True, help="tagged file in the training file's format")
    p.add_argument("--format", default=None, help="auto, conllu or conll (default: the training run's)")
    p.add_argument("--json", type=output_file, default=None, help="also write the scores to this JSON file")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (default: cpu)")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("predict", help="tag sentences given as arguments (or on stdin, one per line): word/TAG")
    p.add_argument("--checkpoint", required=True, action="append", help=ENSEMBLE_HELP)
    p.add_argument("sentences", nargs="*", help="whitespace-tokenised sentences; none (or -) reads lines from stdin")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (default: cpu)")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("baseline", help="the most-frequent-tag baseline: each word's commonest training tag")
    p.add_argument("--train", required=True, help="tagged training file")
    p.add_argument("--data", required=True, help="tagged file to score")
    p.add_argument("--format", default="auto", help="auto, conllu or conll (default: auto)")
    p.add_argument("--tag-column", default="upos", help="CoNLL-U tag column: upos or xpos (default: upos)")
    p.set_defaults(func=cmd_baseline)
