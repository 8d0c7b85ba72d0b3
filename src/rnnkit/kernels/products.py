"""The recurrent product of the fused kernels, ``a = h_{t-1} W_hh^T`` for a tile's units, and its
transpose in the backward, ``dh = dA W_hh`` for a tile's columns, in the two ways the launches need:

- **resident**: the tile's block of W_hh was loaded once into registers (the persistent launch),
  ``(BH, HP)`` rows per gate for the forward, ``(HP, BH)`` columns for the backward, and the whole
  state row is read at once;
- **streamed**: W_hh and the state row are read in chunks of BK units, any H (the per-step launch).

A product is ``tl.dot`` (tensor cores; IEEE float32, no TF32) when the tile's sides are at least 16,
else a broadcast multiply-and-sum (small batches).

Dimensions: B batch rows, T steps, H hidden units, G gates; a tile is BB rows by BH units, HP = H rounded up
to a power of two, BK the units of a streamed chunk. ``b (BB,)`` are the tile's rows (``mb`` their mask),
``j (BH,)`` its units; W_hh is ``(G*H, H)``, gate g's block its rows ``g*H .. g*H + H - 1``.
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def rows_times_wt(v, W, USE_DOT: tl.constexpr):
    """``v (BB, K) @ W^T`` for ``W (N, K)``: (BB, N)."""
    if USE_DOT:
        out = tl.dot(v, tl.trans(W), input_precision="ieee")
    else:
        out = tl.sum(v[:, None, :] * W[None, :, :], axis=2)
    return out


@triton.jit
def rows_times_w(v, WT, USE_DOT: tl.constexpr):
    """``v (BB, K) @ WT`` for ``WT (K, N)``: (BB, N)."""
    if USE_DOT:
        out = tl.dot(v, WT, input_precision="ieee")
    else:
        out = tl.sum(v[:, :, None] * WT[None, :, :], axis=1)
    return out


@triton.jit
def w_block(w_ptr, g, rows, cols, H, ACC: tl.constexpr):
    """``W_hh[g*H + rows, cols]``: (len(rows), len(cols)), zero outside H."""
    mask = (rows[:, None] < H) & (cols[None, :] < H)
    return tl.load(w_ptr + (g * H + rows[:, None]) * H + cols[None, :], mask=mask, other=0.0).to(ACC)


@triton.jit
def times_w_rows(src_ptr, row_stride, offset, b, mb, w_ptr, g, j, H, BB: tl.constexpr, BH: tl.constexpr,
                 BK: tl.constexpr, USE_DOT: tl.constexpr, ACC: tl.constexpr):
    """``sum_k src[b, offset + k] W_hh[g*H + j, k]``, a row vector times gate g's rows j: (BB, BH),
    streamed in chunks of BK units."""
    out = tl.zeros((BB, BH), ACC)
    for k0 in range(0, H, BK):
        k = k0 + tl.arange(0, BK)
        v = tl.load(src_ptr + b[:, None] * row_stride + offset + k[None, :], mask=mb[:, None] & (k[None, :] < H),
                    other=0.0).to(ACC)  # (BB, BK)
        out += rows_times_wt(v, w_block(w_ptr, g, j, k, H, ACC), USE_DOT)
    return out


@triton.jit
def times_w_cols(src_ptr, row_stride, offset, b, mb, w_ptr, g, j, H, BB: tl.constexpr, BH: tl.constexpr,
                 BK: tl.constexpr, USE_DOT: tl.constexpr, ACC: tl.constexpr):
    """``sum_k src[b, offset + k] W_hh[g*H + k, j]``, a row vector times gate g's block, columns j: (BB, BH)."""
    out = tl.zeros((BB, BH), ACC)
    for k0 in range(0, H, BK):
        k = k0 + tl.arange(0, BK)
        v = tl.load(src_ptr + b[:, None] * row_stride + offset + k[None, :], mask=mb[:, None] & (k[None, :] < H),
                    other=0.0).to(ACC)
        out += rows_times_w(v, w_block(w_ptr, g, k, j, H, ACC), USE_DOT)
    return out


