"""The fused recurrence's autograd Function and its launches (per-step and persistent).

``FusedRecurrence.apply(xp, w_hh, b_hh, prm, h0, c0, lengths, spec, mode) -> hs (B, T+1, H), cs``
runs ``fused_kernels`` over the whole sequence. ``xp = W_ih x + b_ih`` comes in precomputed (one GEMM
over all steps, differentiated by torch), so the Function owns only what is sequential. Its backward
runs the recurrence in reverse and then forms the weight gradients in one GEMM each over all steps:

    dW_hh = sum_t dA_t^T h_{t-1}   (dA: (B*T, G*H), H: (B*T, H))       db_hh = sum_t dA_t
    dh_0  = carry + dA_1 W_hh + dL/dh_0                                  peephole: sum_t dP_t * c

Inputs must be CUDA tensors, or any tensor when ``TRITON_INTERPRET=1`` was set before triton was
imported (how the CPU tests run it).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import triton
import triton.language as tl

from rnnkit.errors import RnnkitError
from rnnkit.kernels import fused_kernels as K
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
    """``fused_kernels``' constants: the cell's (``fused_cells``) and the tile's."""
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


def _tiles(mode: str, B: int, H: int, device, spec: FusedSpec) -> Tiles:
    if mode == "step":
        return step_tiles(B, H)
    if mode.startswith("resident:"):  # the persistent tiles of a GPU with this many SMs (tests)
        tiles = persistent_tiles_for(B, H, spec.gates, int(mode.split(":")[1]))
    else:
        tiles = persistent_tiles(B, H, device, spec.gates)
    if tiles is None:
        raise RnnkitError(f"the persistent fused kernel does not fit B={B}, H={H} on this GPU (one program per SM, "
                          "W_hh's tile in registers); use engine 'fused-step' or 'fused'")
    return tiles


def _launch(step_kernel, persistent_kernel, mode: str, T: int, tiles: Tiles, forward: bool, args: tuple,
            const: dict, B: int, H: int, device):
    """``step``: T launches of the per-step kernel. ``persistent``: one launch of every step, with the grid
    barrier. ``resident:<SMs>``: the persistent kernel and tiles, one launch a step without the barrier
    (how the tests run the persistent code over several programs under the interpreter)."""
    if mode == "step":
        for t in (range(T) if forward else reversed(range(T))):
            step_kernel[tiles.grid](t, *args, B, T, H, **const)
        return
    count = torch.zeros(1, dtype=torch.int32, device=device)
    barrier = mode == "persistent"
    run_steps(persistent_kernel, tiles, T, forward, not barrier, (*args, count, B, T, H, triton.cdiv(H, tiles.BH)),
              **const, BARRIER=barrier)


class FusedRecurrence(torch.autograd.Function):
    """``hs, cs = FusedRecurrence.apply(xp, w_hh, b_hh, prm, h0, c0, lengths, spec, mode)``.

    xp (B, T, G*H), w_hh (G*H, H), b_hh (G*H,), prm (3, H) per-unit parameters (peephole weights or
    MTRNN's 1/τ), h0, c0 (B, H), lengths (B,) int32; all float32 (or float64). Returns hs, cs (B, T+1, H)
    with the initial state in row 0 (cs is empty for cells without a memory cell)."""

    @staticmethod
    def forward(ctx, xp, w_hh, b_hh, prm, h0, c0, lengths, spec: FusedSpec, mode: str):
        B, T, GH = xp.shape
        H = GH // spec.gates
        tiles = _tiles(mode, B, H, xp.device, spec)
        hs = xp.new_empty(B, T + 1, H)
        hs[:, 0] = h0
        cs = xp.new_empty(B, T + 1, H) if spec.has_c else xp.new_empty(0)
        if spec.has_c:
            cs[:, 0] = c0
        sv = xp.new_empty(B, T, spec.saved, H)
        _launch(K.forward_step_kernel, K.forward_persistent_kernel, mode, T, tiles, True,
                (xp, w_hh, b_hh, prm, hs, cs, sv, lengths), kernel_constants(spec, tiles, xp.dtype), B, H, xp.device)
        ctx.save_for_backward(w_hh, prm, hs, cs, sv, lengths)
        ctx.spec, ctx.mode, ctx.tiles = spec, mode, tiles
        if not spec.has_c:
            ctx.mark_non_differentiable(cs)
        return hs, cs

    @staticmethod
    def backward(ctx, dhs, dcs):
        w_hh, prm, hs, cs, sv, lengths = ctx.saved_tensors
        spec, tiles = ctx.spec, ctx.tiles
        B, T1, H = hs.shape
        T, G = T1 - 1, spec.gates
        dhs = torch.zeros_like(hs) if dhs is None else dhs.contiguous()
        dcs = torch.zeros_like(cs) if dcs is None or not spec.has_c else dcs.contiguous()
        dxp = hs.new_empty(B, T, G * H)
        dhp = hs.new_empty(B, T, G * H)
        dhc, dcc = hs.new_zeros(B, H), hs.new_zeros(B, H)  # elementwise carries into h_t, c_t
        _launch(K.backward_step_kernel, K.backward_persistent_kernel, ctx.mode, T, tiles, False,
                (w_hh, dhs, dcs, dhc, dcc, dxp, dhp, prm, hs, cs, sv, lengths), kernel_constants(spec, tiles, hs.dtype), B, H,
                hs.device)
        h_prev = hs[:, :T].reshape(B * T, H)
        dA = dhp.reshape(B * T, G * H)
        d_w = dA.t() @ h_prev  # (G*H, H): one GEMM over every step
        d_b = dA.sum(0)
        d_h0 = dhc + dhp[:, 0] @ w_hh + dhs[:, 0]
        d_c0 = dcc + dcs[:, 0] if spec.has_c else None
        d_prm = None
        if spec.peep and ctx.needs_input_grad[3]:
            dP = dxp.view(B, T, G, H)
            c_prev, c_new = cs[:, :T], cs[:, 1:]
            if spec.coupled:  # (w_cf, w_co, -)
                d_prm = torch.stack([(dP[:, :, 0] * c_prev).sum((0, 1)), (dP[:, :, 2] * c_new).sum((0, 1)),
                                     torch.zeros_like(d_b[:H])])
            else:  # (w_ci, w_cf, w_co)
                d_prm = torch.stack([(dP[:, :, 0] * c_prev).sum((0, 1)), (dP[:, :, 1] * c_prev).sum((0, 1)),
                                     (dP[:, :, 3] * c_new).sum((0, 1))])
        return dxp, d_w, d_b, d_prm, d_h0, d_c0, None, None, None


def fused_recurrence(xp, w_hh, b_hh, prm, h0, c0, lengths, spec: FusedSpec, mode: str):
    """Checked entry point: contiguous tensors of one float dtype on a valid device."""
    check_device(xp)
    if mode not in ("step", "persistent") and not mode.startswith("resident:"):
        raise RnnkitError(f"fused mode must be 'step' or 'persistent', got {mode!r}")
    dtype = xp.dtype
    cast = lambda t: t.to(dtype).contiguous()  # noqa: E731
    c0 = cast(c0) if c0 is not None else xp.new_zeros(0)
    return FusedRecurrence.apply(xp.contiguous(), cast(w_hh), cast(b_hh), cast(prm), cast(h0), c0, lengths, spec, mode)
