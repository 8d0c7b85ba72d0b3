"""The per-step launch (``LaunchMode`` ``STEP``): one launch per time step, grid (batch tiles, unit tiles),
W_hh streamed from memory in chunks of BK units.

Dimensions: B batch rows, T steps, H hidden units, G gates, NS saved activations a unit and step; a tile is
BB rows by BH units (grid: cdiv(B, BB) x cdiv(H, BH)). The constants are ``tile.py``'s.
"""

from __future__ import annotations

import triton
import triton.language as tl

from rnnkit.kernels.tile import backward_tile, forward_tile


@triton.jit
def forward_step_kernel(t,  # the step this launch runs
                        xp_ptr,  # (B, T, G*H)
                        w_ptr,  # W_hh (G*H, H)
                        bhh_ptr,  # b_hh (G*H,)
                        prm_ptr,  # per-unit parameters (3, H)
                        hs_ptr, cs_ptr,  # (B, T+1, H) each
                        sv_ptr,  # (B, T, NS, H)
                        len_ptr,  # lengths (B,) int32
                        B, T, H,
                        CELL: tl.constexpr, ACT: tl.constexpr, LEAKY: tl.constexpr, PEEP: tl.constexpr,
                        COUPLED: tl.constexpr, G: tl.constexpr, NS: tl.constexpr, HAS_C: tl.constexpr,
                        BB: tl.constexpr, BH: tl.constexpr, HP: tl.constexpr, BK: tl.constexpr,
                        USE_DOT: tl.constexpr, ACC: tl.constexpr):
    """Step t of every tile: program (batch tile, unit tile)."""
    forward_tile(t, tl.program_id(0), tl.program_id(1), w_ptr, w_ptr, w_ptr, w_ptr, w_ptr, xp_ptr, bhh_ptr, prm_ptr,
                 hs_ptr, cs_ptr, sv_ptr, len_ptr, B, T, H, CELL, ACT, LEAKY, PEEP, COUPLED, G, NS, HAS_C, BB, BH, HP,
                 BK, USE_DOT, False, False, ACC)


@triton.jit
def backward_step_kernel(t,  # the step this launch runs (launched from T-1 down to 0)
                         w_ptr,  # W_hh (G*H, H)
                         dhs_ptr, dcs_ptr,  # dL/dhs, dL/dcs (B, T+1, H)
                         dhc_ptr, dcc_ptr,  # carries (B, H)
                         dxp_ptr, dhp_ptr,  # out: (B, T, G*H)
                         prm_ptr,  # per-unit parameters (3, H)
                         hs_ptr, cs_ptr,  # (B, T+1, H) each
                         sv_ptr,  # (B, T, NS, H)
                         len_ptr,  # lengths (B,) int32
                         B, T, H,
                         CELL: tl.constexpr, ACT: tl.constexpr, LEAKY: tl.constexpr, PEEP: tl.constexpr,
                         COUPLED: tl.constexpr, G: tl.constexpr, NS: tl.constexpr, HAS_C: tl.constexpr,
                         BB: tl.constexpr, BH: tl.constexpr, HP: tl.constexpr, BK: tl.constexpr,
                         USE_DOT: tl.constexpr, ACC: tl.constexpr):
    """Backward step t of every tile."""
    backward_tile(t, tl.program_id(0), tl.program_id(1), w_ptr, w_ptr, w_ptr, w_ptr, w_ptr, dhs_ptr, dcs_ptr, dhc_ptr,
                  dcc_ptr, dxp_ptr, dhp_ptr, prm_ptr, hs_ptr, cs_ptr, sv_ptr, len_ptr, B, T, H, CELL, ACT, LEAKY,
                  PEEP, COUPLED, G, NS, HAS_C, BB, BH, HP, BK, USE_DOT, False, False, ACC)
