"""Training a captioner: the images of the train and validation splits decoded once, batches of images
with all their captions, the trainer, and loading a trained captioner back.

A run folder holds ``best/`` and ``checkpoint/`` (whose ``config.json`` carries the configs and the
vocabulary), ``metrics.jsonl`` and ``loss.png``. The splits are read again from ``--data`` (the
Flickr8k split files are fixed), so ``--resume`` continues with the same data.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path

import torch

from rnnkit.data.batching import pad_sequences
from rnnkit.data.text import TokenVocab
from rnnkit.errors import RnnkitError
from rnnkit.models.captioner import BOS_ID, EOS_ID, PAD_ID, Captioner
from rnnkit.schema import check_fields
from rnnkit.tasks.caption.config import CaptionDataConfig, CaptionerConfig
from rnnkit.tasks.caption.data import Captions, build_vocab, image_folder, read_captions, read_split, tokenise
from rnnkit.tasks.caption.images import augment, load_images
from rnnkit.tasks.supervised import EpochSampler, make_train_config
from rnnkit.train.checkpoint import load_checkpoint, load_weights, run_folder, saved_config, saved_vocab
from rnnkit.train.distributed import span
from rnnkit.train.trainer import Trainer, resolve_device
from rnnkit.runtime import set_threads

TASK = "caption"


class CaptionedImages:
    """Images ``(n, S, S, 3)`` uint8 with their captions as word ids: ``batch(indices)`` ->
    ``((tgt_in (N, T), images (b, S, S, 3), owner (N,)), tgt_out (N, T))`` with every caption of each
    image; ``tgt_in`` is ``<s> w_1 .. w_n`` and ``tgt_out`` is ``w_1 .. w_n </s>``, padded with 0."""

    def __init__(self, names: list[str], images: torch.Tensor, captions: Captions, vocab: TokenVocab,
                 max_words: int = 0):
        self.names, self.images = names, images
        cut = (lambda w: w[:max_words]) if max_words > 0 else (lambda w: w)
        self.captions = [[vocab.encode(cut(tokenise(c))) for c in captions.by_image[n]] for n in names]
        self.references = [[" ".join(tokenise(c)) for c in captions.by_image[n]] for n in names]

    def __len__(self) -> int:
        return len(self.names)

    def batch(self, indices, images: torch.Tensor | None = None, chosen: list[list[int]] | None = None):
        """``chosen[k]``: which captions of the k-th image to use (default: all)."""
        indices = list(indices)
        chosen = chosen or [range(len(self.captions[i])) for i in indices]
        ids = [self.captions[i][j] for i, js in zip(indices, chosen) for j in js]
        owner = torch.tensor([k for k, js in enumerate(chosen) for _ in js], dtype=torch.long)
        tgt_in, _ = pad_sequences([[BOS_ID, *c] for c in ids], PAD_ID)  # (N, T)
        tgt_out, _ = pad_sequences([[*c, EOS_ID] for c in ids], PAD_ID)  # (N, T)
        images = self.images[indices] if images is None else images
        return (tgt_in, images, owner), tgt_out


class AugmentedBatches:
    """The trainer's data: a shuffled pass over the training images per epoch, each image randomly
    cropped and flipped, with ``per_image`` of its captions drawn at random (0: all); a pure function of
    the step (the generator is seeded by it)."""

    stateful = False

    def __init__(self, data: CaptionedImages, batch_size: int, seed: int, pad: int, flip: bool, per_image: int = 0):
        self.data, self.sampler = data, EpochSampler(len(data), batch_size, seed)
        self.seed, self.pad, self.flip, self.per_image = seed, pad, flip, per_image

    def batch(self, step: int):
        indices = self.sampler.indices(step).tolist()
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + step)
        images = augment(self.data.images[indices], self.pad, self.flip, generator)
        chosen = None
        if self.per_image:
            counts = [len(self.data.captions[i]) for i in indices]
            chosen = [torch.randperm(n, generator=generator)[: self.per_image].sort().values.tolist() for n in counts]
        inputs, targets = self.data.batch(indices, images, chosen)
        return inputs, targets, True

    def share(self, inputs, targets, rank: int, size: int):
        """Under torchrun: rank ``rank``'s images of a batch with their captions. Its loss, a mean over
        its caption words, is weighted by ``size`` x its share of the batch's words, so DDP's average is
        the batch's word mean (the attention regulariser, a mean over images, is weighted alike)."""
        tgt_in, images, owner = inputs  # (N, T), (b, S, S, 3), (N,)
        lo, hi, own = span(images.shape[0], rank, size)
        mine = (owner >= lo) & (owner < hi)  # (N,): the captions of this rank's images
        words = (targets[mine] != PAD_ID).sum() / (targets != PAD_ID).sum()
        return (tgt_in[mine], images[lo:hi], owner[mine] - lo), targets[mine], size * float(words) if own else 0.0


@torch.no_grad()
def caption_loss(model: Captioner, data: CaptionedImages, limit: int = 0, batch_size: int = 64) -> float:
    """Mean cross-entropy per word (``</s>`` included) over all captions of the first ``limit`` images
    (0: all), teacher forced, without the attention regulariser: nats per word."""
    model.eval()
    device = next(model.parameters()).device
    n = min(limit, len(data)) if limit else len(data)
    total, count = 0.0, 0
    for lo in range(0, n, batch_size):
        (tgt_in, images, owner), tgt_out = data.batch(range(lo, min(lo + batch_size, n)))
        state = model.encode(images.to(device), owner.to(device))
        log_probs, _ = model.decode(state, tgt_in.to(device))  # (N, T, V)
        real = tgt_out.to(device) != PAD_ID
        total += float(-log_probs.gather(-1, tgt_out.to(device).unsqueeze(-1)).squeeze(-1)[real].sum())
        count += int(real.sum())
    return total / max(count, 1)


