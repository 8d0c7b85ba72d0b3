"""Flickr8k-style captions: the captions file (``image#n<TAB>caption``), the split files (one image name
per line), tokenisation and the vocabulary; the decoded images of each split with their captions as word
ids (``CaptionedImages``), batched with every caption of each image (``CaptionBatch``), and their
teacher-forced loss. Torch is imported by the functions that use it.

Lines that cannot be used are skipped, counted by reason and reported in one line, never silently
dropped: Flickr8k's captions file has one known quirk, five captions of ``2258277193_586949ec62.jpg.1``,
an image that does not exist.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from typing import NamedTuple

from rnnkit.data.text import BOS, EOS, TokenVocab, read_utf8
from rnnkit.errors import RnnkitError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")
_ID = re.compile(r"^(?P<image>.+)#(?P<n>\d+)$")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")  # lowercase words, with "dog's"; punctuation dropped


def tokenise(caption: str) -> list[str]:
    """``"A dog's ball ."`` -> ``["a", "dog's", "ball"]``: lowercased words, punctuation dropped."""
    return _WORD.findall(caption.lower())


def image_folder(path) -> set[str]:
    """The image files in ``path``; a one-line error if the folder is missing or holds no image."""
    folder = Path(path)
    if not folder.is_dir():
        raise RnnkitError(f"image folder not found: {folder}; pass --data DIR holding it, or --images NAME")
    names = {n for n in os.listdir(folder) if n.lower().endswith(IMAGE_SUFFIXES)}
    if not names:
        raise RnnkitError(f"image folder {folder} holds no image ({', '.join(IMAGE_SUFFIXES)})")
    return names


@dataclass
class Skips:
    """Lines skipped while reading, counted by reason, with the first example of each reason."""

    counts: Counter = field(default_factory=Counter)
    examples: dict = field(default_factory=dict)

    def add(self, reason: str, example: str) -> None:
        self.counts[reason] += 1
        self.examples.setdefault(reason, example)

    def __len__(self) -> int:
        return sum(self.counts.values())

    def describe(self) -> str:
        return "; ".join(f"{n:,} {reason} (e.g. {self.examples[reason]!r})" for reason, n in self.counts.items())


@dataclass
class Captions:
    """``by_image[name]``: the captions of image ``name``, in file order."""

    by_image: dict[str, list[str]]
    lines: int
    skipped: Skips

    def report(self, path) -> str:
        n = sum(map(len, self.by_image.values()))
        text = f"{path}: {self.lines:,} lines, {n:,} captions of {len(self.by_image):,} images"
        return text + (f"; skipped {len(self.skipped):,}: {self.skipped.describe()}" if self.skipped else "")


def read_captions(path, images: set[str]) -> Captions:
    """Read ``image#n<TAB>caption`` lines; skip lines without a tab, without ``#n``, with no words, or
    whose image is not among ``images`` (the files of the image folder)."""
    path = Path(path)
    if not path.is_file():
        raise RnnkitError(f"captions file not found: {path}; expected lines 'image#n<TAB>caption'")
    by_image: dict[str, list[str]] = {}
    skipped, lines = Skips(), 0
    text = read_utf8(path, "lines 'image#n<TAB>caption'")  # the text rules of every task: UTF-8, no NUL
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        lines += 1
        key, tab, caption = line.partition("\t")
        match = _ID.match(key.strip())
        if not tab:
            skipped.add("without a tab", f"line {number}")
        elif match is None:
            skipped.add("without '#n' after the image name", key)
        elif not tokenise(caption):
            skipped.add("with an empty caption", key)
        elif match["image"] not in images:
            skipped.add("whose image is not in the image folder", match["image"])
        else:
            by_image.setdefault(match["image"], []).append(caption.strip())
    if not by_image:
        raise RnnkitError(f"{path} has no usable caption ({lines:,} lines; {skipped.describe() or 'none'}); "
                          "expected lines 'image#n<TAB>caption' naming files of the image folder")
    return Captions(by_image, lines, skipped)


def read_split(path, captions: Captions, log=print) -> list[str]:
    """The image names of a split file that have captions, in file order; the others are skipped and
    reported; a one-line error if none is known."""
    path = Path(path)
    if not path.is_file():
        raise RnnkitError(f"split file not found: {path}; expected one image name per line")
    names, skipped, seen = [], Skips(), set()
    for line in read_utf8(path, "one image name per line").splitlines():
        name = line.strip()
        if not name or name in seen:
            continue
        seen.add(name)
        if name in captions.by_image:
            names.append(name)
        else:
            skipped.add("without an image or captions", name)
    if not names:
        raise RnnkitError(f"split {path} names no known image: none of its {len(seen):,} names has captions and an "
                          "image file")
    if skipped:
        log(f"{path}: skipped {skipped.describe()}")
    return names


def build_vocab(captions: Captions, names: list[str], min_freq: int) -> TokenVocab:
    """The words of the captions of ``names`` seen at least ``min_freq`` times; ids 0-3 are
    <pad> <unk> <s> </s>, as the decoders expect."""
    if min_freq < 1:
        raise RnnkitError(f"--min-freq must be >= 1, got {min_freq}")
    return TokenVocab.build((tokenise(c) for n in names for c in captions.by_image[n]), min_freq, specials=(BOS, EOS))


def read_data(d, log=print) -> tuple[Captions, dict]:
    """The captions (of existing images only) and the three splits' image names of data config ``d``."""
    root = Path(d.data)
    if not root.is_dir():
        raise RnnkitError(f"--data {root} is not a folder; give the Flickr8k-style folder (e.g. ../shared/data/flickr8k)")
    captions = read_captions(root / d.captions, image_folder(root / d.images))
    log(captions.report(root / d.captions))
    splits = {name: read_split(root / getattr(d, f"{name}_split"), captions, log) for name in ("train", "val", "test")}
    return captions, splits


