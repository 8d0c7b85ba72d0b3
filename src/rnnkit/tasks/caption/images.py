"""Images: decoded once with Pillow into one uint8 tensor ``(N, S, S, 3)`` (8,091 Flickr8k images at 96
pixels are 224 MB), optionally cached as a ``.npy`` file reused across runs, and the training
augmentation (random crop, horizontal flip) applied to uint8 batches.

The cache file's name is a hash of the image folder, the image size and every file's name, size and
modification time, so a changed image or another selection of images never reads a stale cache.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch

from rnnkit.errors import RnnkitError
from rnnkit.train.memory import available_bytes, gb


def load_image(path, size: int) -> np.ndarray:
    """One image as uint8 ``(size, size, 3)`` RGB, resized (bilinear) when it is not already that size."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:  # a header claiming over 2 x 89 M pixels is refused before decoding
            image = image.convert("RGB")
            if image.size != (size, size):
                image = image.resize((size, size), Image.BILINEAR)
            return np.asarray(image, dtype=np.uint8)
    except FileNotFoundError:
        raise RnnkitError(f"image not found: {path}") from None
    except Image.DecompressionBombError as e:
        raise RnnkitError(f"image {path} is too large to decode ({e})") from None
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise RnnkitError(f"cannot read image {path}: {e}; give a JPEG or PNG file") from None


def cache_file(folder: Path, names: list[str], size: int, cache_dir) -> Path | None:
    if cache_dir is None or str(cache_dir).lower() == "none":
        return None
    listing = [str(folder.resolve()), size]
    for name in names:
        st = (folder / name).stat()
        listing.append([name, st.st_size, st.st_mtime_ns])
    key = hashlib.sha1(json.dumps(listing).encode()).hexdigest()[:16]
    return Path(os.path.expanduser(str(cache_dir))) / f"images{size}-{len(names)}-{key}.npy"


def load_images(folder, names: list[str], size: int, cache_dir=None, log=print) -> torch.Tensor:
    """``names`` of ``folder`` as one uint8 tensor ``(N, size, size, 3)``, from the cache when it has them."""
    folder = Path(folder)
    cached = cache_file(folder, names, size, cache_dir) if names else None
    if cached is not None and cached.exists():
        try:
            array = np.load(cached)
            if array.shape == (len(names), size, size, 3) and array.dtype == np.uint8:
                log(f"images: {len(names):,} decoded images read from the cache {cached}")
                return torch.from_numpy(array)
        except (OSError, ValueError):
            pass  # a damaged cache is rebuilt
    need = len(names) * size * size * 3
    free = available_bytes(torch.device("cpu"))
    if need > free // 2:  # the model, its activations and a batch's augmented copy need the rest
        raise RnnkitError(f"{len(names):,} images of {size}x{size} pixels need {gb(need)} decoded, but this machine has "
                          f"{gb(free)} available; lower --image-size or use fewer images")
    array = np.empty((len(names), size, size, 3), dtype=np.uint8)
    for i, name in enumerate(names):
        array[i] = load_image(folder / name, size)
    log(f"images: {len(names):,} decoded from {folder} ({array.nbytes / 1e6:,.0f} MB as uint8)")
    if cached is not None:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_name(cached.name + f".{os.getpid()}.tmp")
            with open(tmp, "wb") as f:
                np.save(f, array)
            os.replace(tmp, cached)
            log(f"images: cached in {cached} (--image-cache none turns the cache off)")
        except OSError as e:
            log(f"warning: could not write the image cache {cached} ({e}); images will be decoded again next run")
    return torch.from_numpy(array)


def augment(images: torch.Tensor, pad: int, flip: bool, generator: torch.Generator) -> torch.Tensor:
    """A random crop and flip of each uint8 image ``(B, H, W, 3)``.

    Crop: the image padded by ``pad`` pixels (repeating the edge) and a random ``H x W`` window cut out,
    done as a gather with clamped indices, ``out[y, x] = img[clamp(y + dy), clamp(x + dx)]`` with
    ``dy, dx`` uniform in ``[-pad, pad]``. Flip: ``out[y, x] = img[y, W - 1 - x]`` with probability 1/2.
    """
    B, H, W, _ = images.shape
    shifts = torch.randint(-pad, pad + 1, (B, 2), generator=generator) if pad > 0 else torch.zeros(B, 2, dtype=torch.long)
    flips = torch.rand(B, generator=generator) < 0.5 if flip else torch.zeros(B, dtype=torch.bool)
    rows0, cols0 = torch.arange(H), torch.arange(W)
    out = torch.empty_like(images)
    for b in range(B):
        rows = (rows0 + shifts[b, 0]).clamp(0, H - 1)
        cols = (cols0 + shifts[b, 1]).clamp(0, W - 1)
        if flips[b]:
            cols = cols.flip(0)
        out[b] = images[b].index_select(0, rows).index_select(1, cols)
    return out
