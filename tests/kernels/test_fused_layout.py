"""The fused kernels' named pieces: the ids and slots Triton reads are spec.py's, the launch modes
are a small type, and a cell id without a tile step fails instead of running another cell's equations."""

import pytest
import torch

pytest.importorskip("triton")

from rnnkit.kernels import constants, spec  # noqa: E402
from rnnkit.kernels.spec import PERSISTENT, STEP, FusedSpec, LaunchMode  # noqa: E402


def test_the_kernels_constants_are_spec_values():
    import triton.language as tl

    names = [n for n, v in vars(constants).items() if isinstance(v, tl.constexpr)]
    assert len(names) >= 20
    for name in names:
        assert getattr(constants, name).value == getattr(spec, name), name
    assert set(spec.CELL_NAMES) == {spec.ELMAN, spec.SIMPLE_LSTM, spec.LSTM, spec.GRU, spec.GRU_COURSE, spec.LN_LSTM}


def test_row_cells_slots_are_distinct_and_fill_their_buffers():
    gru = [spec.GRU_COURSE_R, spec.GRU_COURSE_Z, spec.GRU_COURSE_N]
    ln = [spec.LN_LSTM_PRODUCT + k for k in range(4)] + [spec.LN_LSTM_I, spec.LN_LSTM_F, spec.LN_LSTM_G,
                                                         spec.LN_LSTM_O, spec.LN_LSTM_NC]
    assert sorted(gru) == list(range(spec.GRU_COURSE_SLOTS))
    assert sorted(ln) == list(range(spec.LN_LSTM_SLOTS))
    assert spec.LN_LSTM_STAT_C == 4 and spec.LN_LSTM_STATS == 5  # slots 0-3: the four gates' products


def test_launch_modes():
    assert not STEP.persistent and not STEP.barrier and str(STEP) == "step"
    assert PERSISTENT.persistent and PERSISTENT.barrier and str(PERSISTENT) == "persistent"
    tests_mode = LaunchMode(persistent=True, sms=8)
    assert not tests_mode.barrier and "8 SMs" in str(tests_mode)
    for bad in (dict(persistent=False, sms=8), dict(persistent=True, sms=0)):
        with pytest.raises(ValueError, match="sms"):
            LaunchMode(**bad)


def test_a_launch_mode_must_be_a_launch_mode():
    from rnnkit.cells import make_cell
    from rnnkit.errors import RnnkitError
    from rnnkit.layers.fused_engine import run_fused

    cell = make_cell("lstm", 3, 4)
    with pytest.raises(RnnkitError, match="LaunchMode"):
        run_fused(cell, torch.randn(2, 3, 3), cell.init_state(2), None, "step")


@pytest.mark.parametrize("cell", [spec.GRU_COURSE, 99])
def test_a_cell_without_a_tile_step_is_refused_not_run_as_the_gru(cell):
    """The tile kernels' dispatch ends in tl.static_assert: under the interpreter an assertion, on a GPU a
    compile error (tests/kernels/test_fused_compile.py), never the GRU's equations."""
    from rnnkit.kernels.recurrence import fused_recurrence

    B, T, H = 2, 3, 4
    xp, w_hh, b_hh = torch.randn(B, T, 3 * H), torch.randn(3 * H, H), torch.randn(3 * H)
    with pytest.raises(Exception, match="no tile step for this cell id"):
        fused_recurrence(xp, w_hh, b_hh, torch.zeros(3, H), torch.zeros(B, H), None,
                         torch.full((B,), T, dtype=torch.int32), FusedSpec(cell=cell, gates=3, saved=3), STEP)