def split_images(d, splits: dict, log=print) -> dict:
    """The decoded images of each split, ``{"train": (n, S, S, 3) uint8, ...}``, all read (or cached) at once
    so that training, evaluation and the baselines share one cache file."""
    from rnnkit.tasks.caption.images import load_images

    names = splits["train"] + splits["val"] + splits["test"]
    images = load_images(Path(d.data) / d.images, names, d.image_size, d.image_cache, log)
    out, lo = {}, 0
    for name in ("train", "val", "test"):
        out[name], lo = images[lo : lo + len(splits[name])], lo + len(splits[name])
    return out


class CaptionBatch(NamedTuple):
    """The captioner's inputs: ``tgt_in (N, T)`` (``<s> w_1 .. w_n``, 0 pads), the images ``(b, S, S, 3)``
    uint8, and ``owner (N,)``, the image each caption describes."""

    tgt_in: object
    images: object
    owner: object

    @property
    def tokens(self) -> int:
        return int((self.tgt_in != 0).sum())


class CaptionedImages:
    """Images ``(n, S, S, 3)`` uint8 with their captions as word ids: ``batch(indices)`` ->
    ``(CaptionBatch, tgt_out (N, T))`` with every caption of each image; ``tgt_out`` is ``w_1 .. w_n </s>``,
    padded with 0. Training images (``batch`` given a step's generator) are randomly cropped (``pad``) and
    flipped, with ``per_image`` of their captions drawn at random (0: all)."""

    def __init__(self, names: list[str], images, captions: Captions, vocab: TokenVocab, max_words: int = 0,
                 pad: int = 0, flip: bool = False, per_image: int = 0):
        self.names, self.images = names, images
        cut = (lambda w: w[:max_words]) if max_words > 0 else (lambda w: w)
        self.captions = [[vocab.encode(cut(tokenise(c))) for c in captions.by_image[n]] for n in names]
        self.references = [[" ".join(tokenise(c)) for c in captions.by_image[n]] for n in names]
        self.pad, self.flip, self.per_image = pad, flip, per_image

    def __len__(self) -> int:
        return len(self.names)

    def batch(self, indices, generator=None):
        """Images ``indices``; with a ``generator`` (a training step's), augmented as configured."""
        indices = list(indices)
        if generator is None:
            return self.read(indices)
        import torch

        from rnnkit.tasks.caption.images import augment

        images = augment(self.images[indices], self.pad, self.flip, generator)
        chosen = None
        if self.per_image:
            counts = [len(self.captions[i]) for i in indices]
            chosen = [torch.randperm(n, generator=generator)[: self.per_image].sort().values.tolist() for n in counts]
        return self.read(indices, images, chosen)

    def read(self, indices, images=None, chosen: list[list[int]] | None = None):
        """``chosen[k]``: which captions of the k-th image to use (default: all); ``images``: the images
        themselves (default: the stored ones)."""
        import torch

        from rnnkit.data.batching import pad_sequences
        from rnnkit.models.captioner import BOS_ID, EOS_ID, PAD_ID

        indices = list(indices)
        chosen = chosen or [range(len(self.captions[i])) for i in indices]
        ids = [self.captions[i][j] for i, js in zip(indices, chosen) for j in js]
        owner = torch.tensor([k for k, js in enumerate(chosen) for _ in js], dtype=torch.long)
        tgt_in, _ = pad_sequences([[BOS_ID, *c] for c in ids], PAD_ID)  # (N, T)
        tgt_out, _ = pad_sequences([[*c, EOS_ID] for c in ids], PAD_ID)  # (N, T)
        images = self.images[indices] if images is None else images
        return CaptionBatch(tgt_in, images, owner), tgt_out

    def share(self, inputs, targets, rank: int, size: int):
        """Under torchrun: rank ``rank``'s images of a batch with their captions. Its loss, a mean over
        its caption words, is weighted by ``size`` x its share of the batch's words, so DDP's average is
        the batch's word mean (the attention regulariser, a mean over images, is weighted alike)."""
        from rnnkit.models.captioner import PAD_ID
        from rnnkit.train.distributed import span

        tgt_in, images, owner = inputs  # (N, T), (b, S, S, 3), (N,)
        lo, hi, own = span(images.shape[0], rank, size)
        mine = (owner >= lo) & (owner < hi)  # (N,): the captions of this rank's images
        words = (targets[mine] != PAD_ID).sum() / (targets != PAD_ID).sum()
        batch = CaptionBatch(tgt_in[mine], images[lo:hi], owner[mine] - lo)
        return batch, targets[mine], size * float(words) if own else 0.0


def caption_loss(model, data: CaptionedImages, limit: int = 0, batch_size: int = 64) -> float:
    """Mean cross-entropy per word (``</s>`` included) over all captions of the first ``limit`` images
    (0: all), teacher forced, without the attention regulariser: nats per word."""
    import torch

    from rnnkit.models.captioner import PAD_ID

    model.eval()
    device = next(model.parameters()).device
    n = min(limit, len(data)) if limit else len(data)
    total, count = 0.0, 0
    with torch.no_grad():
        for lo in range(0, n, batch_size):
            (tgt_in, images, owner), tgt_out = data.batch(range(lo, min(lo + batch_size, n)))
            state = model.encode(images.to(device), owner.to(device))
            log_probs, _ = model.decode(state, tgt_in.to(device))  # (N, T, V)
            real = tgt_out.to(device) != PAD_ID
            total += float(-log_probs.gather(-1, tgt_out.to(device).unsqueeze(-1)).squeeze(-1)[real].sum())
            count += int(real.sum())
    return total / max(count, 1)
