"""Scratch engine: shapes, ids == one-hot, truncated BPTT (state carried across chunks, k = 1 as a
setting), the softmax head, generation, batching and input validation."""

import numpy as np
import pytest

from rnnkit.errors import RnnkitError
from rnnkit.scratch import CELLS, CharRNN, ElmanRNN, SoftmaxHead, StreamBatches, make_cell

B, T, F, H = 3, 7, 5, 4


def random_state(cell, rng):
    s = cell.init_state(B)
    return tuple(rng.normal(size=x.shape) for x in s) if cell.has_cell_state else rng.normal(size=s.shape)


def flat(state):
    return state if isinstance(state, tuple) else (state,)


@pytest.mark.parametrize("name", list(CELLS))
def test_shapes_and_zero_state(name):
    cell = make_cell(name, F, H)
    hs, state, cache = cell.forward(np.zeros((B, T, F)))
    assert hs.shape == (B, T, H)
    assert all(s.shape == (B, H) for s in flat(state))
    grads, dx, dstate0 = cell.backward(np.ones_like(hs), cache)
    assert {k: v.shape for k, v in grads.items()} == {k: v.shape for k, v in cell.params.items()}
    assert dx.shape == (B, T, F)
    assert all(s.shape == (B, H) for s in flat(dstate0))


@pytest.mark.parametrize("name", list(CELLS))
def test_ids_equal_one_hot_inputs(name):
    rng = np.random.default_rng(0)
    cell = make_cell(name, F, H)
    ids = rng.integers(0, F, size=(B, T))
    onehot = np.eye(F)[ids]  # (B, T, F)
    hs_ids, _, cache_ids = cell.forward(ids)
    hs_dense, _, cache_dense = cell.forward(onehot)
    np.testing.assert_allclose(hs_ids, hs_dense, rtol=0, atol=1e-13)
    dhs = rng.normal(size=hs_ids.shape)
    g_ids, dx_ids, _ = cell.backward(dhs, cache_ids)
    g_dense, _, _ = cell.backward(dhs, cache_dense)
    assert dx_ids is None
    for k in g_ids:
        np.testing.assert_allclose(g_ids[k], g_dense[k], rtol=0, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("name", list(CELLS))
def test_state_carried_across_chunks_equals_one_long_run(name):
    rng = np.random.default_rng(1)
    cell = make_cell(name, F, H)
    x = rng.normal(size=(B, T, F))
    state0 = random_state(cell, rng)
    hs, final, _ = cell.forward(x, state0)
    state, parts = state0, []
    for start in range(0, T, 3):  # chunks of 3, 3, 1
        out, state, _ = cell.forward(x[:, start : start + 3], state)
        parts.append(out)
    np.testing.assert_allclose(np.concatenate(parts, axis=1), hs, rtol=0, atol=1e-14)
    for a, b in zip(flat(state), flat(final)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-14)


@pytest.mark.parametrize("name", list(CELLS))
@pytest.mark.parametrize("k", [1, 2, 3])
def test_truncated_bptt_equals_chunks_with_detached_state(name, k):
    """backward(bptt=k) over T steps == the sum of the gradients of T/k chunks run with the state carried
    but no gradient flowing between them (k = 1 is Elman's SRN)."""
    rng = np.random.default_rng(2)
    cell = make_cell(name, F, H)
    x = rng.normal(size=(B, T, F))
    dhs = rng.normal(size=(B, T, H))
    state0 = random_state(cell, rng)
    _, _, cache = cell.forward(x, state0)
    grads, dx, _ = cell.backward(dhs, cache, bptt=k)

    total = {key: np.zeros_like(v) for key, v in cell.params.items()}
    dx_chunks, state = [], state0
    for start in range(0, T, k):
        _, next_state, c = cell.forward(x[:, start : start + k], state)
        g, d, _ = cell.backward(dhs[:, start : start + k], c)
        for key in total:
            total[key] += g[key]
        dx_chunks.append(d)
        state = next_state
    for key in total:
        np.testing.assert_allclose(grads[key], total[key], rtol=0, atol=1e-12, err_msg=key)
    np.testing.assert_allclose(dx, np.concatenate(dx_chunks, axis=1), rtol=0, atol=1e-12)


def test_truncation_longer_than_the_sequence_changes_nothing():
    rng = np.random.default_rng(3)
    cell = make_cell("lstm", F, H)
    hs, _, cache = cell.forward(rng.normal(size=(B, T, F)))
    dhs = rng.normal(size=hs.shape)
    full, _, _ = cell.backward(dhs, cache)
    cut, _, _ = cell.backward(dhs, cache, bptt=T)
    for key in full:
        np.testing.assert_array_equal(full[key], cut[key])


def test_srn_k1_is_the_course_formula():
    """With k = 1 the Elman gradient of W_hh is sum_t ((1 - h_t^2) * dh_t) h_{t-1}^T: no dh_next."""
    rng = np.random.default_rng(4)
    cell = ElmanRNN(F, H)
    x, h0 = rng.normal(size=(B, T, F)), rng.normal(size=(B, H))
    hs, _, cache = cell.forward(x, h0)
    dhs = rng.normal(size=hs.shape)
    grads, _, _ = cell.backward(dhs, cache, bptt=1)
    hprev = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)
    expected = sum(((1 - hs[:, t] ** 2) * dhs[:, t]).T @ hprev[:, t] for t in range(T))
    np.testing.assert_allclose(grads["weight_hh"], expected, rtol=0, atol=1e-12)


