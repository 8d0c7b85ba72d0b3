"""The tile cells' fused recurrence: its autograd Function and its launch in either mode.

``FusedRecurrence.apply(xp, w_hh, b_hh, prm, h0, c0, lengths, spec, mode) -> hs (B, T+1, H), cs``
runs the tile kernels (``rnnkit.kernels.launch``) over the whole sequence. ``xp = W_ih x + b_ih`` comes in
precomputed (one GEMM over all steps, differentiated by torch), so the Function owns only what is
sequential. Its backward runs the recurrence in reverse and then forms the weight gradients in one GEMM
each over all steps:

    dW_hh = sum_t dA_t^T h_{t-1}   (dA: (B*T, G*H), H: (B*T, H))       db_hh = sum_t dA_t
    dh_0  = carry + dA_1 W_hh + dL/dh_0                                  peephole: sum_t dP_t * c

Dimensions: B batch rows, T steps, H hidden units, G gates, NS saved activations a unit and step.
Inputs must be CUDA tensors, or any tensor when ``TRITON_INTERPRET=1`` was set before triton was
imported (how the CPU tests run it).
"""

from __future__ import annotations

import torch
import triton

from rnnkit.errors import RnnkitError
from rnnkit.kernels.launch.persistent import backward_persistent_kernel, forward_persistent_kernel
from rnnkit.kernels.launch.step import backward_step_kernel, forward_step_kernel
from rnnkit.kernels.spec import FusedSpec, LaunchMode
from rnnkit.kernels.tiling import (Tiles, check_device, kernel_constants, persistent_tiles, persistent_tiles_for,
                                   run_steps, step_tiles)


def launch_tiles(mode: LaunchMode, B: int, H: int, device, spec: FusedSpec) -> Tiles:
    """The tiles ``mode`` launches for this shape; a one-line error when the persistent tiles do not fit."""
    if not mode.persistent:
        return step_tiles(B, H)
    if mode.sms is not None:
        tiles = persistent_tiles_for(B, H, spec.gates, mode.sms)
    else:
        tiles = persistent_tiles(B, H, device, spec.gates)
    if tiles is None:
        raise RnnkitError(f"the persistent fused kernel does not fit B={B}, H={H} on this GPU (one program per SM, "
                          "W_hh's tile in registers); use engine 'fused-step' or 'fused'")
    return tiles


def launch(step_kernel, persistent_kernel, mode: LaunchMode, T: int, tiles: Tiles, forward: bool, args: tuple,
           const: dict, B: int, H: int, device):
    """Run all T steps (in reverse for the backward): ``STEP``, T launches of the per-step kernel;
    ``PERSISTENT``, one launch of the persistent kernel with its grid barrier; ``sms`` set, the persistent
    kernel once a step without the barrier."""
    if not mode.persistent:
        for t in (range(T) if forward else reversed(range(T))):
            step_kernel[tiles.grid](t, *args, B, T, H, **const)
        return
    count = torch.zeros(1, dtype=torch.int32, device=device)
    run_steps(persistent_kernel, tiles, T, forward, not mode.barrier,
              (*args, count, B, T, H, triton.cdiv(H, tiles.BH)), **const, BARRIER=mode.barrier)


class FusedRecurrence(torch.autograd.Function):
    """``hs, cs = FusedRecurrence.apply(xp, w_hh, b_hh, prm, h0, c0, lengths, spec, mode)``.

    xp (B, T, G*H), w_hh (G*H, H), b_hh (G*H,), prm (3, H) per-unit parameters (peephole weights or
    MTRNN's 1/τ), h0, c0 (B, H), lengths (B,) int32; all float32 (or float64). Returns hs, cs (B, T+1, H)
    with the initial state in row 0 (cs is empty for cells without a memory cell)."""

    @staticmethod
    def forward(ctx, xp, w_hh, b_hh, prm, h0, c0, lengths, spec: FusedSpec, mode: LaunchMode):
        B, T, GH = xp.shape
        H = GH // spec.gates
        tiles = launch_tiles(mode, B, H, xp.device, spec)
        hs = xp.new_empty(B, T + 1, H)
        hs[:, 0] = h0
        cs = xp.new_empty(B, T + 1, H) if spec.has_c else xp.new_empty(0)
        if spec.has_c:
            cs[:, 0] = c0
        sv = xp.new_empty(B, T, spec.saved, H)
        launch(forward_step_kernel, forward_persistent_kernel, mode, T, tiles, True,
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
        launch(backward_step_kernel, backward_persistent_kernel, ctx.mode, T, tiles, False,
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


def fused_recurrence(xp, w_hh, b_hh, prm, h0, c0, lengths, spec: FusedSpec, mode: LaunchMode):
    """Checked entry point: contiguous tensors of one float dtype on a valid device."""
    check_device(xp)
    dtype = xp.dtype
    cast = lambda t: t.to(dtype).contiguous()  # noqa: E731
    c0 = cast(c0) if c0 is not None else xp.new_zeros(0)
    return FusedRecurrence.apply(xp.contiguous(), cast(w_hh), cast(b_hh), cast(prm), cast(h0), c0, lengths, spec, mode)
