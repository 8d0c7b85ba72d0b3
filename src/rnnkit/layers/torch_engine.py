"""Run a standard cell through torch's own fused RNN kernels (cuDNN on a GPU, oneDNN/ATen on a CPU).

The cell's own parameters are passed to the kernel, so gradients flow to them and both engines share
one parameter layout. Valid for the cells whose equations torch implements exactly: the tanh and relu
Elman RNN, the standard LSTM (no peephole, not coupled) and the GRU in its reset-after form.
"""

from __future__ import annotations

import warnings

import torch
from torch import _VF
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnkit.cells import ElmanCell, GRUCell, LSTMCell, LSTMState
from rnnkit.cells.base import RecurrentCell


def torch_kernel(cell: RecurrentCell):
    """The ``torch._VF`` function that computes exactly this cell, or None if torch has none."""
    kind = type(cell)
    if kind is ElmanCell and cell.activation in ("tanh", "relu"):
        return _VF.rnn_tanh if cell.activation == "tanh" else _VF.rnn_relu
    if kind is LSTMCell and not (cell.peephole or cell.coupled):
        return _VF.lstm
    if kind is GRUCell and cell.reset_after:
        return _VF.gru
    return None


def run_torch(cell: RecurrentCell, x: torch.Tensor, state, lengths: torch.Tensor | None):
    """The whole sequence ``x (B, T, F)`` in one call; returns ``(outputs (B, T, H), final state)``.

    With ``lengths``, the batch is packed, so each row's final state is taken at its own last step
    and outputs past a row's length are zero: the same contract as the readable loop.
    """
    out, (final,) = run_torch_directions([cell], x, [state], lengths)
    return out, final


def run_torch_directions(cells: list[RecurrentCell], x: torch.Tensor, states: list, lengths: torch.Tensor | None):
    """One kernel call for one cell (forward) or two (forward, backward: torch's bidirectional mode, which
    reverses each packed row within its own length itself, so no reversed copy of ``x`` is made).

    Returns ``(outputs (B, T, H * len(cells)), [final state of each direction])``.
    """
    cell = cells[0]
    kernel = torch_kernel(cell)
    is_lstm = cell.has_cell_state
    if is_lstm:
        hx = [torch.stack([s.h for s in states]), torch.stack([s.c for s in states])]  # (D, B, H) each
    else:
        hx = torch.stack(states)  # (D, B, H)
    weights = [w for c in cells for w in (c.weight_ih, c.weight_hh, c.bias_ih, c.bias_hh)]
    args = (weights, True, 1, 0.0, cell.training, len(cells) == 2)  # has_biases, layers, dropout, train, bidirectional
    with warnings.catch_warnings():  # cuDNN asks for one flat weight buffer; ours are separate tensors
        warnings.filterwarnings("ignore", message=".*contiguous chunk of memory.*")
        if lengths is None:
            out, *final = kernel(x, hx, *args, True)  # batch_first=True
        else:
            T = x.shape[1]
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            order, unorder = packed.sorted_indices, packed.unsorted_indices
            hx = [h.index_select(1, order) for h in hx] if is_lstm else hx.index_select(1, order)
            data, *final = kernel(packed.data, packed.batch_sizes, hx, *args)
            out, _ = pad_packed_sequence(
                PackedSequence(data, packed.batch_sizes, order, unorder), batch_first=True, total_length=T
            )
            final = [h.index_select(1, unorder) for h in final]
    # final: [h (D, B, H)] or [h, c]; direction d's state is row d
    return out, [LSTMState(final[0][d], final[1][d]) if is_lstm else final[0][d] for d in range(len(cells))]
