"""Truncated-BPTT batches for the NumPy engine: B parallel streams, consecutive T-column chunks.

The layout of ``rnnkit.data.batching.StreamBatches`` (which holds the full diagram), without torch:

    corpus:   a b c d e f g h i j k l m n o p q r s t u v w x        (N ids)
    streams:  row 0: a b c d | e f g h      chunk k = columns [kT, kT + T) as inputs,
    (B = 3)   row 1: i j k l | m n o p                [kT + 1, kT + T + 1) as targets;
              row 2: q r s t | u v w x      the last chunk of an epoch may be shorter.

Row b of chunk k+1 continues row b of chunk k, so the state left by one chunk is the right state to
start the next (the trainer carries it; no gradient flows back across: that is the truncation).
"""

from __future__ import annotations

import numpy as np

from rnnkit.errors import RnnkitError


class StreamBatches:
    """``batch(step) -> (inputs (B, T), targets (B, T), reset)``; reset is True when a new epoch starts."""

    def __init__(self, ids: np.ndarray, batch_size: int, seq_len: int):
        if batch_size < 1 or seq_len < 1:
            raise RnnkitError(f"batch size and sequence length must be >= 1, got {batch_size} and {seq_len}")
        n = len(ids) // batch_size
        if n < seq_len + 1:
            raise RnnkitError(
                f"the training text ({len(ids)} characters) is too short for {batch_size} streams of "
                f"{seq_len + 1} characters; use a longer corpus, a smaller --batch-size or a smaller --seq-len"
            )
        self.streams = np.asarray(ids[: n * batch_size]).reshape(batch_size, n)  # (B, N // B)
        self.seq_len = seq_len
        self.num_chunks = (n - 1 + seq_len - 1) // seq_len  # chunks per epoch; the last may be shorter

    def batch(self, step: int):
        k = step % self.num_chunks
        start = k * self.seq_len
        end = min(start + self.seq_len, self.streams.shape[1] - 1)
        return self.streams[:, start:end], self.streams[:, start + 1 : end + 1], k == 0
