"""The layer-normalised LSTM's fused step (``rnnkit.cells.ln_lstm``), forward and backward, on whole rows.

Forward, with x the input's part (``g_ih * N(W_ih x_t) + b_ih + b_hh``, precomputed for all steps):

    a_k = x_k + g_hh,k * N(W_hk h_{t-1})     i, f, o = σ(a),  g = tanh(a)
    c_t = f c_{t-1} + i g                    h_t = o * tanh(g_c N(c_t) + b_c)

Backward through a normalisation n = (v - mean) r, r = 1/sqrt(var + eps), over H units:

    dv = r * (dn - mean(dn) - n * mean(dn * n))

The normalisations need every unit of a row mid-step, so a program owns whole rows (as the course's GRU,
``gru_course.py``): BB rows, every unit in blocks of BH, phases separated by ``tl.debug_barrier()``.

Dimensions: B batch rows, T steps, H hidden units; gates i, f, g, o (G = 4); a block is BB rows by BH units.

    xp, dxp, dhp  (B, T, 4H)                the gates' input parts and their gradients
    hs, cs        (B, T+1, H)               h_0 .. h_T, c_0 .. c_T
    sv            (B, T, LN_LSTM_SLOTS, H)  saved slots (``rnnkit.kernels.spec``): LN_LSTM_PRODUCT + k,
                                            N(W_hk h_{t-1}) for gate k; LN_LSTM_I, _F, _G, _O, the gates;
                                            LN_LSTM_NC, N(c_t)
    stats         (B, T, LN_LSTM_STATS)     1/std of gate k's recurrent product (slot k) and of c_t
                                            (LN_LSTM_STAT_C)
    dy            (B, T, H)                 dL/d(g_c N(c) + b_c)
    dhc, dcc      (B, H)                    the *whole* dL/dh_t, dL/dc_t from step t+1
"""

from __future__ import annotations

import triton
import triton.language as tl

from rnnkit.kernels.constants import (LN_LSTM_F, LN_LSTM_G, LN_LSTM_I, LN_LSTM_NC, LN_LSTM_O, LN_LSTM_PRODUCT,
                                      LN_LSTM_SLOTS, LN_LSTM_STAT_C, LN_LSTM_STATS)
from rnnkit.kernels.products import times_w_cols, times_w_rows
from rnnkit.kernels.steps.activations import tanh


@triton.jit
def _block_stats(sv_ptr, slot, b, mb, t, T, H, ACC: tl.constexpr, BB: tl.constexpr, BH: tl.constexpr,
                 EPS_: tl.constexpr):
    """Mean and 1/std over the H units of saved slot ``slot`` (two passes): (BB,), (BB,)."""
    total = tl.zeros((BB,), ACC)
    for j0 in range(0, H, BH):
        j = j0 + tl.arange(0, BH)
        total += tl.sum(tl.load(sv_ptr + ((b[:, None] * T + t) * LN_LSTM_SLOTS + slot) * H + j[None, :],
                                mask=mb[:, None] & (j[None, :] < H), other=0.0), axis=1)
    mean = total / H
    sq = tl.zeros((BB,), ACC)
    for j0 in range(0, H, BH):
        j = j0 + tl.arange(0, BH)
        m2 = mb[:, None] & (j[None, :] < H)
        v = tl.load(sv_ptr + ((b[:, None] * T + t) * LN_LSTM_SLOTS + slot) * H + j[None, :], mask=m2, other=0.0)
        sq += tl.sum(tl.where(m2, (v - mean[:, None]) * (v - mean[:, None]), 0.0), axis=1)
    return mean, 1.0 / tl.sqrt(sq / H + EPS_)


