"""Fast GPU paths and their autograd Functions. Each module imports triton itself, lazily, so rnnkit
imports and runs without triton (``spec`` alone is plain Python). The fused recurrence (docs/fused.md):

    spec.py         cell ids, saved-slot layouts, FusedSpec, LaunchMode (STEP, PERSISTENT); no triton
    constants.py    the same ids and slots as Triton compile-time constants
    steps/<cell>.py each cell's step, forward and backward (elman, simple_lstm, lstm, gru: a tile;
                    gru_course, ln_lstm: whole rows); steps/__init__.py chooses a tile cell's step by id
    products.py     the recurrent product h W_hh^T and its transpose, W_hh resident or streamed
    tile.py         one step of one tile, cell-agnostic, forward and backward
    launch/         the tile cells' two launch modes: step.py (a launch per step), persistent.py (one launch,
                    grid barrier)
    tiling.py       tile shapes, compile-time constants, the launch loop
    recurrence.py   the tile cells' autograd Function
    rows.py         the whole-row cells' kernels and autograd Functions

``scan_triton`` is the min-cells' chunked linear-recurrence scan.
"""