def test_head_loss_reductions_and_stability():
    head = SoftmaxHead(H, 6, seed=0)
    rng = np.random.default_rng(5)
    hs, targets = rng.normal(size=(B, T, H)), rng.integers(0, 6, size=(B, T))
    total, _ = head.forward(hs, targets, "sum")
    mean, _ = head.forward(hs, targets, "mean")
    assert abs(total / (B * T) - mean) < 1e-12
    head.params["weight"][:] = 1e4  # huge logits: no overflow, finite loss
    loss, cache = head.forward(hs, targets)
    assert np.isfinite(loss) and np.all(np.isfinite(head.backward(cache)[1]))
    with pytest.raises(RnnkitError, match="target ids must lie in 0..5"):
        head.forward(hs, targets + 6)
    with pytest.raises(RnnkitError, match="unknown reduction"):
        head.forward(hs, targets, "max")


def test_generation_carries_the_state():
    model = CharRNN("gru", 5, 8, seed=0)
    out = model.generate([1, 2], 6, temperature=0)
    assert out == model.generate([1, 2], 6, temperature=0)  # greedy is deterministic
    # the greedy continuation is the argmax of the one-pass forward over prime + generated text
    seq = np.array([[1, 2, *out]])
    hs, _, _ = model.cell.forward(seq)
    argmax = model.head.logits(hs)[0].argmax(-1)
    assert list(argmax[1 : 1 + len(out)]) == out  # logits at position p predict the character after p
    logits, state = model.step(np.array([1, 2]))  # two rows, one step each
    assert logits.shape == (2, 5) and state.shape == (2, 8)
    sampled = model.generate([0], 50, rng=np.random.default_rng(0), temperature=1.0)
    assert len(sampled) == 50 and set(sampled) <= set(range(5))


def test_stream_batches_layout_and_reset():
    ids = np.arange(24)
    batches = StreamBatches(ids, 3, 4)  # streams of 8: chunks [0,4) and [4,7)
    x, y, reset = batches.batch(0)
    np.testing.assert_array_equal(x, [[0, 1, 2, 3], [8, 9, 10, 11], [16, 17, 18, 19]])
    np.testing.assert_array_equal(y, x + 1)
    assert reset
    x, y, reset = batches.batch(1)
    np.testing.assert_array_equal(x[0], [4, 5, 6])
    assert not reset and batches.batch(2)[2]
    with pytest.raises(RnnkitError, match="too short"):
        StreamBatches(np.arange(10), 4, 5)


def test_bad_inputs_are_named():
    cell = make_cell("elman", F, H)
    with pytest.raises(RnnkitError, match=r"expected input of shape \(batch, time, 5\)"):
        cell.forward(np.zeros((B, T, F + 1)))
    with pytest.raises(RnnkitError, match="input ids must lie in 0..4"):
        cell.forward(np.full((B, T), F))
    with pytest.raises(RnnkitError, match=r"state must have shape \(3, 4\)"):
        cell.forward(np.zeros((B, T, F)), np.zeros((B, H + 1)))
    with pytest.raises(RnnkitError, match="hidden_size must be a positive integer"):
        make_cell("lstm", F, 0)
    with pytest.raises(RnnkitError, match="unknown activation 'gelu'; choose one of: relu, sigmoid, tanh"):
        ElmanRNN(F, H, activation="gelu")
    with pytest.raises(RnnkitError, match="unknown cell 'lstn'"):
        CharRNN("lstn", 5)


def test_float32_matches_float64():
    rng = np.random.default_rng(6)
    ids = rng.integers(0, F, size=(B, T))
    m64, m32 = CharRNN("lstm", F, H, dtype=np.float64), CharRNN("lstm", F, H, dtype=np.float32)
    l64, g64, _ = m64.loss_and_grads(ids, ids)
    l32, g32, _ = m32.loss_and_grads(ids, ids)
    assert abs(l64 - l32) < 1e-5
    assert all(g32[k].dtype == np.float32 and np.allclose(g32[k], g64[k], atol=1e-5) for k in g64)
