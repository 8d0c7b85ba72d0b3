"""``rnnkit tag predict|baseline``: the tag task's verbs beyond train and eval (torch is imported inside
the handlers)."""

from __future__ import annotations

import sys


def tag_sentences(paths, lines: list[str], device: str = "cpu", pretokenized: bool = False) -> list[list[tuple[str, str]]]:
    """Tag sentences (one per line) with a tagger or an ensemble: ``[[(word, tag), ...]]``. Each line is
    tokenised as the training data is (``rnnkit.tasks.tag.tokenize``: ``duck.`` is ``duck .``), or with
    ``pretokenized`` split at whitespace only."""
    from rnnkit.errors import RnnkitError
    from rnnkit.tasks.runner import load
    from rnnkit.tasks.tag.data import Encoded, read_plain
    from rnnkit.tasks.tag.predict import ensemble, predict_ids

    paths = [paths] if isinstance(paths, str) else list(paths)
    runs = ensemble([load(p, device, "tag") for p in paths])
    if not pretokenized:
        from rnnkit.tasks.tag.tokenize import tokenize

        lines = [" ".join(tokenize(line)) for line in lines]
    sentences = read_plain(lines, runs[0].configs["data"].max_len)
    if not sentences:
        raise RnnkitError("no sentence to tag: give sentences as arguments or one per line on stdin")
    members = [(run.model, Encoded(sentences, run.vocabs["words"], run.vocabs["chars"], run.configs["data"].lowercase,
                                   run.configs["data"].max_word)) for run in runs]
    predicted, _ = predict_ids(members)
    tags = runs[0].model.tags
    return [[(w, tags[t]) for w, t in zip(s, row)] for s, row in zip(sentences, predicted)]


def cmd_predict(args) -> int:
    from rnnkit.data.text import stdin_lines

    lines = args.sentences if args.sentences and args.sentences != ["-"] else stdin_lines("sentences to tag")
    for sentence in tag_sentences(args.checkpoint, lines, args.device, args.pretokenized):
        print(" ".join(f"{w}/{t}" for w, t in sentence))
    return 0


def cmd_baseline(args) -> int:
    from rnnkit.models.crf import is_bio
    from rnnkit.tasks.tag.data import read_tagged
    from rnnkit.tasks.tag.metrics import entity_scores, most_frequent_tag, token_accuracy

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


def register(sub) -> None:
    from rnnkit.tasks.cli import add_checkpoint_flags
    from rnnkit.tasks.tag.task import ENSEMBLE_HELP

    p = sub.add_parser("predict", help="tag sentences given as arguments (or on stdin, one per line): word/TAG")
    add_checkpoint_flags(p, json_help="", ensemble=ENSEMBLE_HELP)
    p.add_argument("sentences", nargs="*", help="sentences as written, tokenised the way the training data (UD "
                   "English, WNUT) is: punctuation and clitics split off, so 'duck.' is 'duck .' and \"don't\" is "
                   "\"do n't\"; none (or -) reads lines from stdin")
    p.add_argument("--pretokenized", action="store_true",
                   help="the sentences are already one token per space: split them at whitespace only")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("baseline", help="the most-frequent-tag baseline: each word's commonest training tag")
    p.add_argument("--train", required=True, help="tagged training file")
    p.add_argument("--data", required=True, help="tagged file to score")
    p.add_argument("--format", default="auto", help="auto, conllu or conll (default: auto)")
    p.add_argument("--tag-column", default="upos", help="CoNLL-U tag column: upos or xpos (default: upos)")
    p.set_defaults(func=cmd_baseline)