def check_data_config(d: CaptionDataConfig) -> None:
    if d.data is None:
        raise RnnkitError("--data DIR is required: a Flickr8k-style folder with the captions file, the split files "
                          "and the images (e.g. ../shared/data/flickr8k)")
    check_fields(d)


def read_data(d: CaptionDataConfig, log=print) -> tuple[Captions, dict]:
    """The captions (of existing images only) and the three splits' image names."""
    check_data_config(d)
    root = Path(d.data)
    if not root.is_dir():
        raise RnnkitError(f"--data {root} is not a folder; give the Flickr8k-style folder (e.g. ../shared/data/flickr8k)")
    captions = read_captions(root / d.captions, image_folder(root / d.images))
    log(captions.report(root / d.captions))
    splits = {name: read_split(root / getattr(d, f"{name}_split"), captions, log) for name in ("train", "val", "test")}
    return captions, splits


def split_images(d: CaptionDataConfig, splits: dict, log=print) -> dict[str, torch.Tensor]:
    """The decoded images of each split, ``{"train": (n, S, S, 3) uint8, ...}``, all read (or cached) at once
    so that training, evaluation and the baselines share one cache file."""
    names = splits["train"] + splits["val"] + splits["test"]
    images = load_images(Path(d.data) / d.images, names, d.image_size, d.image_cache, log)
    out, lo = {}, 0
    for name in ("train", "val", "test"):
        out[name], lo = images[lo : lo + len(splits[name])], lo + len(splits[name])
    return out


def train_captioner(m: CaptionerConfig, d: CaptionDataConfig, flags, log=print) -> dict:
    """Train as configured; returns the run's summary. Test scores are ``rnnkit caption eval``'s."""
    from rnnkit.tasks.caption.decode import Describer, bleu_scores
    from rnnkit.decoding.options import DecodeOptions

    check_data_config(d)
    torch.manual_seed(flags.seed)
    set_threads(flags.threads)  # 0: torch's default
    run_dir = run_folder(flags.out, "caption", flags.resume, create=False)  # the Trainer makes and locks it
    captions, splits = read_data(d, log)
    if flags.resume:
        _, saved = load_checkpoint(run_dir / "checkpoint")
        vocab = TokenVocab(saved_vocab(saved, "vocab", run_dir))
    else:
        vocab = build_vocab(captions, splits["train"], d.min_freq)
    images = split_images(d, splits, log)
    train = CaptionedImages(splits["train"], images["train"], captions, vocab, d.max_words)
    val = CaptionedImages(splits["val"], images["val"], captions, vocab)
    data = AugmentedBatches(train, flags.batch_size, flags.seed, d.crop_pad, d.flip, d.captions_per_image)
    config = make_train_config(flags, data.sampler.steps_per_epoch, d.epochs)
    model = Captioner(len(vocab), m)
    meta = {"task": TASK, "configs": {"model": asdict(m), "data": asdict(d), "train": asdict(flags)},
            "vocab": vocab.tokens}
    n_eval = min(d.eval_images or len(val), len(val))

    def evaluate(model):
        results = {"val_loss": caption_loss(model, val, n_eval)}
        describer = Describer(model, vocab, d, device=next(model.parameters()).device)
        outputs = describer.sentences(val.images[:n_eval], DecodeOptions(decoder="greedy"))
        results["val_bleu4"] = bleu_scores(outputs, val.references[:n_eval])["bleu4"]
        return results

    trainer = Trainer(model, config, data, evaluate, run_dir, meta)
    if flags.resume:
        trainer.resume()
        log(f"resuming {run_dir} at step {trainer.step}")
    log(f"data: {len(train):,} training images ({sum(map(len, train.captions)):,} captions), {len(val):,} validation "
        f"(the first {n_eval:,} scored at each evaluation); vocabulary {len(vocab):,} words (min frequency "
        f"{d.min_freq}); {data.sampler.steps_per_epoch} steps per epoch")
    grid = model.grid_shape(d.image_size, d.image_size)
    log(f"model: {m.variant} captioner, {m.cell} decoder, image grid {grid[0]}x{grid[1]}, "
        f"{sum(p.numel() for p in model.parameters()):,} parameters, device {trainer.device}")
    summary = trainer.fit()
    summary.update(run_dir=str(run_dir))
    log(f"done ({summary['stopped']}) at step {summary['step']} after {summary['elapsed']:.0f} s; "
        f"best validation loss {summary['best_val_loss']:.4f} nats per word "
        f"(perplexity {math.exp(min(summary['best_val_loss'], 50)):.1f})")
    return summary


def load_captioner(path, device: str = "cpu"):
    """``(Describer, meta)`` from a checkpoint or run folder, the model in eval mode."""
    from rnnkit.tasks.caption.decode import Describer

    weights, meta = load_checkpoint(path, task=TASK, what="a captioning model")
    model_config = saved_config(CaptionerConfig, meta, "configs", "model", where=path)
    data_config = saved_config(CaptionDataConfig, meta, "configs", "data", where=path)
    vocab = TokenVocab(saved_vocab(meta, "vocab", path))
    model = Captioner(len(vocab), model_config)
    load_weights(model, weights, path)
    device = resolve_device(device)
    return Describer(model.to(device), vocab, data_config, device), meta
