"""One step of one tile of the fused recurrence, forward and backward: the cell-agnostic loop body that
both launch modes (``rnnkit.kernels.launch.step``, ``rnnkit.kernels.launch.persistent``) call each step.

Dimensions: B batch rows, T steps, H hidden units, G gates (1 Elman, 3 GRU, 4 LSTM), NS saved activations a
unit and step; a tile is BB rows of the batch by BH hidden units, HP = H rounded up to a power of two, BK the
units of h_{t-1} a streamed chunk of the recurrent product reads.

A tile owns its units' rows of every gate of W_hh, so the cell's pointwise step (``rnnkit.kernels.steps``)
needs nothing from other tiles within a step. Between steps, every tile reads the whole previous state
``h_{t-1}`` (B rows, all H units) from global memory.

Buffers (float32, or float64 for float64 inputs), written by the forward and read by the backward:

    xp  (B, T, G*H)    x_k = W_ih x_t + b_ih, for all steps (one GEMM, outside the kernel)
    hs  (B, T+1, H)    h_0, h_1, ..., h_T (rows past their length keep their last state)
    cs  (B, T+1, H)    c_0, ..., c_T for the LSTM family
    sv  (B, T, NS, H)  the cell's saved activations (its gates)

Forward step t of a tile: ``a_k = h_{t-1} W_hk^T + b_hk`` for its units, then the cell's step, then
``h_t = alive ? h_t : h_{t-1}`` with ``alive = t < length``.

Backward step t (from T-1 down to 0), with ``dHP (B, T, G*H)`` the gradients of the recurrent
pre-activations a: dL/dh_t = dHS[t+1] (outputs and final state) + the elementwise carry from step
t+1 + ``dHP[t+1] W_hh`` (the tile's columns of W_hh, all G*H rows); then the cell's backward gives
dXP[t] and dHP[t], and the new carries. The weight gradients are one GEMM each over all steps, outside.

The compile-time constants (``rnnkit.kernels.tiling.kernel_constants``): the cell's ``CELL, ACT, LEAKY,
PEEP, COUPLED, G, NS, HAS_C`` (``rnnkit.kernels.spec.FusedSpec``) and the tile's ``BB, BH, HP, BK, USE_DOT,
ACC``; ``RESIDENT`` (W_hh's tile in registers) and ``VOLATILE`` (other programs write h during the launch)
are set by the launch mode.
"""

from __future__ import annotations

import triton
import triton.language as tl

from rnnkit.kernels.products import recurrent_grad, recurrent_products
from rnnkit.kernels.steps import cell_backward, cell_forward


