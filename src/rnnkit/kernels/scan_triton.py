"""A Triton kernel for ``h_t = a_t * h_{t-1} + b_t`` (the min-cells' parallel mode), forward and backward.

One program per (sequence b, block of BLOCK_H hidden units) walks the sequence in chunks of BLOCK_T
steps: inside a chunk, ``tl.associative_scan`` combines the steps in parallel with the operator

    (a1, b1) then (a2, b2)  =  (a1 * a2, b1 * a2 + b2)         (two affine maps h -> a h + b, composed)

and the chunk's last state is carried to the next chunk (a chunked scan: O(T / BLOCK_T) sequential
steps, each a tree of depth log BLOCK_T). It works on a_t = exp(log a_t) in (0, 1] in the linear
domain: products of a only shrink towards 0, which is harmless, and no long cumulative sum of logs
is formed, so it needs none of the log-domain care of ``rnnkit.layers.scan.scan_log``, which it
matches (tests/cells/test_min_rnn.py, under ``TRITON_INTERPRET=1`` on a CPU).

Backward, with g_t = dL/dh_t: the adjoint lambda_t = dL/dh_t (total) obeys the same recurrence in
reverse, lambda_t = a_{t+1} * lambda_{t+1} + g_t, computed by the same kernel scanning backwards; then

    dL/dlog b_t = lambda_t * b_t,   dL/dlog a_t = lambda_t * a_t * h_{t-1},   dL/dh_0 = lambda_1 * a_1.

Computation is in float32 (float64 for float64 inputs). Inputs must be CUDA tensors, or any tensor
when ``TRITON_INTERPRET=1`` was set before this module was imported.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from rnnkit.errors import RnnkitError
from rnnkit.kernels.spec import interpreted

BLOCK_T, BLOCK_H = 64, 32


@triton.jit
def _compose(a1, b1, a2, b2):
    return a1 * a2, b1 * a2 + b2


@triton.jit
def _scan_forward(log_a_ptr, log_b_ptr, h0_ptr, h_ptr, T, H,
                  ACC: tl.constexpr, BLOCK_T: tl.constexpr, BLOCK_H: tl.constexpr):
    b, hb = tl.program_id(0), tl.program_id(1)
    offs_h = hb * BLOCK_H + tl.arange(0, BLOCK_H)  # (BH,)
    mask_h = offs_h < H
    carry = tl.load(h0_ptr + b * H + offs_h, mask=mask_h, other=0.0).to(ACC)  # h before the chunk, (BH,)
    for t0 in range(0, T, BLOCK_T):
        offs_t = t0 + tl.arange(0, BLOCK_T)  # (BT,)
        mask = (offs_t[:, None] < T) & mask_h[None, :]  # (BT, BH)
        idx = b * T * H + offs_t[:, None] * H + offs_h[None, :]
        a = tl.exp(tl.load(log_a_ptr + idx, mask=mask, other=0.0).to(ACC))  # padding: a = 1, b = 0
        bb = tl.where(mask, tl.exp(tl.load(log_b_ptr + idx, mask=mask, other=0.0).to(ACC)), 0.0)
        A, B = tl.associative_scan((a, bb), 0, _compose)  # the chunk's steps composed from its start
        h = A * carry[None, :] + B  # (BT, BH)
        tl.store(h_ptr + idx, h.to(h_ptr.dtype.element_ty), mask=mask)
        carry = tl.sum(tl.where(offs_t[:, None] == t0 + BLOCK_T - 1, h, 0.0), axis=0)  # last row


@triton.jit
def _scan_backward(log_a_ptr, log_b_ptr, h0_ptr, h_ptr, grad_h_ptr, grad_log_a_ptr, grad_log_b_ptr, grad_h0_ptr,
                   T, H, ACC: tl.constexpr, BLOCK_T: tl.constexpr, BLOCK_H: tl.constexpr):
    b, hb = tl.program_id(0), tl.program_id(1)
    offs_h = hb * BLOCK_H + tl.arange(0, BLOCK_H)
    mask_h = offs_h < H
    h0 = tl.load(h0_ptr + b * H + offs_h, mask=mask_h, other=0.0).to(ACC)
    carry = tl.zeros((BLOCK_H,), dtype=ACC)  # lambda after the chunk (lambda_{T+1} = 0)
    n_chunks = tl.cdiv(T, BLOCK_T)
    for i in range(n_chunks):
        t0 = (n_chunks - 1 - i) * BLOCK_T  # chunks from the last to the first
        offs_t = t0 + tl.arange(0, BLOCK_T)
        mask = (offs_t[:, None] < T) & mask_h[None, :]
        idx = b * T * H + offs_t[:, None] * H + offs_h[None, :]
        g = tl.load(grad_h_ptr + idx, mask=mask, other=0.0).to(ACC)
        mask_next = (offs_t[:, None] + 1 < T) & mask_h[None, :]
        a_next = tl.exp(tl.load(log_a_ptr + idx + H, mask=mask_next, other=0.0).to(ACC))  # a_{t+1}
        A, L = tl.associative_scan((a_next, g), 0, _compose, reverse=True)
        lam = A * carry[None, :] + L  # (BT, BH): lambda_t
        carry = tl.sum(tl.where(offs_t[:, None] == t0, lam, 0.0), axis=0)  # lambda at the chunk's first step
        a = tl.exp(tl.load(log_a_ptr + idx, mask=mask, other=0.0).to(ACC))
        bb = tl.exp(tl.load(log_b_ptr + idx, mask=mask, other=0.0).to(ACC))
        h_prev = tl.load(h_ptr + idx - H, mask=mask & (offs_t[:, None] >= 1), other=0.0).to(ACC)
        h_prev = tl.where(offs_t[:, None] == 0, h0[None, :], h_prev)
        tl.store(grad_log_a_ptr + idx, (lam * a * h_prev).to(grad_log_a_ptr.dtype.element_ty), mask=mask)
        tl.store(grad_log_b_ptr + idx, (lam * bb).to(grad_log_b_ptr.dtype.element_ty), mask=mask)
    a0 = tl.exp(tl.load(log_a_ptr + b * T * H + offs_h, mask=mask_h, other=0.0).to(ACC))
    tl.store(grad_h0_ptr + b * H + offs_h, (carry * a0).to(grad_h0_ptr.dtype.element_ty), mask=mask_h)


def _check(t: torch.Tensor) -> None:
    if not (t.is_cuda or interpreted()):
        raise RnnkitError("the Triton scan needs CUDA tensors (or TRITON_INTERPRET=1 set before rnnkit "
                          "imports it); use the torch scan backend on a CPU")


class TritonScan(torch.autograd.Function):
    """``h (B, T, H) = TritonScan.apply(log_a (B, T, H), log_b (B, T, H), h0 (B, H))``."""

    @staticmethod
    def forward(ctx, log_a, log_b, h0, block_t=BLOCK_T, block_h=BLOCK_H):
        log_a, log_b, h0 = log_a.contiguous(), log_b.contiguous(), h0.contiguous().to(log_a.dtype)
        B, T, H = log_a.shape
        h = torch.empty_like(log_a)
        acc = tl.float64 if log_a.dtype == torch.float64 else tl.float32
        grid = (B, triton.cdiv(H, block_h))
        _scan_forward[grid](log_a, log_b, h0, h, T, H, ACC=acc, BLOCK_T=block_t, BLOCK_H=block_h)
        ctx.save_for_backward(log_a, log_b, h0, h)
        ctx.acc, ctx.blocks = acc, (block_t, block_h)
        return h

    @staticmethod
    def backward(ctx, grad_h):
        log_a, log_b, h0, h = ctx.saved_tensors
        B, T, H = log_a.shape
        grad_log_a, grad_log_b, grad_h0 = torch.empty_like(log_a), torch.empty_like(log_b), torch.empty_like(h0)
        block_t, block_h = ctx.blocks
        grid = (B, triton.cdiv(H, block_h))
        _scan_backward[grid](log_a, log_b, h0, h, grad_h.contiguous(), grad_log_a, grad_log_b, grad_h0, T, H,
                             ACC=ctx.acc, BLOCK_T=block_t, BLOCK_H=block_h)
        return grad_log_a, grad_log_b, grad_h0, None, None


def scan_triton(log_a: torch.Tensor, log_b: torch.Tensor, h0: torch.Tensor, block_t: int = BLOCK_T,
                block_h: int = BLOCK_H) -> torch.Tensor:
    """``h_t = exp(log_a_t) * h_{t-1} + exp(log_b_t)``: ``(B, T, H)`` from ``h0 (B, H)``, differentiable.

    ``block_t`` steps by ``block_h`` hidden units per tile (powers of two; the tests use small ones)."""
    _check(log_a)
    return TritonScan.apply(log_a, log_b, h0, block_t, block_h)