@triton.jit
def ln_lstm_forward(t, tile_b,  # the step; the program's block of batch rows
                    xp_ptr,  # (B, T, 4H)
                    w_ptr,  # W_hh (4H, H)
                    gain_hh_ptr,  # g_hh (4H,)
                    gain_c_ptr, bias_c_ptr,  # g_c, b_c (H,)
                    hs_ptr, cs_ptr,  # (B, T+1, H) each
                    sv_ptr,  # (B, T, LN_LSTM_SLOTS, H)
                    stats_ptr,  # (B, T, LN_LSTM_STATS)
                    len_ptr,  # lengths (B,) int32
                    B, T, H, BB: tl.constexpr, BH: tl.constexpr, BK: tl.constexpr, USE_DOT: tl.constexpr,
                    ACC: tl.constexpr, EPS_: tl.constexpr):
    """a = x + g_hh * N(W_hh h_{t-1}) (x: the input's normalised part and the biases, precomputed);
    i, f, o = σ, g = tanh; c = f c + i g; h = o tanh(g_c N(c) + b_c).
    Saves every slot of sv and the row statistics."""
    b = (tile_b * BB + tl.arange(0, BB)).to(tl.int64)
    mb = b < B
    alive = (t < tl.load(len_ptr + b, mask=mb, other=0))[:, None]
    for j0 in range(0, H, BH):  # phase 1: the recurrent products W_hk h_{t-1}, kept in slots 0-3
        j = j0 + tl.arange(0, BH)
        m2 = mb[:, None] & (j[None, :] < H)
        s = sv_ptr + (b[:, None] * T + t) * (LN_LSTM_SLOTS * H) + j[None, :]
        for k in tl.static_range(4):
            tl.store(s + (LN_LSTM_PRODUCT + k) * H, times_w_rows(hs_ptr, (T + 1) * H, t * H, b, mb, w_ptr, k, j, H, BB, BH, BK, USE_DOT, ACC), mask=m2)
    tl.debug_barrier()
    m0, r0 = _block_stats(sv_ptr, LN_LSTM_PRODUCT + 0, b, mb, t, T, H, ACC, BB, BH, EPS_)
    m1, r1 = _block_stats(sv_ptr, LN_LSTM_PRODUCT + 1, b, mb, t, T, H, ACC, BB, BH, EPS_)
    m2_, r2 = _block_stats(sv_ptr, LN_LSTM_PRODUCT + 2, b, mb, t, T, H, ACC, BB, BH, EPS_)
    m3, r3 = _block_stats(sv_ptr, LN_LSTM_PRODUCT + 3, b, mb, t, T, H, ACC, BB, BH, EPS_)
    tl.debug_barrier()
    for j0 in range(0, H, BH):  # phase 2: normalise, the gates, c_t
        j = j0 + tl.arange(0, BH)
        mj = j < H
        m2 = mb[:, None] & mj[None, :]
        s = sv_ptr + (b[:, None] * T + t) * (LN_LSTM_SLOTS * H) + j[None, :]
        x = xp_ptr + (b[:, None] * T + t) * (4 * H) + j[None, :]
        n0 = (tl.load(s + LN_LSTM_PRODUCT * H, mask=m2, other=0.0) - m0[:, None]) * r0[:, None]
        n1 = (tl.load(s + (LN_LSTM_PRODUCT + 1) * H, mask=m2, other=0.0) - m1[:, None]) * r1[:, None]
        n2 = (tl.load(s + (LN_LSTM_PRODUCT + 2) * H, mask=m2, other=0.0) - m2_[:, None]) * r2[:, None]
        n3 = (tl.load(s + (LN_LSTM_PRODUCT + 3) * H, mask=m2, other=0.0) - m3[:, None]) * r3[:, None]
        i = tl.sigmoid(tl.load(x, mask=m2, other=0.0).to(ACC) + tl.load(gain_hh_ptr + j, mask=mj, other=0.0).to(ACC)[None, :] * n0)
        f = tl.sigmoid(tl.load(x + H, mask=m2, other=0.0).to(ACC) + tl.load(gain_hh_ptr + H + j, mask=mj, other=0.0).to(ACC)[None, :] * n1)
        g = tanh(tl.load(x + 2 * H, mask=m2, other=0.0).to(ACC) + tl.load(gain_hh_ptr + 2 * H + j, mask=mj, other=0.0).to(ACC)[None, :] * n2)
        o = tl.sigmoid(tl.load(x + 3 * H, mask=m2, other=0.0).to(ACC) + tl.load(gain_hh_ptr + 3 * H + j, mask=mj, other=0.0).to(ACC)[None, :] * n3)
        tl.store(s + LN_LSTM_PRODUCT * H, n0, mask=m2)
        tl.store(s + (LN_LSTM_PRODUCT + 1) * H, n1, mask=m2)
        tl.store(s + (LN_LSTM_PRODUCT + 2) * H, n2, mask=m2)
        tl.store(s + (LN_LSTM_PRODUCT + 3) * H, n3, mask=m2)
        tl.store(s + LN_LSTM_I * H, i, mask=m2)
        tl.store(s + LN_LSTM_F * H, f, mask=m2)
        tl.store(s + LN_LSTM_G * H, g, mask=m2)
        tl.store(s + LN_LSTM_O * H, o, mask=m2)
        own = (b[:, None] * (T + 1) + t) * H + j[None, :]
        c = f * tl.load(cs_ptr + own, mask=m2, other=0.0) + i * g
        tl.store(s + LN_LSTM_NC * H, c, mask=m2)  # c_t, normalised in place below
    tl.debug_barrier()
    mc, rc = _block_stats(sv_ptr, LN_LSTM_NC, b, mb, t, T, H, ACC, BB, BH, EPS_)
    tl.debug_barrier()
    for j0 in range(0, H, BH):  # phase 3: h_t = o tanh(g_c N(c_t) + b_c)
        j = j0 + tl.arange(0, BH)
        mj = j < H
        m2 = mb[:, None] & mj[None, :]
        s = sv_ptr + (b[:, None] * T + t) * (LN_LSTM_SLOTS * H) + j[None, :]
        c = tl.load(s + LN_LSTM_NC * H, mask=m2, other=0.0)
        nc = (c - mc[:, None]) * rc[:, None]
        tl.store(s + LN_LSTM_NC * H, nc, mask=m2)
        y = tl.load(gain_c_ptr + j, mask=mj, other=0.0).to(ACC)[None, :] * nc \
            + tl.load(bias_c_ptr + j, mask=mj, other=0.0).to(ACC)[None, :]
        h = tl.load(s + LN_LSTM_O * H, mask=m2, other=0.0) * tanh(y)
        own = (b[:, None] * (T + 1) + t) * H + j[None, :]
        tl.store(hs_ptr + own + H, tl.where(alive, h, tl.load(hs_ptr + own, mask=m2, other=0.0)), mask=m2)
        tl.store(cs_ptr + own + H, tl.where(alive, c, tl.load(cs_ptr + own, mask=m2, other=0.0)), mask=m2)
    st = stats_ptr + (b * T + t) * LN_LSTM_STATS
    tl.store(st, r0, mask=mb)
    tl.store(st + 1, r1, mask=mb)
    tl.store(st + 2, r2, mask=mb)
    tl.store(st + 3, r3, mask=mb)
    tl.store(st + LN_LSTM_STAT_C, rc, mask=mb)
    tl.debug_barrier()


