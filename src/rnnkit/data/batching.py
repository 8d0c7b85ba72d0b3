"""Batching a long text for a language model: truncated BPTT over parallel streams, and the
evaluation windows.

Truncated BPTT. The corpus, as ids, is cut into B equal streams laid side by side (one per batch
row); each training step takes the next T columns. Row b of chunk k+1 continues row b of chunk k,
so the hidden state left by one chunk is the right state to start the next one: the trainer carries
it across and detaches it, which truncates backpropagation to T steps while the forward pass still
sees the whole past. Targets are the inputs shifted by one character.

    corpus:  a b c d e f g h i j k l m n o p q r s t u v w x   (N ids)

    streams (B = 3, each N // B = 8 long):
      row 0:  a b c d | e f g h
      row 1:  i j k l | m n o p
      row 2:  q r s t | u v w x
              chunk 0   chunk 1         (T = 4: inputs are columns [kT, kT+T), targets [kT+1, kT+T+1))

    step 0: inputs a b c d / i j k l / q r s t, targets b c d e / j k l m / r s t u,  state <- 0
    step 1: inputs e f g  / m n o  / u v w  (the last chunk is one shorter: its targets need one
            more column), state <- step 0's final state, detached
    step 2: back to chunk 0 (a new epoch), state <- 0

With ``reset_prob`` p > 0, each row also restarts from a zero state with probability p at each chunk
(drawn from the step number): a model that only ever saw carried states would meet the zero state
for the first time when sampling or evaluation starts from it, and write nonsense there.

The position depends on the step number alone, so a resumed run sees exactly the same batches.

Data-parallel training (``torchrun``, W ranks, ``rnnkit.train.distributed``). The layout is the one
above, for the global B (a multiple of W); rank r owns rows [rB/W, (r+1)B/W) for the whole run, with
their carried state, and computes only those. Every rank takes the same chunk at the same step and
the same reset draws, keeping its own rows; a checkpoint holds the state of all B rows, gathered.

    corpus:  a b c d e f g h i j k l m n o p q r s t u v w x   (N = 24 ids)

    streams (B = 4, each 6 long; W = 2 ranks):
      row 0:  a b c | d e f     } rank 0: inputs (2, T), state (2, H)
      row 1:  g h i | j k l     }
      row 2:  m n o | p q r     } rank 1: inputs (2, T), state (2, H)
      row 3:  s t u | v w x     }
              chunk 0  chunk 1    (T = 3)

    step 0: rank 0 reads a b c / g h i (targets b c d / h i j), rank 1 reads m n o / s t u (targets
            n o p / t u v); DDP averages their gradients: the gradient of the mean loss over all 4 rows
"""

from __future__ import annotations

import torch

from rnnkit.errors import RnnkitError

#: The seed formula of every per-step random choice: ``seed * SEED_STRIDE + step (+ offset)``, so distinct
#: (seed, step) pairs give distinct generator seeds and a batch is a pure function of its step.
SEED_STRIDE = 1_000_003


def step_generator(seed: int, step: int, offset: int = 0) -> torch.Generator:
    """The generator of step (or epoch) ``step``'s random choices: a pure function of ``(seed, step)``."""
    return torch.Generator().manual_seed(seed * SEED_STRIDE + step + offset)


class StreamBatches:
    """Consecutive chunks of B parallel streams: ``batch(step) -> (inputs, targets, reset)``.

    ``inputs, targets`` are ``(B, T)`` id tensors; ``reset`` is True at the start of each epoch, when
    the carried state must go back to zero, else a ``(B,)`` bool tensor of the rows that restart from
    zero (none when ``reset_prob`` is 0). ``stateful = True`` tells the trainer to carry the state.
    """

    stateful = True

    def __init__(self, ids: torch.Tensor, batch_size: int, seq_len: int, reset_prob: float = 0.0, seed: int = 0):
        if not 0.0 <= reset_prob <= 1.0:
            raise RnnkitError(f"--state-reset must be a probability in [0, 1], got {reset_prob}")
        self.reset_prob, self.seed = reset_prob, seed
        if batch_size < 1 or seq_len < 1:
            raise RnnkitError(f"batch size and sequence length must be >= 1, got {batch_size} and {seq_len}")
        n = ids.numel() // batch_size
        if n < seq_len + 1:
            raise RnnkitError(
                f"the training text ({ids.numel()} characters) is too short for {batch_size} streams of "
                f"{seq_len + 1} characters; use a longer corpus, a smaller --batch-size or a smaller --seq-len"
            )
        self.streams = ids[: n * batch_size].view(batch_size, n)  # (B, N // B)
        self.seq_len = seq_len
        self.num_chunks = (n - 1 + seq_len - 1) // seq_len  # chunks per epoch; the last may be shorter

    def batch(self, step: int):
        k = step % self.num_chunks
        start = k * self.seq_len
        end = min(start + self.seq_len, self.streams.shape[1] - 1)
        inputs = self.streams[:, start:end]  # (B, T)
        targets = self.streams[:, start + 1 : end + 1]  # (B, T)
        if k == 0:
            return inputs, targets, True
        g = step_generator(self.seed, step)
        return inputs, targets, torch.rand(inputs.shape[0], generator=g) < self.reset_prob  # (B,)


def random_windows(ids: torch.Tensor, num: int, length: int, seed: int = 1234) -> torch.Tensor:
    """``num`` windows of ``length + 1`` ids at random offsets (fixed by ``seed``): ``(num, length + 1)``.

    The evaluation protocol of nanoGPT: each window starts from a zero state and is scored on its
    ``length`` next-character predictions, so the figure does not depend on batching or order.
    """
    if ids.numel() < length + 1:
        raise RnnkitError(
            f"the validation text ({ids.numel()} characters) is shorter than one {length}-character window "
            "plus its target; use a longer corpus, a larger --val-fraction or a smaller --eval-window"
        )
    g = torch.Generator().manual_seed(seed)
    starts = torch.randint(0, ids.numel() - length, (num,), generator=g)  # (num,)
    return torch.stack([ids[s : s + length + 1] for s in starts.tolist()])


def split_streams(ids: torch.Tensor, batch_size: int) -> torch.Tensor:
    """The whole text as ``batch_size`` contiguous streams ``(B, N // B)`` (a tail shorter than B is
    dropped), for scoring a text with the state carried from start to end."""
    batch_size = max(1, min(batch_size, ids.numel() // 2))
    n = ids.numel() // batch_size
    return ids[: n * batch_size].view(batch_size, n)


def length_mask(lengths: torch.Tensor, T: int) -> torch.Tensor:
    """``(B, T)`` True at the real positions of rows of ``lengths (B,)`` padded to ``T``, False at padding."""
    return torch.arange(T, device=lengths.device).unsqueeze(0) < lengths.unsqueeze(1)


def pad_sequences(rows: list[list[int]], value: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Token-id lists of different lengths -> ``(ids (b, T), lengths (b,))``, padded with ``value`` at the end."""
    lengths = torch.tensor([len(r) for r in rows], dtype=torch.long)  # (b,)
    ids = torch.full((len(rows), int(lengths.max())), value, dtype=torch.long)  # (b, T)
    for j, r in enumerate(rows):
        ids[j, : len(r)] = torch.tensor(r, dtype=torch.long)
    return ids, lengths
