"""``rnnkit translate translate``: the translate task's verb beyond train and eval (torch is imported
inside the handler)."""

from __future__ import annotations

import sys


def cmd_translate(args) -> int:
    from rnnkit.data.text import stdin_lines
    from rnnkit.decoding.options import decode_options
    from rnnkit.errors import RnnkitError
    from rnnkit.tasks.runner import load
    from rnnkit.tasks.translate.decode import translate_tokens
    from rnnkit.tasks.translate.detok import detokenize
    from rnnkit.tasks.translate.translator import Translator

    lines = args.sentences if args.sentences and args.sentences != ["-"] else stdin_lines("sentences to translate")
    sentences = [l for l in lines if l.strip()]
    if not sentences:
        raise RnnkitError("no sentence to translate: give sentences as arguments or one per line on stdin")
    translator = Translator.of(load(args.checkpoint, args.device, "translate"))
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
        if options.n_best == 1:  # as a person writes it; the n-best list shows the normalised words BLEU counts
            print(detokenize(translator.words(hyps[0].tokens), sentence))
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


def register(sub) -> None:
    from rnnkit.cli_args import add_config_arguments, count, output_file
    from rnnkit.decoding.options import DecodeOptions
    from rnnkit.tasks.cli import add_checkpoint_flags

    p = sub.add_parser("translate", help="translate sentences given as arguments (or on stdin, one per line)")
    add_checkpoint_flags(p, json_help="")
    p.add_argument("sentences", nargs="*", help="sentences to translate; none (or -) reads lines from stdin")
    p.add_argument("--max-input", type=count, default=0,
                   help="truncate longer inputs to N words, with a warning (0: the training length limit)")
    p.add_argument("--attention", type=output_file, default=None, help="write the first sentence's attention matrix as a PNG heat-map")
    add_config_arguments(p, DecodeOptions, "decoding")
    p.set_defaults(func=cmd_translate)
