"""The image-captioning task (one-to-many), declared: Flickr8k-style images and captions -> an
encoder-decoder captioner trained with teacher forcing, random crops and flips -> BLEU-1..4 of every
decoder (and the nearest-neighbour baselines) on a split.

A run folder holds ``best/`` and ``checkpoint/`` (whose ``config.json`` carries the configs and the
vocabulary), ``metrics.jsonl`` and ``loss.png``. The splits are read again from ``--data`` (the
Flickr8k split files are fixed), so ``--resume`` continues with the same data.
"""

from __future__ import annotations

from rnnkit.errors import RnnkitError
from rnnkit.models.captioner_config import CaptionerConfig
from rnnkit.tasks.caption.config import CaptionDataConfig, CaptionTrainFlags
from rnnkit.tasks.spec import Prepared, Task

SPLITS = ("train", "val", "test")


def check(configs) -> None:
    from rnnkit.models.cnn_encoder import parse_channels

    if configs["data"].data is None:
        raise RnnkitError("--data DIR is required: a Flickr8k-style folder with the captions file, the split files "
                          "and the images (e.g. ../shared/data/flickr8k)")
    try:
        parse_channels(configs["model"].channels)
    except RnnkitError as e:
        raise RnnkitError(f"--{e}") from None


def vocabularies(meta: dict, where) -> dict:
    from rnnkit.data.text import TokenVocab
    from rnnkit.train.checkpoint import saved_vocab

    return {"vocab": TokenVocab(saved_vocab(meta, "vocab", where))}


def prepare(configs, saved, log) -> Prepared:
    import math

    from rnnkit.decoding.options import DecodeOptions
    from rnnkit.tasks.batches import ShuffledBatches
    from rnnkit.tasks.caption.data import CaptionedImages, build_vocab, caption_loss, read_data, split_images
    from rnnkit.tasks.caption.decode import Describer, bleu_scores
    from rnnkit.train.memory import ACTIVATION_FLOATS_PER_UNIT

    d, m, flags = configs["data"], configs["model"], configs["train"]
    captions, splits = read_data(d, log)
    vocab = (vocabularies(saved, flags.out)["vocab"] if saved is not None
             else build_vocab(captions, splits["train"], d.min_freq))
    images = split_images(d, splits, log)
    train = CaptionedImages(splits["train"], images["train"], captions, vocab, d.max_words, d.crop_pad, d.flip,
                            d.captions_per_image)
    val = CaptionedImages(splits["val"], images["val"], captions, vocab)
    batches = ShuffledBatches(train, flags.batch_size, flags.seed)  # a step's crops, flips and captions: its seed
    n_eval = min(d.eval_images or len(val), len(val))

    def evaluate(model):
        results = {"val_loss": caption_loss(model, val, n_eval)}
        describer = Describer(model, vocab, d, device=next(model.parameters()).device)
        outputs = describer.sentences(val.images[:n_eval], DecodeOptions(decoder="greedy"))
        results["val_bleu4"] = bleu_scores(outputs, val.references[:n_eval])["bleu4"]
        return results

    def report(model, summary):
        return (f"done ({summary['stopped']}) at step {summary['step']} after {summary['elapsed']:.0f} s; "
                f"best validation loss {summary['best_val_loss']:.4f} nats per word "
                f"(perplexity {math.exp(min(summary['best_val_loss'], 50)):.1f})")

    per_image = d.captions_per_image or max(map(len, train.captions))
    return Prepared(
        batches=batches, steps_per_epoch=batches.steps_per_epoch, vocabs={"vocab": vocab}, meta={"vocab": vocab.tokens},
        evaluate=evaluate, report=report,
        lines=[f"data: {len(train):,} training images ({sum(map(len, train.captions)):,} captions), {len(val):,} "
               f"validation (the first {n_eval:,} scored at each evaluation); vocabulary {len(vocab):,} words (min "
               f"frequency {d.min_freq}); {batches.steps_per_epoch} steps per epoch"],
        activations=ACTIVATION_FLOATS_PER_UNIT * flags.batch_size * per_image * (d.max_words + 1) * m.rnn.hidden)


