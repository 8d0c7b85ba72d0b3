"""The course's GRU fused step, reset before the product (``rnnkit.cells.GRUCell(reset_after=False)``),
forward and backward, on whole rows:

    r, z = σ(x + W h_{t-1} + b)     n = tanh(x_n + W_hn (r ⊙ h_{t-1}) + b_hn)     h_t = (1 - z) n + z h_{t-1}

r of every unit comes before the candidate's product, so a program owns whole rows: BB rows of the batch,
every unit, walked in blocks of BH units (the ``for j0`` loops below), its phases separated by the
program's own ``tl.debug_barrier()``. Rows are independent, so neither launch mode needs a grid barrier
(``rnnkit.kernels.rows`` launches it). W_hh is read from memory (L2) each step, streamed in chunks of BK.

Dimensions: B batch rows, T steps, H hidden units; gates r, z, n (G = 3); a block is BB rows by BH units.

    xp, dxp, dhp  (B, T, 3H)                 the gates' input parts and their gradients
    hs            (B, T+1, H)                h_0 .. h_T
    sv            (B, T, GRU_COURSE_SLOTS, H)  saved slots GRU_COURSE_R, _Z, _N (``rnnkit.kernels.spec``)
    work          (B, H)                     scratch: r ⊙ h_{t-1} (forward), dL/dh_{t-1} in parts (backward)
    dhc           (B, H)                     the *whole* dL/dh_t from step t+1
"""

from __future__ import annotations

import triton
import triton.language as tl

from rnnkit.kernels.constants import GRU_COURSE_N, GRU_COURSE_R, GRU_COURSE_SLOTS, GRU_COURSE_Z
from rnnkit.kernels.products import times_w_cols, times_w_rows
from rnnkit.kernels.steps.activations import tanh


@triton.jit
def gru_course_forward(t, tile_b,  # the step; the program's block of batch rows
                       xp_ptr,  # (B, T, 3H)
                       w_ptr,  # W_hh (3H, H)
                       bhh_ptr,  # b_hh (3H,)
                       hs_ptr,  # (B, T+1, H)
                       sv_ptr,  # (B, T, GRU_COURSE_SLOTS, H)
                       work_ptr,  # scratch (B, H)
                       len_ptr,  # lengths (B,) int32
                       B, T, H, BB: tl.constexpr, BH: tl.constexpr, BK: tl.constexpr, USE_DOT: tl.constexpr,
                       ACC: tl.constexpr):
    """Step t of the program's rows: h_t, and the saved r, z, n."""
    b = (tile_b * BB + tl.arange(0, BB)).to(tl.int64)
    mb = b < B
    alive = (t < tl.load(len_ptr + b, mask=mb, other=0))[:, None]
    for j0 in range(0, H, BH):  # phase 1: the gates r, z and r * h_{t-1}
        j = j0 + tl.arange(0, BH)
        m2 = mb[:, None] & (j[None, :] < H)
        x = xp_ptr + (b[:, None] * T + t) * (3 * H) + j[None, :]
        r = tl.sigmoid(tl.load(x, mask=m2, other=0.0).to(ACC) + times_w_rows(hs_ptr, (T + 1) * H, t * H, b, mb, w_ptr, 0, j, H, BB, BH, BK, USE_DOT, ACC)
                       + tl.load(bhh_ptr + j, mask=j < H, other=0.0).to(ACC)[None, :])
        z = tl.sigmoid(tl.load(x + H, mask=m2, other=0.0).to(ACC) + times_w_rows(hs_ptr, (T + 1) * H, t * H, b, mb, w_ptr, 1, j, H, BB, BH, BK, USE_DOT, ACC)
                       + tl.load(bhh_ptr + H + j, mask=j < H, other=0.0).to(ACC)[None, :])
        s = sv_ptr + (b[:, None] * T + t) * (GRU_COURSE_SLOTS * H) + j[None, :]
        tl.store(s + GRU_COURSE_R * H, r, mask=m2)
        tl.store(s + GRU_COURSE_Z * H, z, mask=m2)
        h_prev = tl.load(hs_ptr + (b[:, None] * (T + 1) + t) * H + j[None, :], mask=m2, other=0.0)
        tl.store(work_ptr + b[:, None] * H + j[None, :], r * h_prev, mask=m2)
    tl.debug_barrier()
    for j0 in range(0, H, BH):  # phase 2: the candidate (W_hn times r * h_{t-1}) and the new state
        j = j0 + tl.arange(0, BH)
        m2 = mb[:, None] & (j[None, :] < H)
        a_n = times_w_rows(work_ptr, H, 0, b, mb, w_ptr, 2, j, H, BB, BH, BK, USE_DOT, ACC) \
            + tl.load(bhh_ptr + 2 * H + j, mask=j < H, other=0.0).to(ACC)[None, :]
        n = tanh(tl.load(xp_ptr + (b[:, None] * T + t) * (3 * H) + 2 * H + j[None, :], mask=m2, other=0.0).to(ACC) + a_n)
        s = sv_ptr + (b[:, None] * T + t) * (GRU_COURSE_SLOTS * H) + j[None, :]
        z = tl.load(s + GRU_COURSE_Z * H, mask=m2, other=0.0)
        tl.store(s + GRU_COURSE_N * H, n, mask=m2)
        own = hs_ptr + (b[:, None] * (T + 1) + t) * H + j[None, :]
        h_prev = tl.load(own, mask=m2, other=0.0)
        tl.store(own + H, tl.where(alive, (1.0 - z) * n + z * h_prev, h_prev), mask=m2)
    tl.debug_barrier()