@triton.jit
def _ln_back(dxp_ptr, dhp_ptr, sv_ptr, gain_hh_ptr, k, A, Bs, r, b, t, j, m2, alive, T, H, ACC: tl.constexpr):
    """d(W_hk h) = r_k (dn - mean(dn) - n mean(dn n)), dn = g_hh,k * dL/da_k: through N of gate k's product."""
    n = tl.load(sv_ptr + ((b[:, None] * T + t) * LN_LSTM_SLOTS + (LN_LSTM_PRODUCT + k)) * H + j[None, :], mask=m2, other=0.0)
    dn = tl.load(dxp_ptr + (b[:, None] * T + t) * (4 * H) + k * H + j[None, :], mask=m2, other=0.0) \
        * tl.load(gain_hh_ptr + k * H + j, mask=j < H, other=0.0).to(ACC)[None, :]
    d = r[:, None] * (dn - A[:, None] / H - n * Bs[:, None] / H)
    tl.store(dhp_ptr + (b[:, None] * T + t) * (4 * H) + k * H + j[None, :], tl.where(alive, d, 0.0), mask=m2)


@triton.jit
def ln_lstm_backward(t, tile_b,  # the step; the program's block of batch rows
                     w_ptr,  # W_hh (4H, H)
                     gain_hh_ptr,  # g_hh (4H,)
                     gain_c_ptr, bias_c_ptr,  # g_c, b_c (H,)
                     dhs_ptr, dcs_ptr,  # dL/dhs, dL/dcs (B, T+1, H)
                     dhc_ptr, dcc_ptr,  # carries (B, H): the whole dL/dh_t, dL/dc_t; out: at t-1
                     dxp_ptr, dhp_ptr,  # out: dL/dx_k, dL/d(W_hk h_{t-1}) (B, T, 4H)
                     dy_ptr,  # out: dL/d(g_c N(c) + b_c) (B, T, H)
                     hs_ptr, cs_ptr,  # (B, T+1, H) each
                     sv_ptr,  # (B, T, LN_LSTM_SLOTS, H)
                     stats_ptr,  # (B, T, LN_LSTM_STATS)
                     len_ptr,  # lengths (B,) int32
                     B, T, H, BB: tl.constexpr, BH: tl.constexpr, BK: tl.constexpr, USE_DOT: tl.constexpr,
                     ACC: tl.constexpr):
    """Backward step t of the program's rows, from the saved slots and statistics."""
    b = (tile_b * BB + tl.arange(0, BB)).to(tl.int64)
    mb = b < B
    alive = (t < tl.load(len_ptr + b, mask=mb, other=0))[:, None]
    st = stats_ptr + (b * T + t) * LN_LSTM_STATS
    r0, r1 = tl.load(st, mask=mb, other=0.0), tl.load(st + 1, mask=mb, other=0.0)
    r2, r3 = tl.load(st + 2, mask=mb, other=0.0), tl.load(st + 3, mask=mb, other=0.0)
    rc = tl.load(st + LN_LSTM_STAT_C, mask=mb, other=0.0)
    A, Bs = tl.zeros((BB,), ACC), tl.zeros((BB,), ACC)
    for j0 in range(0, H, BH):  # phase 1: through h = o tanh(y), y = g_c N(c) + b_c
        j = j0 + tl.arange(0, BH)
        mj = j < H
        m2 = mb[:, None] & mj[None, :]
        own = (b[:, None] * (T + 1) + t) * H + j[None, :]
        dh = tl.load(dhs_ptr + own + H, mask=m2, other=0.0).to(ACC) + tl.load(dhc_ptr + b[:, None] * H + j[None, :], mask=m2, other=0.0)
        s = sv_ptr + (b[:, None] * T + t) * (LN_LSTM_SLOTS * H) + j[None, :]
        o, nc = tl.load(s + LN_LSTM_O * H, mask=m2, other=0.0), tl.load(s + LN_LSTM_NC * H, mask=m2, other=0.0)
        gc = tl.load(gain_c_ptr + j, mask=mj, other=0.0).to(ACC)[None, :]
        ty = tanh(gc * nc + tl.load(bias_c_ptr + j, mask=mj, other=0.0).to(ACC)[None, :])
        tl.store(dxp_ptr + (b[:, None] * T + t) * (4 * H) + 3 * H + j[None, :],
                 tl.where(alive, dh * ty * o * (1.0 - o), 0.0), mask=m2)
        dy = tl.where(alive & m2, dh * o * (1.0 - ty * ty), 0.0)
        tl.store(dy_ptr + (b[:, None] * T + t) * H + j[None, :], dy, mask=m2)
        A += tl.sum(dy * gc, axis=1)
        Bs += tl.sum(dy * gc * nc, axis=1)
    tl.debug_barrier()
    A0, A1, A2, A3 = tl.zeros((BB,), ACC), tl.zeros((BB,), ACC), tl.zeros((BB,), ACC), tl.zeros((BB,), ACC)
    B0, B1, B2, B3 = tl.zeros((BB,), ACC), tl.zeros((BB,), ACC), tl.zeros((BB,), ACC), tl.zeros((BB,), ACC)
    for j0 in range(0, H, BH):  # phase 2: dL/dc_t, then the gates i, f, g
        j = j0 + tl.arange(0, BH)
        mj = j < H
        m2 = mb[:, None] & mj[None, :]
        own = (b[:, None] * (T + 1) + t) * H + j[None, :]
        s = sv_ptr + (b[:, None] * T + t) * (LN_LSTM_SLOTS * H) + j[None, :]
        nc = tl.load(s + LN_LSTM_NC * H, mask=m2, other=0.0)
        dnc = tl.load(dy_ptr + (b[:, None] * T + t) * H + j[None, :], mask=m2, other=0.0) \
            * tl.load(gain_c_ptr + j, mask=mj, other=0.0).to(ACC)[None, :]
        dct = tl.load(dcs_ptr + own + H, mask=m2, other=0.0).to(ACC) + tl.load(dcc_ptr + b[:, None] * H + j[None, :], mask=m2, other=0.0) \
            + tl.where(alive, rc[:, None] * (dnc - A[:, None] / H - nc * Bs[:, None] / H), 0.0)
        i = tl.load(s + LN_LSTM_I * H, mask=m2, other=0.0)
        f = tl.load(s + LN_LSTM_F * H, mask=m2, other=0.0)
        g = tl.load(s + LN_LSTM_G * H, mask=m2, other=0.0)
        di = tl.where(alive, dct * g * i * (1.0 - i), 0.0)
        df = tl.where(alive, dct * tl.load(cs_ptr + own, mask=m2, other=0.0) * f * (1.0 - f), 0.0)
        dg = tl.where(alive, dct * i * (1.0 - g * g), 0.0)
        x = dxp_ptr + (b[:, None] * T + t) * (4 * H) + j[None, :]
        tl.store(x, di, mask=m2)
        tl.store(x + H, df, mask=m2)
        tl.store(x + 2 * H, dg, mask=m2)
        do = tl.load(x + 3 * H, mask=m2, other=0.0)
        tl.store(dcc_ptr + b[:, None] * H + j[None, :], tl.where(alive, dct * f, dct), mask=m2)
        gh = gain_hh_ptr + j
        dn0 = di * tl.load(gh, mask=mj, other=0.0).to(ACC)[None, :]
        dn1 = df * tl.load(gh + H, mask=mj, other=0.0).to(ACC)[None, :]
        dn2 = dg * tl.load(gh + 2 * H, mask=mj, other=0.0).to(ACC)[None, :]
        dn3 = do * tl.load(gh + 3 * H, mask=mj, other=0.0).to(ACC)[None, :]
        A0 += tl.sum(dn0, axis=1)
        A1 += tl.sum(dn1, axis=1)
        A2 += tl.sum(dn2, axis=1)
        A3 += tl.sum(dn3, axis=1)
        B0 += tl.sum(dn0 * tl.load(s + LN_LSTM_PRODUCT * H, mask=m2, other=0.0), axis=1)
        B1 += tl.sum(dn1 * tl.load(s + (LN_LSTM_PRODUCT + 1) * H, mask=m2, other=0.0), axis=1)
        B2 += tl.sum(dn2 * tl.load(s + (LN_LSTM_PRODUCT + 2) * H, mask=m2, other=0.0), axis=1)
        B3 += tl.sum(dn3 * tl.load(s + (LN_LSTM_PRODUCT + 3) * H, mask=m2, other=0.0), axis=1)
    tl.debug_barrier()
    for j0 in range(0, H, BH):  # phase 3: through each product's normalisation
        j = j0 + tl.arange(0, BH)
        m2 = mb[:, None] & (j[None, :] < H)
        _ln_back(dxp_ptr, dhp_ptr, sv_ptr, gain_hh_ptr, 0, A0, B0, r0, b, t, j, m2, alive, T, H, ACC)
        _ln_back(dxp_ptr, dhp_ptr, sv_ptr, gain_hh_ptr, 1, A1, B1, r1, b, t, j, m2, alive, T, H, ACC)
        _ln_back(dxp_ptr, dhp_ptr, sv_ptr, gain_hh_ptr, 2, A2, B2, r2, b, t, j, m2, alive, T, H, ACC)
        _ln_back(dxp_ptr, dhp_ptr, sv_ptr, gain_hh_ptr, 3, A3, B3, r3, b, t, j, m2, alive, T, H, ACC)
    tl.debug_barrier()
    for j0 in range(0, H, BH):  # phase 4: dL/dh_{t-1} = sum_k d(W_hk h) W_hk (a finished row passes dh on)
        j = j0 + tl.arange(0, BH)
        m2 = mb[:, None] & (j[None, :] < H)
        rec = tl.zeros((BB, BH), ACC)
        for k in tl.static_range(4):
            rec += times_w_cols(dhp_ptr, T * 4 * H, t * 4 * H + k * H, b, mb, w_ptr, k, j, H, BB, BH, BK, USE_DOT, ACC)
        carry = dhc_ptr + b[:, None] * H + j[None, :]
        dh = tl.load(dhs_ptr + (b[:, None] * (T + 1) + t + 1) * H + j[None, :], mask=m2, other=0.0).to(ACC) \
            + tl.load(carry, mask=m2, other=0.0)
        tl.store(carry, tl.where(alive, rec, dh), mask=m2)
    tl.debug_barrier()
