"""``rnnkit translate train|eval|translate``: encoder-decoder translation from sentence pairs (torch is
imported inside the handlers)."""

from __future__ import annotations

import json
import sys
from dataclasses import replace

from rnnkit.decoding.options import decode_options


def _classes():
    from rnnkit.models.configs import Seq2SeqConfig
    from rnnkit.tasks.configs import TranslateDataConfig, TranslateTrainFlags

    return {"model": Seq2SeqConfig, "data": TranslateDataConfig, "train": TranslateTrainFlags}


def cmd_train(args) -> int:
    from rnnkit.tasks.supervised import train_from_args
    from rnnkit.tasks.translate.task import train_translator

    train_from_args(args, _classes(), train_translator, "translate")
    return 0


def cmd_eval(args) -> int:
    from rnnkit.data.pairs import read_pairs, references_by_source
    from rnnkit.tasks.translate.task import load_translator, test_split_of
    from rnnkit.tasks.translate.decode import corpus_scores

    translator, _ = load_translator(args.checkpoint, args.device)
    path = args.data or test_split_of(args.checkpoint)
    found = read_pairs(path)
    if found.skipped:
        print(found.report(path), file=sys.stderr)
    sources, references = references_by_source(found.pairs, translator.data.accents)
    if args.limit:
        sources, references = sources[: args.limit], references[: args.limit]
    base = decode_options(args)
    results = {}
    print(f"{path}: {len(sources):,} source sentences, {sum(map(len, references)):,} reference translations")
    for decoder in base.decoder.split(","):
        options = replace(base, decoder=decoder.strip())
        s = corpus_scores(translator, sources, references, options, progress=True)
        label = f"beam {options.beam}" if options.decoder == "beam" else options.decoder
        print(f"{label:>10}: BLEU {s['bleu']:.2f} (all references), {s['bleu_first_reference']:.2f} (first reference "
              f"only), chrF {s['chrf']:.2f}")
        results[label] = {k: v for k, v in s.items() if k != "outputs"}
        for src, out, refs in list(zip(sources, s["outputs"], references))[: args.examples]:
            print(f"    {src}  ->  {out}   [reference: {refs[0]}]")
    print(f"sacrebleu: {s['signature']}")
    if args.json:
        from rnnkit.train.files import write_text

        write_text(args.json, json.dumps({"data": str(path), "checkpoint": args.checkpoint, "scores": results}, indent=2))
    return 0


def cmd_translate(args) -> int:
    from rnnkit.errors import RnnkitError
    from rnnkit.tasks.translate.task import load_translator
    from rnnkit.tasks.translate.decode import translate_tokens

    from rnnkit.data.text import stdin_lines

    lines = args.sentences if args.sentences and args.sentences != ["-"] else stdin_lines("sentences to translate")
    sentences = [l for l in lines if l.strip()]
    if not sentences:
        raise RnnkitError("no sentence to translate: give sentences as arguments or one per line on stdin")
    translator, _ = load_translator(args.checkpoint, args.device)
    limit = args.max_input or translator.data.max_words
    token_lists = []
    for sentence in sentences:
        tokens = translator.tokens(sentence)
        unknown = translator.unknown(tokens)
        if unknown:
            print(f"warning: unknown word(s) {', '.join(map(repr, unknown))} in {sentence!r}: read as <unk>",
                  file=sys.stderr)
        if len(tokens) > limit:
            print(f"warning: {sentence!r} has {len(tokens)} words; truncated to the first {limit} (the model was trained "
                  f"on at most {translator.data.max_words}; --max-input changes the limit)", file=sys.stderr)
            tokens = tokens[:limit]
        token_lists.append(tokens)
    options = decode_options(args)
    results = translate_tokens(translator, token_lists, options, progress=True)
    for sentence, hyps in zip(sentences, results):
        if options.n_best == 1:
            print(" ".join(translator.words(hyps[0].tokens)))
            continue
        print(sentence)
        for h in hyps:
            print(f"  {h.score:9.4f}  {h.log_prob:9.4f}  {' '.join(translator.words(h.tokens))}")
    if args.attention:
        import torch

        from rnnkit.lab.plots import plot_attention
        from rnnkit.models.seq2seq import EOS_ID

        src, lengths = translator.encode(token_lists[:1])
        output = results[0][0].tokens
        alpha = translator.model.attention_matrix(src, lengths, output).cpu()  # (T, S)
        target_words = translator.words(output) + (["</s>"] if output and output[-1] == EOS_ID else [])
        source_words = [w if w in translator.source.index else f"{w} (unk)" for w in token_lists[0]]
        plot_attention(source_words, target_words, alpha[: len(target_words)].to(torch.float32).numpy(),
                       args.attention, title=f"attention: {' '.join(token_lists[0])}")
        print(f"attention heat-map of the first sentence: {args.attention}", file=sys.stderr)
    return 0


def register(subparsers) -> None:
    from rnnkit.cli_args import add_config_arguments, add_config_groups, count, output_file
    from rnnkit.decoding.options import DecodeOptions

    tr = subparsers.add_parser("translate", help="encoder-decoder translation (English -> French, ...) with attention")
    sub = tr.add_subparsers(dest="translate_command", metavar="action", required=True)
    classes = _classes()

    p = sub.add_parser("train", help="train an encoder-decoder on 'source<TAB>target' sentence pairs",
                       description="Normalise and filter the pairs, split them by source sentence into train/val/test "
                       "(written to the run folder), and train a Seq2Seq with teacher forcing.")
    add_config_groups(p, classes)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="corpus BLEU and chrF (sacrebleu) on the run's test split or a pairs file")
    p.add_argument("--checkpoint", required=True, help="run folder or checkpoint folder")
    p.add_argument("--data", default=None, help="pairs to score (default: the run folder's test.tsv)")
    p.add_argument("--limit", type=count, default=0, help="score only the first N source sentences (0: all)")
    p.add_argument("--examples", type=count, default=3, help="print the first N translations of each decoder")
    p.add_argument("--json", type=output_file, default=None, help="also write the scores to this JSON file")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (default: cpu)")
    add_config_arguments(p, DecodeOptions, "decoding (--decoder takes a comma-separated list: greedy,beam)")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("translate", help="translate sentences given as arguments (or on stdin, one per line)")
    p.add_argument("--checkpoint", required=True, help="run folder or checkpoint folder")
    p.add_argument("sentences", nargs="*", help="sentences to translate; none (or -) reads lines from stdin")
    p.add_argument("--max-input", type=count, default=0,
                   help="truncate longer inputs to N words, with a warning (0: the training length limit)")
    p.add_argument("--attention", type=output_file, default=None, help="write the first sentence's attention matrix as a PNG heat-map")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (default: cpu)")
    add_config_arguments(p, DecodeOptions, "decoding")
    p.set_defaults(func=cmd_translate)