def build(configs, vocabs):
    from rnnkit.models.captioner import Captioner

    return Captioner(len(vocabs["vocab"]), configs["model"])


def describe(model, configs, device) -> str:
    from rnnkit.tasks.report import model_size

    m, size = configs["model"], configs["data"].image_size
    grid = model.grid_shape(size, size)
    return (f"model: {m.variant} captioner, {m.rnn.cell} decoder, image grid {grid[0]}x{grid[1]}, "
            f"{model_size(model):,} parameters, device {device}")


def eval_arguments(parser) -> None:
    from rnnkit.cli_args import add_config_arguments, count
    from rnnkit.decoding.options import DecodeOptions

    parser.add_argument("--data", default=None, help="Flickr8k-style folder (default: the one the model was trained on)")
    parser.add_argument("--split", default="test", help="train, val or test (default: test)")
    parser.add_argument("--limit", type=count, default=0, help="score only the first N images of the split (0: all)")
    parser.add_argument("--baseline", default=None, help="also score nearest-neighbour captions: pixels, features or "
                        "both (comma-separated)")
    parser.add_argument("--examples", type=count, default=3, help="print the first N captions of each decoder")
    parser.add_argument("--image-cache", default=None, help="folder for the decoded-image cache (default: "
                        "~/.cache/rnnkit, never the one the checkpoint names; 'none': no cache)")
    add_config_arguments(parser, DecodeOptions, "decoding (--decoder takes a comma-separated list, e.g. greedy,beam; "
                         "an empty one with --baseline scores only the baseline)")


def evaluate(loaded, args) -> dict:
    """BLEU-1..4 of each decoder given (and of the nearest-neighbour baselines) on a split."""
    import sys
    from dataclasses import replace

    from rnnkit.decoding.options import decode_options
    from rnnkit.errors import unknown_choice
    from rnnkit.tasks.caption.data import CaptionedImages, read_data, split_images
    from rnnkit.tasks.caption.config import CaptionDataConfig
    from rnnkit.tasks.caption.decode import NEIGHBOURS, Describer, bleu_scores, nearest_captions, pixel_vectors

    vocab, d = loaded.vocabs["vocab"], loaded.configs["data"]
    describer = Describer(loaded.model, vocab, d)
    if args.split not in SPLITS:
        raise unknown_choice("split", args.split, SPLITS)
    log = lambda text: print(text, file=sys.stderr)  # noqa: E731
    # a checkpoint never chooses where rnnkit writes: the image cache is --image-cache or the default
    d = replace(d, image_cache=args.image_cache or CaptionDataConfig().image_cache)
    if args.data:
        d = replace(d, data=args.data)
    else:  # paths from the checkpoint: said before they are read
        log(f"--data not given: reading {d.data} ({d.captions}, {d.images}/, {getattr(d, args.split + '_split')}), "
            "the folder named in the checkpoint")
    captions, splits = read_data(d, log)
    names = splits[args.split][: args.limit] if args.limit else splits[args.split]
    every = split_images(d, splits, log)
    images = every[args.split][: len(names)]
    references = CaptionedImages(names, images, captions, vocab).references
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
        train_refs = CaptionedImages(splits["train"], train_images, captions, vocab).references
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
    return {"data": d.data, "split": args.split, "images": len(names), "scores": results}


TASK = Task(
    name="caption", help="image captioning (Show and Tell, Show, Attend and Tell) on Flickr8k",
    description="Read the captions and the splits, decode every image once, and train an encoder-decoder captioner "
    "with teacher forcing, random crops and flips.",
    configs={"model": CaptionerConfig, "data": CaptionDataConfig, "train": CaptionTrainFlags},
    check=check, prepare=prepare, vocabularies=vocabularies, build=build, describe=describe,
    eval_arguments=eval_arguments, evaluate=evaluate, rescore_best=False,
    eval_help="BLEU-1..4 (sacrebleu, all reference captions) on the test split",
    verbs="rnnkit.tasks.caption.cli", what="a captioning model")
