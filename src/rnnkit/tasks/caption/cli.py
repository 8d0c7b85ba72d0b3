"""``rnnkit caption train|eval|describe``: image captioning on Flickr8k-style data (torch is imported
inside the handlers)."""

from __future__ import annotations

import json
import sys
from dataclasses import replace

from rnnkit.decoding.options import decode_options


def _classes():
    from rnnkit.tasks.caption.config import CaptionDataConfig, CaptionerConfig, CaptionTrainFlags

    return {"model": CaptionerConfig, "data": CaptionDataConfig, "train": CaptionTrainFlags}


def cmd_train(args) -> int:
    from rnnkit.tasks.caption.train import train_captioner
    from rnnkit.tasks.supervised import train_from_args

    train_from_args(args, _classes(), train_captioner, "caption")
    return 0


def cmd_eval(args) -> int:
    from rnnkit.errors import RnnkitError, unknown_choice
    from rnnkit.tasks.caption.decode import NEIGHBOURS, bleu_scores, nearest_captions, pixel_vectors
    from rnnkit.tasks.caption.train import CaptionedImages, load_captioner, read_data, split_images

    describer, _ = load_captioner(args.checkpoint, args.device)
    d = describer.data
    if args.data:
        d = replace(d, data=args.data)
    if args.split not in ("train", "val", "test"):
        raise unknown_choice("split", args.split, ("train", "val", "test"))
    log = lambda text: print(text, file=sys.stderr)
    captions, splits = read_data(d, log)
    names = splits[args.split][: args.limit] if args.limit else splits[args.split]
    every = split_images(d, splits, log)
    images = every[args.split][: len(names)]
    data = CaptionedImages(names, images, captions, describer.vocab)
    references = data.references
    print(f"{args.split} split of {d.data}: {len(names):,} images, {sum(map(len, references)):,} reference captions")
    runs, base = [], decode_options(args)
    for decoder in filter(None, (x.strip() for x in base.decoder.split(","))):
        options = replace(base, decoder=decoder)
        label = f"beam {options.beam}" if decoder == "beam" else decoder
        runs.append((label, lambda o=options: describer.sentences(images, o, progress=True)))
    for baseline in filter(None, (x.strip() for x in (args.baseline or "").split(","))):
        if baseline not in NEIGHBOURS:
            raise unknown_choice("baseline", baseline, NEIGHBOURS)
        train_images = every["train"]
        train_refs = CaptionedImages(splits["train"], train_images, captions, describer.vocab).references
        if baseline == "pixels":
            query, pool = pixel_vectors(images), pixel_vectors(train_images)
        else:
            query, pool = describer.mean_features(images), describer.mean_features(train_images)
        runs.append((f"nearest {baseline}", lambda q=query, p=pool, r=train_refs: nearest_captions(q, p, r)))
    if not runs:
        raise RnnkitError("nothing to score: give --decoder (greedy,beam,...) and/or --baseline pixels,features")
    results = {}
    for label, produce in runs:
        outputs = produce()
        s = bleu_scores(outputs, references)
        print(f"{label:>16}: BLEU-1 {s['bleu1']:.1f}  BLEU-2 {s['bleu2']:.1f}  BLEU-3 {s['bleu3']:.1f}  "
              f"BLEU-4 {s['bleu4']:.1f}  ({len(set(outputs)):,} distinct captions)")
        results[label] = {k: v for k, v in s.items() if k != "signature"} | {"distinct": len(set(outputs))}
        for name, out, refs in list(zip(names, outputs, references))[: args.examples]:
            print(f"    {name}: {out}   [reference: {refs[0]}]")
    print(f"sacrebleu: {s['signature']} (CIDEr is not computed)")
    if args.json:
        from rnnkit.train.files import write_text

        write_text(args.json, json.dumps({"data": d.data, "split": args.split, "checkpoint": args.checkpoint,
                                          "images": len(names), "scores": results}, indent=2))
    return 0


def cmd_describe(args) -> int:
    import torch

    from rnnkit.tasks.caption.images import load_image
    from rnnkit.tasks.caption.train import load_captioner

    describer, _ = load_captioner(args.checkpoint, args.device)
    size = describer.data.image_size
    images = torch.from_numpy(__import__("numpy").stack([load_image(p, size) for p in args.images]))
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


def register(subparsers) -> None:
    from rnnkit.cli_args import add_config_arguments, add_config_groups, count, output_file
    from rnnkit.decoding.options import DecodeOptions

    cap = subparsers.add_parser("caption", help="image captioning (Show and Tell, Show, Attend and Tell) on Flickr8k")
    sub = cap.add_subparsers(dest="caption_command", metavar="action", required=True)
    classes = _classes()

    p = sub.add_parser("train", help="train a captioner (CNN encoder from scratch + recurrent decoder)",
                       description="Read the captions and the splits, decode every image once, and train an "
                       "encoder-decoder captioner with teacher forcing, random crops and flips.")
    add_config_groups(p, classes)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="BLEU-1..4 (sacrebleu, all reference captions) on the test split")
    p.add_argument("--checkpoint", required=True, help="run folder or checkpoint folder")
    p.add_argument("--data", default=None, help="Flickr8k-style folder (default: the one the model was trained on)")
    p.add_argument("--split", default="test", help="train, val or test (default: test)")
    p.add_argument("--limit", type=count, default=0, help="score only the first N images of the split (0: all)")
    p.add_argument("--baseline", default=None, help="also score nearest-neighbour captions: pixels, features or both "
                   "(comma-separated)")
    p.add_argument("--examples", type=count, default=3, help="print the first N captions of each decoder")
    p.add_argument("--json", type=output_file, default=None, help="also write the scores to this JSON file")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (default: cpu)")
    add_config_arguments(p, DecodeOptions, "decoding (--decoder takes a comma-separated list, e.g. greedy,beam; "
                         "an empty one with --baseline scores only the baseline)")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("describe", help="caption image files")
    p.add_argument("--checkpoint", required=True, help="run folder or checkpoint folder")
    p.add_argument("images", nargs="+", help="image files (JPEG, PNG, ...; resized to the training size)")
    p.add_argument("--attention", type=output_file, default=None, help="write the first image with one attention map per word (PNG)")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (default: cpu)")
    add_config_arguments(p, DecodeOptions, "decoding")
    p.set_defaults(func=cmd_describe)
