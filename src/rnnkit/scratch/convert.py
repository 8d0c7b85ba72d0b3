"""Weights between the scratch cells and the torch cells, both ways (torch is imported only in here).

The layouts are the same (``weight_ih, weight_hh, bias_ih, bias_hh``, gates stacked in torch's order),
so converting is copying four arrays: ``rnnkit.cells.ElmanCell / LSTMCell / GRUCell`` and
``torch.nn.RNNCell / LSTMCell / GRUCell`` on the torch side; the softmax head is a ``torch.nn.Linear``.
"""

from __future__ import annotations

import numpy as np

from rnnkit.errors import RnnkitError
from rnnkit.scratch.base import ScratchCell
from rnnkit.scratch.elman import ElmanRNN
from rnnkit.scratch.gru import GRU
from rnnkit.scratch.head import SoftmaxHead
from rnnkit.scratch.lstm import LSTM

PARAMS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
SUPPORTED = ("rnnkit.cells.ElmanCell (tanh, relu, sigmoid), rnnkit.cells.LSTMCell (standard), "
             "rnnkit.cells.GRUCell (reset_after=True), torch.nn.RNNCell, torch.nn.LSTMCell, torch.nn.GRUCell")


def load_params(cell: ScratchCell, mapping) -> ScratchCell:
    """Copy ``weight_ih, weight_hh, bias_ih, bias_hh`` from ``mapping`` (arrays or tensors) into ``cell``."""
    for name in PARAMS:
        if name not in mapping:
            raise RnnkitError(f"missing parameter {name!r}; a cell needs {', '.join(PARAMS)}")
        value = mapping[name]
        value = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
        if value.shape != cell.params[name].shape:
            raise RnnkitError(f"{name} has shape {tuple(value.shape)}; {cell!r} needs {cell.params[name].shape}")
        cell.params[name][...] = value  # in place: an optimiser holding these arrays sees the new values
    return cell


def from_torch(module, dtype=np.float64) -> ScratchCell:
    """The scratch cell computing what the torch cell ``module`` computes, with a copy of its weights."""
    import torch

    from rnnkit import cells

    F, H = module.input_size, module.hidden_size
    if isinstance(module, cells.ElmanCell):
        cell = ElmanRNN(F, H, activation=module.activation, seed=None, dtype=dtype)
    elif isinstance(module, torch.nn.RNNCell):
        cell = ElmanRNN(F, H, activation=module.nonlinearity, seed=None, dtype=dtype)
    elif (isinstance(module, cells.LSTMCell) and not (module.peephole or module.coupled)) \
            or isinstance(module, torch.nn.LSTMCell):
        cell = LSTM(F, H, seed=None, dtype=dtype)
    elif (isinstance(module, cells.GRUCell) and module.reset_after) or isinstance(module, torch.nn.GRUCell):
        cell = GRU(F, H, seed=None, dtype=dtype)
    else:
        raise RnnkitError(f"the scratch engine has no cell for {module!r}; it converts: {SUPPORTED}")
    return load_params(cell, dict(module.named_parameters()))


def to_torch(cell: ScratchCell, module=None):
    """A ``rnnkit.cells`` cell with a copy of ``cell``'s weights (in its dtype), or copy them into ``module``."""
    import torch

    from rnnkit import cells

    if module is None:
        if isinstance(cell, ElmanRNN):
            module = cells.ElmanCell(cell.input_size, cell.hidden_size, activation=cell.activation)
        elif isinstance(cell, LSTM):
            module = cells.LSTMCell(cell.input_size, cell.hidden_size)
        elif isinstance(cell, GRU):
            module = cells.GRUCell(cell.input_size, cell.hidden_size)
        else:
            raise RnnkitError(f"no torch cell for {cell!r}; convertible: ElmanRNN, LSTM, GRU")
        module = module.to(getattr(torch, cell.dtype.name))
    with torch.no_grad():
        for name in PARAMS:
            target = getattr(module, name)
            if tuple(target.shape) != cell.params[name].shape:
                raise RnnkitError(f"{name}: {module!r} has shape {tuple(target.shape)}, {cell!r} has {cell.params[name].shape}")
            target.copy_(torch.from_numpy(cell.params[name]))
    return module


def head_to_torch(head: SoftmaxHead):
    """The head as a ``torch.nn.Linear(H, V)`` with a copy of its weights."""
    import torch

    linear = torch.nn.Linear(head.hidden_size, head.vocab_size).to(getattr(torch, head.dtype.name))
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(head.params["weight"]))
        linear.bias.copy_(torch.from_numpy(head.params["bias"]))
    return linear


def head_from_torch(linear, dtype=np.float64) -> SoftmaxHead:
    """A softmax head with a copy of a ``torch.nn.Linear(H, V)``'s weights."""
    head = SoftmaxHead(linear.in_features, linear.out_features, seed=None, dtype=dtype)
    head.params["weight"] = linear.weight.detach().cpu().numpy().astype(dtype, copy=True)
    head.params["bias"] = linear.bias.detach().cpu().numpy().astype(dtype, copy=True)
    return head
