"""``rnnkit caption describe``: the caption task's verb beyond train and eval (torch is imported inside
the handler)."""

from __future__ import annotations

import sys


def cmd_describe(args) -> int:
    import numpy as np
    import torch

    from rnnkit.decoding.options import decode_options
    from rnnkit.tasks.caption.decode import Describer
    from rnnkit.tasks.caption.images import load_image
    from rnnkit.tasks.runner import load

    run = load(args.checkpoint, args.device, "caption")
    describer = Describer(run.model, run.vocabs["vocab"], run.configs["data"])
    size = describer.data.image_size
    images = torch.from_numpy(np.stack([load_image(p, size) for p in args.images]))
    options = decode_options(args)
    results = describer.describe(images, options)
    for path, hyps in zip(args.images, results):
        if options.n_best == 1:
            print(f"{path}: {' '.join(describer.words(hyps[0].tokens))}")
            continue
        print(path)
        for h in hyps:
            print(f"  {h.score:9.4f}  {h.log_prob:9.4f}  {' '.join(describer.words(h.tokens))}")
    if args.attention:
        from rnnkit.tasks.caption.figure import plot_caption_attention

        output = results[0][0].tokens
        alpha = describer.model.attention_maps(images[:1].to(describer.device), output).cpu()  # (T, L)
        words = describer.words(output) + (["</s>"] if output and output[-1] == 3 else [])
        grid = describer.model.grid_shape(size, size)
        plot_caption_attention(images[0].numpy(), words, alpha[: len(words)].float().numpy(), grid, args.attention)
        print(f"attention maps of the first image: {args.attention}", file=sys.stderr)
    return 0


def register(sub) -> None:
    from rnnkit.cli_args import add_config_arguments, output_file
    from rnnkit.decoding.options import DecodeOptions
    from rnnkit.tasks.cli import add_checkpoint_flags

    p = sub.add_parser("describe", help="caption image files")
    add_checkpoint_flags(p, json_help="")
    p.add_argument("images", nargs="+", help="image files (JPEG, PNG, ...; resized to the training size)")
    p.add_argument("--attention", type=output_file, default=None, help="write the first image with one attention map per word (PNG)")
    add_config_arguments(p, DecodeOptions, "decoding")
    p.set_defaults(func=cmd_describe)
