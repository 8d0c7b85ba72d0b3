"""The two launch modes of the tile cells' fused recurrence, one module each (``rnnkit.kernels.spec.LaunchMode``):

- ``step.py``, **per-step** (``STEP``): one launch per time step, grid = every tile; W_hh and h_{t-1} are
  streamed in chunks of BK units (any H). This is what runs under ``TRITON_INTERPRET=1``.
- ``persistent.py``, **persistent** (``PERSISTENT``): one launch for the whole sequence, one program per
  tile (no more programs than the GPU has SMs), W_hh's tile loaded once and kept in registers, and a grid
  barrier after every step (an atomic release-increment, then an acquire-spin until every program has
  arrived).

Both call the same step of a tile (``rnnkit.kernels.tile``). The whole-row cells have one kernel for both
modes (``rnnkit.kernels.rows``: rows are independent, so no grid barrier is needed).
"""
