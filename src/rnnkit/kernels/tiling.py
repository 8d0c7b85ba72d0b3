"""Tiles and launches of the fused kernels: how a shape is cut into programs, the compile-time constants
every kernel takes, and the loop that launches a ``kernel(t0, steps, ...)`` once or once a step.

Dimensions: B batch rows, H hidden units, G gates; a tile is BB rows by BH units, HP = H rounded up to a
power of two, BK the units a streamed chunk of the recurrent product reads.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import triton
import triton.language as tl

from rnnkit.errors import RnnkitError
from rnnkit.kernels.spec import FusedSpec, interpreted

INTERPRETED = interpreted()  # as triton saw it when imported


class Tiles(NamedTuple):
    BB: int  # batch rows per tile
    BH: int  # hidden units per tile
    HP: int  # H rounded up to a power of two
    BK: int  # units of h_{t-1} a streamed chunk of the recurrent product reads (per-step mode)
    use_dot: bool  # tl.dot (tensor cores) rather than a broadcast multiply-and-sum
    grid: tuple
    warps: int = 4  # warps a program: the persistent kernel spreads its W_hh tile over up to 16


def check_device(t: torch.Tensor) -> None:
    if not (t.is_cuda or INTERPRETED):
        raise RnnkitError("the fused engine runs on a CUDA GPU (or on the CPU under TRITON_INTERPRET=1, set before "
                          "rnnkit is imported, for tests); on a CPU use engine 'torch', 'loop' or 'auto'")


def _pow2(n: int) -> int:
    return triton.next_power_of_2(max(int(n), 1))


def step_tiles(B: int, H: int) -> Tiles:
    """Per-step mode: 16 x 32 tiles on a GPU (tensor cores when the batch fills them)."""
    HP = _pow2(H)
    BB, BH, BK = min(_pow2(B), 16), min(HP, 32), min(HP, 32)
    use_dot = BB >= 16 and BH >= 16 and BK >= 16
    return Tiles(BB, BH, HP, BK, use_dot, (triton.cdiv(B, BB), triton.cdiv(H, BH)))


def persistent_tiles(B: int, H: int, device: torch.device, gates: int) -> Tiles | None:
    """One program per tile, no more programs than SMs (they must all be resident for the grid barrier),
    each holding ``gates * BH * HP`` weights in registers. None when the shape does not fit.

    Under the interpreter programs run one after another, so a barrier would wait forever unless there is
    one program: a single tile covering the whole batch and every unit."""
    if not torch.device(device).type == "cuda":
        HP = _pow2(H)
        return Tiles(_pow2(B), HP, HP, HP, False, (1,))
    return persistent_tiles_for(B, H, gates, torch.cuda.get_device_properties(device).multi_processor_count)


def persistent_tiles_for(B: int, H: int, gates: int, sms: int) -> Tiles | None:
    """The persistent tiles on a GPU with ``sms`` multiprocessors (132 on an H100 SXM)."""
    HP = _pow2(H)
    BB = _pow2(B) if B <= 8 else 16
    n_b = triton.cdiv(B, BB)
    BH = 16 if BB >= 16 else 1
    while BH < HP and n_b * triton.cdiv(H, BH) > sms:
        BH *= 2
    if n_b * triton.cdiv(H, BH) > sms or gates * BH * HP > 32768:  # more than ~128 KB of registers a program
        return None
    use_dot = BB >= 16 and BH >= 16 and HP >= 16
    warps = max(4, min(16, triton.next_power_of_2(gates * BH * HP // 2048)))  # <= ~64 weight registers a thread
    return Tiles(BB, BH, HP, HP, use_dot, (n_b * triton.cdiv(H, BH),), warps)


def tile_constants(tiles: Tiles, dtype: torch.dtype) -> dict:
    """The compile-time constants every fused kernel takes: the tile and the accumulation type (float32, or
    float64 for float64 tensors)."""
    return dict(BB=tiles.BB, BH=tiles.BH, BK=tiles.BK, USE_DOT=tiles.use_dot,
                ACC=tl.float64 if dtype == torch.float64 else tl.float32)


def kernel_constants(spec: FusedSpec, tiles: Tiles, dtype: torch.dtype) -> dict:
    """The tile kernels' constants (``rnnkit.kernels.tile``): the cell's and the tile's."""
    return dict(CELL=spec.cell, ACT=spec.act, LEAKY=spec.leaky, PEEP=spec.peep, COUPLED=spec.coupled, G=spec.gates,
                NS=spec.saved, HAS_C=spec.has_c, HP=tiles.HP, **tile_constants(tiles, dtype))


def run_steps(kernel, tiles: Tiles, T: int, forward: bool, one_at_a_time: bool, args: tuple, **const) -> None:
    """Launch a ``kernel(t0, steps, *args)`` that runs ``steps`` steps from ``t0`` (backwards in the backward):
    once for the whole sequence, or once a step (``one_at_a_time``)."""
    if one_at_a_time:
        for t in (range(T) if forward else reversed(range(T))):
            kernel[tiles.grid](t, 1, *args, **const)
    else:
        kernel[tiles.grid](0 if forward else T - 1, T, *args, **const, num_warps=tiles.warps)


def row_tiles(B: int, H: int) -> Tiles:
    """The whole-row cells' tiles: the per-step tiles, one program per batch tile (a program walks every unit
    of its rows)."""
    tiles = step_tiles(B, H)
    return tiles._replace(grid=tiles.grid[:1])