@triton.jit
def recurrent_products(t, b, mb, j, W0, W1, W2, W3, w_ptr, hs_ptr, T, H, G: tl.constexpr, RESIDENT: tl.constexpr,
                       BB: tl.constexpr, BH: tl.constexpr, HP: tl.constexpr, BK: tl.constexpr, USE_DOT: tl.constexpr,
                       VOLATILE: tl.constexpr, ACC: tl.constexpr):
    """``a_k = h_{t-1} W_hk^T`` for the tile's units j and every gate k < G: four (BB, BH).

    RESIDENT: W_hh's tile is in registers (``W0..W3``, (BH, HP) each) and h_{t-1} is read whole;
    otherwise both are streamed in chunks of BK units of h (the per-step launch, any H; no other program
    writes during it, so its loads need not be volatile)."""
    zero = tl.zeros((BB, BH), ACC)
    a0, a1, a2, a3 = zero, zero, zero, zero
    if RESIDENT:
        k = tl.arange(0, HP)
        h = tl.load(hs_ptr + (b[:, None] * (T + 1) + t) * H + k[None, :], mask=mb[:, None] & (k[None, :] < H),
                    other=0.0, volatile=VOLATILE).to(ACC)  # (BB, HP), written by every tile at step t-1
        a0 = rows_times_wt(h, W0, USE_DOT)
        if G > 1:
            a1 = rows_times_wt(h, W1, USE_DOT)
        if G > 2:
            a2 = rows_times_wt(h, W2, USE_DOT)
        if G > 3:
            a3 = rows_times_wt(h, W3, USE_DOT)
    else:
        a0 = times_w_rows(hs_ptr, (T + 1) * H, t * H, b, mb, w_ptr, 0, j, H, BB, BH, BK, USE_DOT, ACC)
        if G > 1:
            a1 = times_w_rows(hs_ptr, (T + 1) * H, t * H, b, mb, w_ptr, 1, j, H, BB, BH, BK, USE_DOT, ACC)
        if G > 2:
            a2 = times_w_rows(hs_ptr, (T + 1) * H, t * H, b, mb, w_ptr, 2, j, H, BB, BH, BK, USE_DOT, ACC)
        if G > 3:
            a3 = times_w_rows(hs_ptr, (T + 1) * H, t * H, b, mb, w_ptr, 3, j, H, BB, BH, BK, USE_DOT, ACC)
    return a0, a1, a2, a3


@triton.jit
def _grad_chunk(dhp_ptr, g, t, b, mb, k, T, H, G: tl.constexpr, VOLATILE: tl.constexpr, ACC: tl.constexpr):
    """``dHP[b, t+1, g*H + k]``, zero at t = T-1: (BB, len(k))."""
    mask = mb[:, None] & (k[None, :] < H) & (k[None, :] * 0 + t + 1 < T)
    return tl.load(dhp_ptr + (b[:, None] * T + t + 1) * (G * H) + g * H + k[None, :], mask=mask, other=0.0,
                   volatile=VOLATILE).to(ACC)


@triton.jit
def recurrent_grad(t, b, mb, j, V0, V1, V2, V3, w_ptr, dhp_ptr, T, H, G: tl.constexpr, RESIDENT: tl.constexpr,
                   BB: tl.constexpr, BH: tl.constexpr, HP: tl.constexpr, BK: tl.constexpr, USE_DOT: tl.constexpr,
                   VOLATILE: tl.constexpr, ACC: tl.constexpr):
    """``sum_k dHP[t+1]_k W_hk`` for the tile's units j: the gradient reaching h_t through step t+1, (BB, BH).
    RESIDENT: ``V0..V3`` (HP, BH) hold the tile's columns of W_hh; otherwise streamed in chunks of BK."""
    out = tl.zeros((BB, BH), ACC)
    if RESIDENT:
        k = tl.arange(0, HP)
        out += rows_times_w(_grad_chunk(dhp_ptr, 0, t, b, mb, k, T, H, G, VOLATILE, ACC), V0, USE_DOT)
        if G > 1:
            out += rows_times_w(_grad_chunk(dhp_ptr, 1, t, b, mb, k, T, H, G, VOLATILE, ACC), V1, USE_DOT)
        if G > 2:
            out += rows_times_w(_grad_chunk(dhp_ptr, 2, t, b, mb, k, T, H, G, VOLATILE, ACC), V2, USE_DOT)
        if G > 3:
            out += rows_times_w(_grad_chunk(dhp_ptr, 3, t, b, mb, k, T, H, G, VOLATILE, ACC), V3, USE_DOT)
    elif t + 1 < T:
        for g in tl.static_range(G):
            out += times_w_cols(dhp_ptr, T * G * H, (t + 1) * G * H + g * H, b, mb, w_ptr, g, j, H, BB, BH, BK,
                                USE_DOT, ACC)
    return out


@triton.jit
def _block(w_ptr, k, tile_h, H, ROWS: tl.constexpr, ACC: tl.constexpr, BH: tl.constexpr, HP: tl.constexpr):
    """Gate k's block for the tile's units j: its rows ``W[k*H + j, :]`` (BH, HP), or columns (HP, BH)."""
    j = tile_h * BH + tl.arange(0, BH)
    every = tl.arange(0, HP)
    if ROWS:
        W = w_block(w_ptr, k, j, every, H, ACC)
    else:
        W = w_block(w_ptr, k, every, j, H, ACC)
    return W


@triton.jit
def weights(w_ptr, tile_h, H, G: tl.constexpr, ROWS: tl.constexpr, ACC: tl.constexpr, BH: tl.constexpr,
             HP: tl.constexpr):
    """The tile's blocks of W_hh for gates 0..3 (unused gates: a zero block): rows (BH, HP) for the
    forward, columns (HP, BH) for the backward."""
    W0 = _block(w_ptr, 0, tile_h, H, ROWS, ACC, BH, HP)
    W1, W2, W3 = W0 * 0.0, W0 * 0.0, W0 * 0.0
    if G > 1:
        W1 = _block(w_ptr, 1, tile_h, H, ROWS, ACC, BH, HP)
    if G > 2:
        W2 = _block(w_ptr, 2, tile_h, H, ROWS, ACC, BH, HP)
    if G > 3:
        W3 = _block(w_ptr, 3, tile_h, H, ROWS, ACC, BH, HP)
    return W0, W1, W2, W3