@triton.jit
def forward_tile(t, tile_b, tile_h,  # the step; the tile's block of batch rows and of units
                 W0, W1, W2, W3,  # RESIDENT: gate k's rows of W_hh for the tile's units, (BH, HP); else unused
                 w_ptr,  # W_hh (G*H, H)
                 xp_ptr,  # (B, T, G*H)
                 bhh_ptr,  # b_hh (G*H,)
                 prm_ptr,  # per-unit parameters (3, H): peephole weights or MTRNN's 1/τ
                 hs_ptr, cs_ptr,  # (B, T+1, H) each; cs unused without HAS_C
                 sv_ptr,  # (B, T, NS, H)
                 len_ptr,  # lengths (B,) int32
                 B, T, H, CELL: tl.constexpr, ACT: tl.constexpr, LEAKY: tl.constexpr, PEEP: tl.constexpr,
                 COUPLED: tl.constexpr, G: tl.constexpr, NS: tl.constexpr, HAS_C: tl.constexpr,
                 BB: tl.constexpr, BH: tl.constexpr, HP: tl.constexpr, BK: tl.constexpr, USE_DOT: tl.constexpr,
                 RESIDENT: tl.constexpr, VOLATILE: tl.constexpr, ACC: tl.constexpr):
    """Step t of one tile: reads h_{t-1} (all units), writes h_t, c_t (its units) and the saved gates."""
    b = (tile_b * BB + tl.arange(0, BB)).to(tl.int64)  # (BB,)
    j = tile_h * BH + tl.arange(0, BH)  # (BH,)
    mb, mj = b < B, j < H
    m2 = mb[:, None] & mj[None, :]
    own = (b[:, None] * (T + 1) + t) * H + j[None, :]  # this tile's units at t-1 in hs / cs
    h_prev = tl.load(hs_ptr + own, mask=m2, other=0.0).to(ACC)  # (BB, BH)
    c_prev = h_prev * 0.0
    if HAS_C:
        c_prev = tl.load(cs_ptr + own, mask=m2, other=0.0).to(ACC)
    xrow = (b[:, None] * T + t) * (G * H) + j[None, :]  # gate 0 of this tile in xp (B, T, G*H)
    zero = h_prev * 0.0
    x1, x2, x3 = zero, zero, zero
    a0, a1, a2, a3 = recurrent_products(t, b, mb, j, W0, W1, W2, W3, w_ptr, hs_ptr, T, H, G, RESIDENT, BB, BH, HP,
                                        BK, USE_DOT, VOLATILE, ACC)  # h_{t-1} W_hk^T, every gate
    x0 = tl.load(xp_ptr + xrow, mask=m2, other=0.0).to(ACC)
    a0 += tl.load(bhh_ptr + j, mask=mj, other=0.0).to(ACC)[None, :]
    if G > 1:
        x1 = tl.load(xp_ptr + xrow + H, mask=m2, other=0.0).to(ACC)
        a1 += tl.load(bhh_ptr + H + j, mask=mj, other=0.0).to(ACC)[None, :]
    if G > 2:
        x2 = tl.load(xp_ptr + xrow + 2 * H, mask=m2, other=0.0).to(ACC)
        a2 += tl.load(bhh_ptr + 2 * H + j, mask=mj, other=0.0).to(ACC)[None, :]
    if G > 3:
        x3 = tl.load(xp_ptr + xrow + 3 * H, mask=m2, other=0.0).to(ACC)
        a3 += tl.load(bhh_ptr + 3 * H + j, mask=mj, other=0.0).to(ACC)[None, :]
    p0 = tl.load(prm_ptr + j, mask=mj, other=0.0).to(ACC)[None, :]  # per-unit parameters (3, H)
    p1 = tl.load(prm_ptr + H + j, mask=mj, other=0.0).to(ACC)[None, :]
    p2 = tl.load(prm_ptr + 2 * H + j, mask=mj, other=0.0).to(ACC)[None, :]
    h, c, s0, s1, s2, s3 = cell_forward(x0, x1, x2, x3, a0, a1, a2, a3, h_prev, c_prev, p0, p1, p2,
                                        CELL, ACT, LEAKY, PEEP, COUPLED)
    alive = (t < tl.load(len_ptr + b, mask=mb, other=0))[:, None]  # (BB, 1)
    tl.store(hs_ptr + own + H, tl.where(alive, h, h_prev), mask=m2)
    if HAS_C:
        tl.store(cs_ptr + own + H, tl.where(alive, c, c_prev), mask=m2)
    srow = (b[:, None] * T + t) * (NS * H) + j[None, :]  # sv (B, T, NS, H)
    tl.store(sv_ptr + srow, s0, mask=m2)
    if NS > 1:
        tl.store(sv_ptr + srow + H, s1, mask=m2)
    if NS > 2:
        tl.store(sv_ptr + srow + 2 * H, s2, mask=m2)
    if NS > 3:
        tl.store(sv_ptr + srow + 3 * H, s3, mask=m2)


