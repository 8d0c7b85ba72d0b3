"""The persistent launch (``LaunchMode`` ``PERSISTENT``): one launch for the whole sequence, one program per
tile, W_hh's tile held in registers, a grid barrier after every step.

Dimensions: B batch rows, T steps, H hidden units, G gates, NS saved activations a unit and step; a tile is
BB rows by BH units, HP = H rounded up to a power of two; the grid is one program per tile (at most one per
SM: they must all be resident for the barrier). The constants are ``tile.py``'s, plus BARRIER.

With ``BARRIER=False`` the same kernel runs one step a launch (``LaunchMode(persistent=True, sms=...)``):
how the CPU tests run its tiles with several programs under the interpreter, which runs programs one after
another and so cannot run a barrier between two.
"""

from __future__ import annotations

import triton
import triton.language as tl

from rnnkit.kernels.products import weights
from rnnkit.kernels.tile import backward_tile, forward_tile


@triton.jit
def grid_barrier(count_ptr, target):
    """Wait until ``target`` arrivals: this program's stores are visible to every program afterwards."""
    tl.debug_barrier()  # every thread of this program has stored its part of the step
    tl.atomic_add(count_ptr, 1, sem="release", scope="gpu")
    while tl.atomic_add(count_ptr, 0, sem="acquire", scope="gpu") < target:
        pass
    tl.debug_barrier()


@triton.jit
def forward_persistent_kernel(t0, steps,  # runs steps t0 .. t0+steps-1 (the whole sequence: 0, T)
                              xp_ptr,  # (B, T, G*H)
                              w_ptr,  # W_hh (G*H, H)
                              bhh_ptr,  # b_hh (G*H,)
                              prm_ptr,  # per-unit parameters (3, H)
                              hs_ptr, cs_ptr,  # (B, T+1, H) each
                              sv_ptr,  # (B, T, NS, H)
                              len_ptr,  # lengths (B,) int32
                              count_ptr,  # (1,) int32, zeroed: the grid barrier's arrivals
                              B, T, H, n_tiles_h,  # n_tiles_h = cdiv(H, BH)
                              CELL: tl.constexpr, ACT: tl.constexpr, LEAKY: tl.constexpr, PEEP: tl.constexpr,
                              COUPLED: tl.constexpr, G: tl.constexpr, NS: tl.constexpr, HAS_C: tl.constexpr,
                              BB: tl.constexpr, BH: tl.constexpr, HP: tl.constexpr, BK: tl.constexpr,
                              USE_DOT: tl.constexpr, ACC: tl.constexpr, BARRIER: tl.constexpr):
    """Program pid is tile (pid // n_tiles_h, pid % n_tiles_h) for every step."""
    pid, n_programs = tl.program_id(0), tl.num_programs(0)
    tile_b, tile_h = pid // n_tiles_h, pid % n_tiles_h
    W0, W1, W2, W3 = weights(w_ptr, tile_h, H, G, True, ACC, BH, HP)  # (BH, HP) each
    for t in range(t0, t0 + steps):
        forward_tile(t, tile_b, tile_h, W0, W1, W2, W3, w_ptr, xp_ptr, bhh_ptr, prm_ptr, hs_ptr, cs_ptr, sv_ptr,
                     len_ptr, B, T, H, CELL, ACT, LEAKY, PEEP, COUPLED, G, NS, HAS_C, BB, BH, HP, BK, USE_DOT, True,
                     BARRIER, ACC)
        if BARRIER:
            grid_barrier(count_ptr, (t - t0 + 1) * n_programs)


@triton.jit
def backward_persistent_kernel(t0, steps,  # runs steps t0, t0-1, ..., t0-steps+1 (the whole sequence: T-1, T)
                               w_ptr,  # W_hh (G*H, H)
                               dhs_ptr, dcs_ptr,  # dL/dhs, dL/dcs (B, T+1, H)
                               dhc_ptr, dcc_ptr,  # carries (B, H)
                               dxp_ptr, dhp_ptr,  # out: (B, T, G*H)
                               prm_ptr,  # per-unit parameters (3, H)
                               hs_ptr, cs_ptr,  # (B, T+1, H) each
                               sv_ptr,  # (B, T, NS, H)
                               len_ptr,  # lengths (B,) int32
                               count_ptr,  # (1,) int32, zeroed
                               B, T, H, n_tiles_h,
                               CELL: tl.constexpr, ACT: tl.constexpr, LEAKY: tl.constexpr, PEEP: tl.constexpr,
                               COUPLED: tl.constexpr, G: tl.constexpr, NS: tl.constexpr, HAS_C: tl.constexpr,
                               BB: tl.constexpr, BH: tl.constexpr, HP: tl.constexpr, BK: tl.constexpr,
                               USE_DOT: tl.constexpr, ACC: tl.constexpr, BARRIER: tl.constexpr):
    """The backward steps, as the forward."""
    pid, n_programs = tl.program_id(0), tl.num_programs(0)
    tile_b, tile_h = pid // n_tiles_h, pid % n_tiles_h
    V0, V1, V2, V3 = weights(w_ptr, tile_h, H, G, False, ACC, BH, HP)  # (HP, BH) each
    for i in range(steps):
        backward_tile(t0 - i, tile_b, tile_h, V0, V1, V2, V3, w_ptr, dhs_ptr, dcs_ptr, dhc_ptr, dcc_ptr, dxp_ptr,
                      dhp_ptr, prm_ptr, hs_ptr, cs_ptr, sv_ptr, len_ptr, B, T, H, CELL, ACT, LEAKY, PEEP, COUPLED,
                      G, NS, HAS_C, BB, BH, HP, BK, USE_DOT, True, BARRIER, ACC)
        if BARRIER:
            grid_barrier(count_ptr, (i + 1) * n_programs)