@triton.jit
def gru_course_backward(t, tile_b,  # the step; the program's block of batch rows
                        w_ptr,  # W_hh (3H, H)
                        dhs_ptr,  # dL/dhs (B, T+1, H)
                        dhc_ptr,  # carry (B, H): the whole dL/dh_t from step t+1; out: dL/dh_{t-1}
                        dxp_ptr, dhp_ptr,  # out: dL/dx_k, dL/da_k (B, T, 3H)
                        hs_ptr,  # (B, T+1, H)
                        sv_ptr,  # (B, T, GRU_COURSE_SLOTS, H)
                        work_ptr,  # scratch (B, H)
                        len_ptr,  # lengths (B,) int32
                        B, T, H, BB: tl.constexpr, BH: tl.constexpr, BK: tl.constexpr, USE_DOT: tl.constexpr,
                        ACC: tl.constexpr):
    b = (tile_b * BB + tl.arange(0, BB)).to(tl.int64)
    mb = b < B
    alive = (t < tl.load(len_ptr + b, mask=mb, other=0))[:, None]
    for j0 in range(0, H, BH):  # phase 1: through h = (1 - z) n + z h_{t-1}
        j = j0 + tl.arange(0, BH)
        m2 = mb[:, None] & (j[None, :] < H)
        own = (b[:, None] * (T + 1) + t) * H + j[None, :]
        dh = tl.load(dhs_ptr + own + H, mask=m2, other=0.0).to(ACC) + tl.load(dhc_ptr + b[:, None] * H + j[None, :], mask=m2, other=0.0)
        s = sv_ptr + (b[:, None] * T + t) * (GRU_COURSE_SLOTS * H) + j[None, :]
        z, n = tl.load(s + GRU_COURSE_Z * H, mask=m2, other=0.0), tl.load(s + GRU_COURSE_N * H, mask=m2, other=0.0)
        h_prev = tl.load(hs_ptr + own, mask=m2, other=0.0)
        dz = tl.where(alive, dh * (h_prev - n) * z * (1.0 - z), 0.0)
        dn = tl.where(alive, dh * (1.0 - z) * (1.0 - n * n), 0.0)
        g = (b[:, None] * T + t) * (3 * H) + j[None, :]
        tl.store(dxp_ptr + g + H, dz, mask=m2)
        tl.store(dhp_ptr + g + H, dz, mask=m2)
        tl.store(dxp_ptr + g + 2 * H, dn, mask=m2)
        tl.store(dhp_ptr + g + 2 * H, dn, mask=m2)
        tl.store(work_ptr + b[:, None] * H + j[None, :], tl.where(alive, dh * z, dh), mask=m2)
    tl.debug_barrier()
    for j0 in range(0, H, BH):  # phase 2: through r: d(r * h_{t-1}) = dn W_hn
        j = j0 + tl.arange(0, BH)
        m2 = mb[:, None] & (j[None, :] < H)
        drh = times_w_cols(dhp_ptr, T * 3 * H, t * 3 * H + 2 * H, b, mb, w_ptr, 2, j, H, BB, BH, BK, USE_DOT, ACC)
        r = tl.load(sv_ptr + (b[:, None] * T + t) * (GRU_COURSE_SLOTS * H) + GRU_COURSE_R * H + j[None, :], mask=m2,
                    other=0.0)
        h_prev = tl.load(hs_ptr + (b[:, None] * (T + 1) + t) * H + j[None, :], mask=m2, other=0.0)
        dr = tl.where(alive, drh * h_prev * r * (1.0 - r), 0.0)
        g = (b[:, None] * T + t) * (3 * H) + j[None, :]
        tl.store(dxp_ptr + g, dr, mask=m2)
        tl.store(dhp_ptr + g, dr, mask=m2)
        w = work_ptr + b[:, None] * H + j[None, :]
        tl.store(w, tl.load(w, mask=m2, other=0.0) + tl.where(alive, drh * r, 0.0), mask=m2)
    tl.debug_barrier()
    for j0 in range(0, H, BH):  # phase 3: dL/dh_{t-1} whole
        j = j0 + tl.arange(0, BH)
        m2 = mb[:, None] & (j[None, :] < H)
        rec = times_w_cols(dhp_ptr, T * 3 * H, t * 3 * H, b, mb, w_ptr, 0, j, H, BB, BH, BK, USE_DOT, ACC) \
            + times_w_cols(dhp_ptr, T * 3 * H, t * 3 * H + H, b, mb, w_ptr, 1, j, H, BB, BH, BK, USE_DOT, ACC)
        tl.store(dhc_ptr + b[:, None] * H + j[None, :],
                 tl.load(work_ptr + b[:, None] * H + j[None, :], mask=m2, other=0.0) + rec, mask=m2)
    tl.debug_barrier()
