"""A small convolutional image encoder, trained from scratch: an image in, a grid of feature vectors out.

The captioner's decoder attends over the grid (Show, Attend and Tell) or starts from its mean (Show and
Tell). No ImageNet-pretrained weights are used: the project cannot download any.

    uint8 image (B, H, W, 3) -> x = (pixel / 255 - 0.5) / 0.25            (B, 3, H, W)
    stage s (s = 1..S):  x <- relu(BN(conv3x3, stride 2 (x)))              halves H and W
                         x <- relu(BN(conv3x3 (x))) + x   (stages >= 3)    a residual block
    features a_i, i = 1..L                                                 (B, L, C), L = H/2^S * W/2^S

Four stages take a 96x96 image to a 6x6 grid (L = 36 positions), each a C-vector describing one
16x16-pixel region (its receptive field is larger).
"""

from __future__ import annotations

import torch
from torch import nn

from rnnkit.errors import RnnkitError


def parse_channels(channels: str | list[int]) -> list[int]:
    """``"32,64,128,256"`` -> ``[32, 64, 128, 256]`` (one stage per entry)."""
    try:
        values = [int(c) for c in channels.split(",")] if isinstance(channels, str) else [int(c) for c in channels]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise RnnkitError(f"channels must be positive integers separated by commas (e.g. 32,64,128,256), got {channels!r}")
    return values


def conv_bn(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(c_out),
                         nn.ReLU(inplace=True))


class CNNEncoder(nn.Module):
    """``forward(images uint8 (B, H, W, 3)) -> features (B, L, C)`` and ``grid_shape(H, W) -> (h, w)``."""

    def __init__(self, channels: str | list[int] = "32,64,128,256"):
        super().__init__()
        sizes = parse_channels(channels)
        stages, c_in = [], 3
        for s, c in enumerate(sizes):
            stage = [conv_bn(c_in, c, 2)]
            if s >= 2:  # a second convolution at the coarser (cheaper) resolutions
                stage.append(conv_bn(c, c, 1))
            stages.append(nn.ModuleList(stage))
            c_in = c
        self.stages = nn.ModuleList(stages)
        self.size = c_in  # C: the feature size

    @staticmethod
    def normalise(images: torch.Tensor) -> torch.Tensor:
        """uint8 ``(B, H, W, 3)`` -> float ``(B, 3, H, W)``, roughly zero mean and unit variance."""
        if images.dim() != 4 or images.shape[-1] != 3:
            raise RnnkitError(f"images must be a (B, H, W, 3) tensor of RGB pixels, got shape {tuple(images.shape)}")
        return (images.permute(0, 3, 1, 2).float() / 255.0 - 0.5) / 0.25

    def grid_shape(self, height: int, width: int) -> tuple[int, int]:
        for _ in self.stages:  # conv 3x3, stride 2, padding 1: n -> ceil(n / 2)
            height, width = (height + 1) // 2, (width + 1) // 2
        return height, width

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.normalise(images)  # (B, 3, H, W)
        for stage in self.stages:
            x = stage[0](x)  # (B, C_s, H / 2^s, W / 2^s)
            for block in stage[1:]:
                x = block(x) + x
        return x.flatten(2).transpose(1, 2)  # (B, L, C)
