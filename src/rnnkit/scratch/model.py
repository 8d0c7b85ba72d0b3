"""A character-level language model in NumPy: one scratch cell and the softmax head, plus the cells by name.

``CharRNN.loss_and_grads`` is one forward and one backward pass over a ``(B, T)`` batch of ids;
generation carries the state one character at a time (it never re-runs the prefix).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from rnnkit.errors import RnnkitError, unknown_choice
from rnnkit.scratch.base import ScratchCell
from rnnkit.scratch.elman import ElmanRNN
from rnnkit.scratch.gru import GRU
from rnnkit.scratch.head import SoftmaxHead, softmax
from rnnkit.scratch.lstm import LSTM

#: name -> constructor(input_size, hidden_size, seed=, dtype=); the names of ``rnnkit.cells.CELLS``
CELLS = {
    "elman": partial(ElmanRNN, activation="tanh"),
    "elman-relu": partial(ElmanRNN, activation="relu"),
    "elman-sigmoid": partial(ElmanRNN, activation="sigmoid"),
    "lstm": LSTM,
    "gru": GRU,
}


def make_cell(name: str, input_size: int, hidden_size: int, seed: int | None = 0, dtype=np.float64) -> ScratchCell:
    """Build the scratch cell registered as ``name``: ``make_cell("lstm", 65, 100)``."""
    if name not in CELLS:
        raise unknown_choice("cell", name, CELLS)
    return CELLS[name](input_size, hidden_size, seed=seed, dtype=dtype)


class CharRNN:
    """Embedding-free char-RNN: one-hot ids -> cell -> softmax head. ``params`` is the flat dict the
    optimisers update in place: ``cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh, head.weight,
    head.bias``."""

    def __init__(self, cell: str | ScratchCell, vocab_size: int, hidden_size: int = 100, seed: int | None = 0,
                 dtype=np.float64):
        self.cell = make_cell(cell, vocab_size, hidden_size, seed, dtype) if isinstance(cell, str) else cell
        if self.cell.input_size != vocab_size:
            raise RnnkitError(f"the cell reads {self.cell.input_size} inputs but the vocabulary has {vocab_size}")
        self.head = SoftmaxHead(self.cell.hidden_size, vocab_size, seed=None if seed is None else seed + 1,
                                dtype=dtype)
        self.vocab_size = vocab_size

    @property
    def params(self) -> dict[str, np.ndarray]:
        return {**{f"cell.{k}": v for k, v in self.cell.params.items()},
                **{f"head.{k}": v for k, v in self.head.params.items()}}

    def init_state(self, batch: int):
        return self.cell.init_state(batch)

    def loss(self, inputs: np.ndarray, targets: np.ndarray, state=None, reduction: str = "mean"):
        """Forward only: ``(loss, final state)``."""
        hs, state, _ = self.cell.forward(inputs, state)
        loss, _ = self.head.forward(hs, targets, reduction)
        return loss, state

    def loss_and_grads(self, inputs: np.ndarray, targets: np.ndarray, state=None, bptt: int | None = None,
                       reduction: str = "mean"):
        """``inputs, targets (B, T)`` ids -> ``(loss, grads, final state)``; grads has the keys of ``params``.

        The final state is the one to start the next chunk from (truncated BPTT): it is a plain array, so
        no gradient flows back into this chunk from the next one.
        """
        hs, state, cache = self.cell.forward(inputs, state)  # (B, T, H)
        loss, head_cache = self.head.forward(hs, targets, reduction)
        head_grads, dhs = self.head.backward(head_cache)
        cell_grads, _, _ = self.cell.backward(dhs, cache, bptt=bptt)
        grads = {**{f"cell.{k}": v for k, v in cell_grads.items()}, **{f"head.{k}": v for k, v in head_grads.items()}}
        return loss, grads, state

    def step(self, ids: np.ndarray, state=None):
        """One step: ``ids (B,)`` -> ``(logits (B, V), state)``, the state carried to the next step."""
        hs, state, _ = self.cell.forward(np.asarray(ids).reshape(-1, 1), state)
        return self.head.logits(hs[:, 0]), state

    def generate(self, prime: list[int], length: int, rng: np.random.Generator | None = None,
                 temperature: float = 1.0, state=None) -> list[int]:
        """Feed ``prime``, then ``length`` characters, each fed back as the next input. ``temperature = 0``
        takes the argmax (greedy); otherwise sample from ``softmax(logits / temperature)``."""
        if not prime:
            raise RnnkitError("generation needs at least one character to start from")
        if temperature < 0:
            raise RnnkitError(f"temperature must be >= 0 (0 is greedy), got {temperature}")
        rng = rng or np.random.default_rng()
        hs, state, _ = self.cell.forward(np.asarray(prime).reshape(1, -1), state)  # read the prime once
        logits = self.head.logits(hs[:, -1])  # (1, V)
        out: list[int] = []
        for _ in range(length):
            if temperature == 0:
                nxt = int(np.argmax(logits[0]))
            else:
                nxt = int(rng.choice(self.vocab_size, p=softmax(logits[0] / temperature)))
            out.append(nxt)
            logits, state = self.step(np.array([nxt]), state)
        return out

    def stream_loss(self, ids: np.ndarray, chunk: int = 1000) -> float:
        """Mean loss per character (nats) over a whole text, read as one stream from h_0 = 0, state carried."""
        ids = np.asarray(ids)
        if ids.size < 2:
            raise RnnkitError("scoring a text needs at least 2 characters")
        state, total = None, 0.0
        for start in range(0, ids.size - 1, chunk):
            end = min(start + chunk, ids.size - 1)
            loss, state = self.loss(ids[None, start:end], ids[None, start + 1 : end + 1], state, "sum")
            total += loss
        return total / (ids.size - 1)
