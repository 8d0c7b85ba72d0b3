"""Launches and autograd Functions of the whole-row cells (``steps/gru_course.py``: the course's GRU;
``steps/ln_lstm.py``: the layer-normalised LSTM).

One kernel per direction runs ``steps`` steps from ``t0``: the per-step mode (``STEP``) launches it once
per step (``steps = 1``), the persistent mode once for the sequence (``steps = T``); a program owns whole
rows, so neither needs a grid barrier, and both run under ``TRITON_INTERPRET=1``. Weight gradients are
one GEMM over all steps, as in ``recurrence.py``:

    GRU (course): dW_h{r,z} = sum_t dA_{r,z}^T h_{t-1},    dW_hn = sum_t dA_n^T (r * h_{t-1})
    LN-LSTM:      dW_hh = sum_t dA^T h_{t-1},   dg_hh = sum_t dX * N(W_hh h),   dg_c = sum_t dY * N(c),   db_c = sum_t dY

Dimensions: B batch rows, T steps, H hidden units; grid: one program per block of BB batch rows. The
saved slots of ``sv`` are named in ``rnnkit.kernels.spec`` (GRU_COURSE_*, LN_LSTM_*), shared with the steps.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from rnnkit.cells.ln_lstm import EPS
from rnnkit.kernels.spec import (GRU_COURSE_R, GRU_COURSE_SLOTS, LN_LSTM_NC, LN_LSTM_PRODUCT, LN_LSTM_SLOTS,
                                 LN_LSTM_STATS, LaunchMode)
from rnnkit.kernels.steps.gru_course import gru_course_backward, gru_course_forward
from rnnkit.kernels.steps.ln_lstm import ln_lstm_backward, ln_lstm_forward
from rnnkit.kernels.tiling import check_device, row_tiles, run_steps, tile_constants


@triton.jit
def gru_course_forward_kernel(t0, steps,  # runs steps t0 .. t0+steps-1
                              xp,  # (B, T, 3H)
                              w,  # W_hh (3H, H)
                              bhh,  # b_hh (3H,)
                              hs,  # (B, T+1, H)
                              sv,  # (B, T, GRU_COURSE_SLOTS, H)
                              work,  # scratch (B, H)
                              lengths,  # (B,) int32
                              B, T, H, BB: tl.constexpr, BH: tl.constexpr, BK: tl.constexpr, USE_DOT: tl.constexpr,
                              ACC: tl.constexpr):
    for t in range(t0, t0 + steps):
        gru_course_forward(t, tl.program_id(0), xp, w, bhh, hs, sv, work, lengths, B, T, H, BB, BH, BK, USE_DOT, ACC)


@triton.jit
def gru_course_backward_kernel(t0, steps,  # runs steps t0, t0-1, ..., t0-steps+1
                               w,  # W_hh (3H, H)
                               dhs,  # dL/dhs (B, T+1, H)
                               dhc,  # carry (B, H), zeroed
                               dxp, dhp,  # out: (B, T, 3H)
                               hs,  # (B, T+1, H)
                               sv,  # (B, T, GRU_COURSE_SLOTS, H)
                               work,  # scratch (B, H)
                               lengths,  # (B,) int32
                               B, T, H, BB: tl.constexpr, BH: tl.constexpr, BK: tl.constexpr, USE_DOT: tl.constexpr,
                               ACC: tl.constexpr):
    for i in range(steps):
        gru_course_backward(t0 - i, tl.program_id(0), w, dhs, dhc, dxp, dhp, hs, sv, work, lengths, B, T, H, BB, BH,
                            BK, USE_DOT, ACC)


@triton.jit
def ln_lstm_forward_kernel(t0, steps,  # runs steps t0 .. t0+steps-1
                           xp,  # (B, T, 4H)
                           w,  # W_hh (4H, H)
                           gain_hh,  # (4H,)
                           gain_c, bias_c,  # (H,)
                           hs, cs,  # (B, T+1, H) each
                           sv,  # (B, T, LN_LSTM_SLOTS, H)
                           stats,  # (B, T, LN_LSTM_STATS)
                           lengths,  # (B,) int32
                           B, T, H, BB: tl.constexpr, BH: tl.constexpr, BK: tl.constexpr, USE_DOT: tl.constexpr,
                           ACC: tl.constexpr, EPS_: tl.constexpr):
    for t in range(t0, t0 + steps):
        ln_lstm_forward(t, tl.program_id(0), xp, w, gain_hh, gain_c, bias_c, hs, cs, sv, stats, lengths, B, T, H, BB,
                        BH, BK, USE_DOT, ACC, EPS_)


@triton.jit
def ln_lstm_backward_kernel(t0, steps,  # runs steps t0, t0-1, ..., t0-steps+1
                            w,  # W_hh (4H, H)
                            gain_hh,  # (4H,)
                            gain_c, bias_c,  # (H,)
                            dhs, dcs,  # dL/dhs, dL/dcs (B, T+1, H)
                            dhc, dcc,  # carries (B, H), zeroed
                            dxp, dhp,  # out: (B, T, 4H)
                            dy,  # out: (B, T, H)
                            hs, cs,  # (B, T+1, H) each
                            sv,  # (B, T, LN_LSTM_SLOTS, H)
                            stats,  # (B, T, LN_LSTM_STATS)
                            lengths,  # (B,) int32
                            B, T, H, BB: tl.constexpr, BH: tl.constexpr, BK: tl.constexpr, USE_DOT: tl.constexpr,
                            ACC: tl.constexpr):
    for i in range(steps):
        ln_lstm_backward(t0 - i, tl.program_id(0), w, gain_hh, gain_c, bias_c, dhs, dcs, dhc, dcc, dxp, dhp, dy, hs,
                         cs, sv, stats, lengths, B, T, H, BB, BH, BK, USE_DOT, ACC)


class GRUCourseRecurrence(torch.autograd.Function):
    """``hs = GRUCourseRecurrence.apply(xp (B, T, 3H), w_hh (3H, H), b_hh (3H,), h0 (B, H), lengths, mode)``."""

    @staticmethod
    def forward(ctx, xp, w_hh, b_hh, h0, lengths, mode: LaunchMode):
        B, T, H = xp.shape[0], xp.shape[1], w_hh.shape[1]
        tiles = row_tiles(B, H)
        hs = xp.new_empty(B, T + 1, H)
        hs[:, 0] = h0
        sv, work = xp.new_empty(B, T, GRU_COURSE_SLOTS, H), xp.new_empty(B, H)
        run_steps(gru_course_forward_kernel, tiles, T, True, not mode.persistent, (xp, w_hh, b_hh, hs, sv, work, lengths, B,
                  T, H), **tile_constants(tiles, xp.dtype))
        ctx.save_for_backward(w_hh, hs, sv, lengths)
        ctx.mode, ctx.tiles = mode, tiles
        return hs

    @staticmethod
    def backward(ctx, dhs):
        w_hh, hs, sv, lengths = ctx.saved_tensors
        B, T, H = hs.shape[0], hs.shape[1] - 1, hs.shape[2]
        dhs = dhs.contiguous()
        dxp, dhp = hs.new_empty(B, T, 3 * H), hs.new_empty(B, T, 3 * H)
        dhc, work = hs.new_zeros(B, H), hs.new_empty(B, H)
        run_steps(gru_course_backward_kernel, ctx.tiles, T, False, not ctx.mode.persistent, (w_hh, dhs, dhc, dxp, dhp, hs,
                  sv, work, lengths, B, T, H), **tile_constants(ctx.tiles, hs.dtype))
        h_prev = hs[:, :T]  # (B, T, H)
        rh = sv[:, :, GRU_COURSE_R] * h_prev  # r * h_{t-1}, what W_hn multiplies
        dA = dhp.view(B * T, 3, H)
        d_w = torch.cat([dA[:, :2].reshape(B * T, 2 * H).t() @ h_prev.reshape(B * T, H),
                         dA[:, 2].t() @ rh.reshape(B * T, H)])
        return dxp, d_w, dhp.sum((0, 1)), dhc + dhs[:, 0], None, None


class LNLSTMRecurrence(torch.autograd.Function):
    """``hs, cs = LNLSTMRecurrence.apply(xp (B, T, 4H), w_hh, gain_hh (4H,), gain_c, bias_c (H,), h0, c0,
    lengths, mode)``; xp holds the input's normalised part and both biases."""

    @staticmethod
    def forward(ctx, xp, w_hh, gain_hh, gain_c, bias_c, h0, c0, lengths, mode: LaunchMode):
        B, T, H = xp.shape[0], xp.shape[1], w_hh.shape[1]
        tiles = row_tiles(B, H)
        hs, cs = xp.new_empty(B, T + 1, H), xp.new_empty(B, T + 1, H)
        hs[:, 0], cs[:, 0] = h0, c0
        sv, stats = xp.new_empty(B, T, LN_LSTM_SLOTS, H), xp.new_empty(B, T, LN_LSTM_STATS)
        run_steps(ln_lstm_forward_kernel, tiles, T, True, not mode.persistent, (xp, w_hh, gain_hh, gain_c, bias_c, hs, cs,
                  sv, stats, lengths, B, T, H), EPS_=EPS, **tile_constants(tiles, xp.dtype))
        ctx.save_for_backward(w_hh, gain_hh, gain_c, bias_c, hs, cs, sv, stats, lengths)
        ctx.mode, ctx.tiles = mode, tiles
        return hs, cs

    @staticmethod
    def backward(ctx, dhs, dcs):
        w_hh, gain_hh, gain_c, bias_c, hs, cs, sv, stats, lengths = ctx.saved_tensors
        B, T, H = hs.shape[0], hs.shape[1] - 1, hs.shape[2]
        dhs = torch.zeros_like(hs) if dhs is None else dhs.contiguous()
        dcs = torch.zeros_like(cs) if dcs is None else dcs.contiguous()
        dxp, dhp, dy = hs.new_empty(B, T, 4 * H), hs.new_empty(B, T, 4 * H), hs.new_empty(B, T, H)
        dhc, dcc = hs.new_zeros(B, H), hs.new_zeros(B, H)
        run_steps(ln_lstm_backward_kernel, ctx.tiles, T, False, not ctx.mode.persistent, (w_hh, gain_hh, gain_c, bias_c,
                  dhs, dcs, dhc, dcc, dxp, dhp, dy, hs, cs, sv, stats, lengths, B, T, H),
                  **tile_constants(ctx.tiles, hs.dtype))
        d_w = dhp.reshape(B * T, 4 * H).t() @ hs[:, :T].reshape(B * T, H)
        products = sv[:, :, LN_LSTM_PRODUCT:LN_LSTM_PRODUCT + 4]  # N(W_hk h_{t-1}), (B, T, 4, H)
        d_gain_hh = (dxp.view(B, T, 4, H) * products).sum((0, 1)).reshape(4 * H)
        d_gain_c, d_bias_c = (dy * sv[:, :, LN_LSTM_NC]).sum((0, 1)), dy.sum((0, 1))
        return dxp, d_w, d_gain_hh, d_gain_c, d_bias_c, dhc + dhs[:, 0], dcc + dcs[:, 0], None, None


def gru_course_recurrence(xp, w_hh, b_hh, h0, lengths, mode):
    check_device(xp)
    return GRUCourseRecurrence.apply(xp.contiguous(), w_hh.contiguous(), b_hh.contiguous(), h0.contiguous(),
                                     lengths, mode)


def ln_lstm_recurrence(xp, w_hh, gain_hh, gain_c, bias_c, h0, c0, lengths, mode):
    check_device(xp)
    return LNLSTMRecurrence.apply(xp.contiguous(), w_hh.contiguous(), gain_hh.contiguous(), gain_c.contiguous(),
                                  bias_c.contiguous(), h0.contiguous(), c0.contiguous(), lengths, mode)
