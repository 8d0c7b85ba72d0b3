"""Truncated-BPTT batching: rows continue across chunks, targets are inputs shifted by one, the epoch
wraps with a reset, and random per-row resets are drawn from the step (so resuming repeats them)."""

import pytest
import torch

from rnnkit.data.batching import StreamBatches, random_windows
from rnnkit.errors import RnnkitError


def test_streams_continue_across_chunks():
    ids = torch.arange(24)
    data = StreamBatches(ids, batch_size=3, seq_len=4)
    x0, y0, reset0 = data.batch(0)
    x1, y1, reset1 = data.batch(1)
    assert reset0 is True and data.num_chunks == 2
    assert x0.tolist() == [[0, 1, 2, 3], [8, 9, 10, 11], [16, 17, 18, 19]]
    assert torch.equal(y0, x0 + 1) and torch.equal(y1, x1 + 1)
    assert x1[:, 0].tolist() == [4, 12, 20]  # row b of chunk 1 continues row b of chunk 0
    assert x1.shape == (3, 3)  # the last chunk is one shorter: its targets need one more column
    assert not reset1.any()  # no random resets by default
    assert data.batch(2)[2] is True  # a new epoch


def test_random_resets_are_per_row_and_reproducible():
    data = StreamBatches(torch.arange(100_000), batch_size=16, seq_len=10, reset_prob=0.25, seed=3)
    masks = [data.batch(s)[2] for s in range(1, 200) if s % data.num_chunks]
    rate = torch.stack(masks).float().mean()
    assert 0.2 < rate < 0.3
    assert torch.equal(data.batch(7)[2], StreamBatches(torch.arange(100_000), 16, 10, 0.25, seed=3).batch(7)[2])
    with pytest.raises(RnnkitError, match="--state-reset must be a probability"):
        StreamBatches(torch.arange(100), 2, 5, reset_prob=1.5)


def test_too_short_texts():
    with pytest.raises(RnnkitError, match="too short for 4 streams of 11 characters"):
        StreamBatches(torch.arange(30), batch_size=4, seq_len=10)
    with pytest.raises(RnnkitError, match="shorter than one 50-character window"):
        random_windows(torch.arange(30), 4, 50)
