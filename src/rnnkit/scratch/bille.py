"""The course's toy (course-notes §2): an Elman RNN with 3 hidden units learns to spell "bille".

Vocabulary {i, b, e, l}, one-hot; h_0 = 0; the input is 'b'. Trained on the one sequence b-i-l-l ->
i-l-l-e with full BPTT; then it generates by feeding back the argmax of each output. The two 'l's need
the hidden state: after the first 'l' comes 'l', after the second 'e'.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnkit.data.vocab import CharVocab
from rnnkit.errors import RnnkitError, unknown_choice
from rnnkit.scratch.model import CharRNN
from rnnkit.scratch.optim import OPTIMIZERS, make_optimizer

VOCAB = "ibel"  # the course's order
WORD = "bille"


@dataclass
class BilleResult:
    word: str  # what the trained net spells from 'b'
    losses: list[float]  # the loss (nats/char) of every update
    model: CharRNN


def train_bille(iters: int = 300, lr: float = 0.1, hidden_size: int = 3, optimizer: str = "adam", seed: int = 0,
                activation: str = "tanh", log=None) -> BilleResult:
    """Train the toy and generate from 'b'; deterministic for a given seed."""
    if iters < 1:
        raise RnnkitError(f"--iters must be a positive integer, got {iters}")
    if optimizer not in OPTIMIZERS:
        raise unknown_choice("optimizer", optimizer, OPTIMIZERS)
    vocab = CharVocab(VOCAB)
    ids = np.array(vocab.encode(WORD))
    inputs, targets = ids[None, :-1], ids[None, 1:]  # (1, 4): b i l l -> i l l e
    model = CharRNN("elman" if activation == "tanh" else f"elman-{activation}", len(vocab), hidden_size, seed=seed)
    opt = make_optimizer(optimizer, model.params, lr)
    losses = []
    for it in range(1, iters + 1):
        loss, grads, _ = model.loss_and_grads(inputs, targets, state=None)  # h_0 = 0 every time
        opt.step(grads)
        losses.append(loss)
        if log and (it == 1 or it % max(1, iters // 5) == 0):
            word = vocab.decode([ids[0], *model.generate([int(ids[0])], len(WORD) - 1, temperature=0)])
            log(f"iter {it:5d} | loss {loss:.4f} | spells {word!r}")
    word = vocab.decode([ids[0], *model.generate([int(ids[0])], len(WORD) - 1, temperature=0)])
    return BilleResult(word, losses, model)
