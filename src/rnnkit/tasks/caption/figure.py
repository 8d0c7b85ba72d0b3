"""The figure of the Show, Attend and Tell paper: the image, then one panel per generated word with the
attention weights α_t over the grid, upsampled to the image and laid over it (bright: attended)."""

from __future__ import annotations

import math

import numpy as np


def upsample(alpha: np.ndarray, grid: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
    """α ``(L,)`` over an ``h x w`` grid -> ``(H, W)`` by bilinear interpolation, scaled to [0, 1]."""
    import torch
    from torch.nn import functional as F

    a = torch.as_tensor(alpha, dtype=torch.float32).view(1, 1, *grid)
    up = F.interpolate(a, size=size, mode="bilinear", align_corners=False)[0, 0].numpy()
    return up / max(float(up.max()), 1e-12)


def plot_caption_attention(image: np.ndarray, words: list[str], alpha: np.ndarray, grid: tuple[int, int], path,
                           columns: int = 5) -> None:
    """``image (H, W, 3)`` uint8, ``alpha (T, L)`` for the ``T`` generated ``words``; writes a PNG to ``path``."""
    from rnnkit.lab.plots import _pyplot

    plt = _pyplot()
    panels = 1 + len(words)
    rows = math.ceil(panels / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.4 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    axes.flat[0].imshow(image)
    axes.flat[0].set_title("image", fontsize=10)
    H, W = image.shape[:2]
    for t, word in enumerate(words):
        ax = axes.flat[t + 1]
        ax.imshow(image)
        ax.imshow(upsample(alpha[t], grid, (H, W)), cmap="gray", alpha=0.65, vmin=0.0, vmax=1.0)
        ax.set_title(f"{word} (max α {alpha[t].max():.2f})", fontsize=9)
    fig.suptitle(" ".join(w for w in words if w != "</s>"), fontsize=11)
    fig.tight_layout()
    from rnnkit.train.files import save_figure

    save_figure(fig, path, dpi=110)  # atomic: no 0-byte file on a full disk