@triton.jit
def backward_tile(t, tile_b, tile_h,  # the step; the tile's block of batch rows and of units
                  V0, V1, V2, V3,  # RESIDENT: gate k's block of W_hh, the tile's columns, (HP, BH); else unused
                  w_ptr,  # W_hh (G*H, H)
                  dhs_ptr, dcs_ptr,  # dL/dhs, dL/dcs (B, T+1, H): from the outputs and the final state
                  dhc_ptr, dcc_ptr,  # carries (B, H): the elementwise parts of dL/dh_t, dL/dc_t from step t+1
                  dxp_ptr, dhp_ptr,  # out: dL/dx_k, dL/da_k (B, T, G*H)
                  prm_ptr,  # per-unit parameters (3, H)
                  hs_ptr, cs_ptr,  # (B, T+1, H) each
                  sv_ptr,  # (B, T, NS, H)
                  len_ptr,  # lengths (B,) int32
                  B, T, H, CELL: tl.constexpr, ACT: tl.constexpr, LEAKY: tl.constexpr, PEEP: tl.constexpr,
                  COUPLED: tl.constexpr, G: tl.constexpr, NS: tl.constexpr, HAS_C: tl.constexpr,
                  BB: tl.constexpr, BH: tl.constexpr, HP: tl.constexpr, BK: tl.constexpr, USE_DOT: tl.constexpr,
                  RESIDENT: tl.constexpr, VOLATILE: tl.constexpr, ACC: tl.constexpr):
    """Backward step t of one tile: reads dL/da at t+1 (all units), writes dL/dx, dL/da at t and the carries
    (its units)."""
    b = (tile_b * BB + tl.arange(0, BB)).to(tl.int64)
    j = tile_h * BH + tl.arange(0, BH)
    mb, mj = b < B, j < H
    m2 = mb[:, None] & mj[None, :]
    # dHP[t+1] W_hh: the gradient reaching h_t through step t+1's recurrent product (zero at t = T-1)
    dh_rec = recurrent_grad(t, b, mb, j, V0, V1, V2, V3, w_ptr, dhp_ptr, T, H, G, RESIDENT, BB, BH, HP, BK, USE_DOT,
                            VOLATILE, ACC)
    own = (b[:, None] * (T + 1) + t) * H + j[None, :]  # unit j at t-1 in hs (B, T+1, H); + H is t
    carry = b[:, None] * H + j[None, :]
    dh = tl.load(dhs_ptr + own + H, mask=m2, other=0.0).to(ACC) + tl.load(dhc_ptr + carry, mask=m2, other=0.0) + dh_rec
    h = tl.load(hs_ptr + own + H, mask=m2, other=0.0).to(ACC)
    h_prev = tl.load(hs_ptr + own, mask=m2, other=0.0).to(ACC)
    zero = dh * 0.0
    dc, c, c_prev = zero, zero, zero
    if HAS_C:
        dc = tl.load(dcs_ptr + own + H, mask=m2, other=0.0).to(ACC) + tl.load(dcc_ptr + carry, mask=m2, other=0.0)
        c = tl.load(cs_ptr + own + H, mask=m2, other=0.0).to(ACC)
        c_prev = tl.load(cs_ptr + own, mask=m2, other=0.0).to(ACC)
    srow = (b[:, None] * T + t) * (NS * H) + j[None, :]
    s1, s2, s3 = zero, zero, zero
    s0 = tl.load(sv_ptr + srow, mask=m2, other=0.0)
    if NS > 1:
        s1 = tl.load(sv_ptr + srow + H, mask=m2, other=0.0)
    if NS > 2:
        s2 = tl.load(sv_ptr + srow + 2 * H, mask=m2, other=0.0)
    if NS > 3:
        s3 = tl.load(sv_ptr + srow + 3 * H, mask=m2, other=0.0)
    p0 = tl.load(prm_ptr + j, mask=mj, other=0.0).to(ACC)[None, :]
    p1 = tl.load(prm_ptr + H + j, mask=mj, other=0.0).to(ACC)[None, :]
    p2 = tl.load(prm_ptr + 2 * H + j, mask=mj, other=0.0).to(ACC)[None, :]
    dx0, dx1, dx2, dx3, da0, da1, da2, da3, dh_prev, dc_prev = cell_backward(
        dh, dc, s0, s1, s2, s3, h, c, h_prev, c_prev, p0, p1, p2, CELL, ACT, LEAKY, PEEP, COUPLED)
    alive = (t < tl.load(len_ptr + b, mask=mb, other=0))[:, None]  # a finished row's step is the identity
    tl.store(dhc_ptr + carry, tl.where(alive, dh_prev, dh), mask=m2)
    if HAS_C:
        tl.store(dcc_ptr + carry, tl.where(alive, dc_prev, dc), mask=m2)
    grow = (b[:, None] * T + t) * (G * H) + j[None, :]
    tl.store(dxp_ptr + grow, tl.where(alive, dx0, 0.0), mask=m2)
    tl.store(dhp_ptr + grow, tl.where(alive, da0, 0.0), mask=m2)
    if G > 1:
        tl.store(dxp_ptr + grow + H, tl.where(alive, dx1, 0.0), mask=m2)
        tl.store(dhp_ptr + grow + H, tl.where(alive, da1, 0.0), mask=m2)
    if G > 2:
        tl.store(dxp_ptr + grow + 2 * H, tl.where(alive, dx2, 0.0), mask=m2)
        tl.store(dhp_ptr + grow + 2 * H, tl.where(alive, da2, 0.0), mask=m2)
    if G > 3:
        tl.store(dxp_ptr + grow + 3 * H, tl.where(alive, dx3, 0.0), mask=m2)
        tl.store(dhp_ptr + grow + 3 * H, tl.where(alive, da3, 0.0), mask=m2)
