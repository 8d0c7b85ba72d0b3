"""The from-scratch engine: NumPy forward passes and hand-written BPTT for the Elman RNN, the LSTM and the
GRU, checked against finite differences, plus the course's lab program (``rnnkit scratch ...``).

NumPy only: importing this package does not import torch (``convert`` imports it inside its functions).

>>> import numpy as np
>>> from rnnkit.scratch import CharRNN
>>> model = CharRNN("lstm", vocab_size=4, hidden_size=8)
>>> loss, grads, state = model.loss_and_grads(np.array([[0, 1, 2]]), np.array([[1, 2, 3]]))
"""

from rnnkit.scratch.base import ScratchCell
from rnnkit.scratch.batching import StreamBatches
from rnnkit.scratch.elman import ElmanRNN
from rnnkit.scratch.gradcheck import GradcheckRow, check_cell, check_cells
from rnnkit.scratch.gru import GRU
from rnnkit.scratch.head import SoftmaxHead, softmax
from rnnkit.scratch.lstm import LSTM
from rnnkit.scratch.model import CELLS, CharRNN, make_cell
from rnnkit.scratch.optim import (
    OPTIMIZERS, SGD, Adagrad, Adam, Optimizer, RMSprop, clip_by_norm, clip_by_value, make_optimizer,
)
from rnnkit.scratch.train import TrainConfig, TrainResult, train

__all__ = [
    "CELLS", "GRU", "LSTM", "OPTIMIZERS", "SGD", "Adagrad", "Adam", "CharRNN", "ElmanRNN", "GradcheckRow",
    "Optimizer", "RMSprop", "ScratchCell", "SoftmaxHead", "StreamBatches", "TrainConfig", "TrainResult",
    "check_cell", "check_cells", "clip_by_norm", "clip_by_value", "make_cell", "make_optimizer", "softmax",
    "train",
]
