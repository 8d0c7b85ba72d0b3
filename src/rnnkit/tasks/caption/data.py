"""Flickr8k-style captions: the captions file (``image#n<TAB>caption``), the split files (one image name
per line), tokenisation and the vocabulary. Pure Python, no torch.

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

from rnnkit.data.text import BOS, EOS, TokenVocab
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
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
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
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
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
