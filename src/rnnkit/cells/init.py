"""The course's initialisations of the recurrent weights (course-notes §4).

Each scheme acts on every gate's ``(H, H)`` block of ``weight_hh`` separately:

- ``default``: torch.nn's U(-1/sqrt(H), 1/sqrt(H)) for every weight and bias;
- ``orthogonal``: each block a random orthogonal matrix (all singular values 1), biases 0;
- ``identity``: each block I and the biases 0 (IRNN, Le et al. 2015), so at first h_t = relu(h_{t-1} + W x_t);
- ``spectral``: each block Gaussian, rescaled so its spectral radius (largest |eigenvalue|) is
  ``spectral_radius``: below 1 the linearised dynamics forget, above 1 they explode.

``forget_bias`` then sets the forget gate's bias (the LSTM's ``b_f``, the GRU's update gate ``b_z``, in
``bias_ih``; ``bias_hh``'s block is zeroed) so that the cell remembers by default (Gers 2000;
Jozefowicz 2015 suggest 1).

Cells without recurrent weights (minGRU, minLSTM: their gates see x_t only) take ``default`` and
``forget_bias`` (minLSTM's b_f); the other schemes act on ``weight_hh`` and raise an RnnkitError there.
"""

from __future__ import annotations

import torch
from torch import nn

from rnnkit.cells.base import RecurrentCell
from rnnkit.errors import RnnkitError, unknown_choice

INITS = ("default", "orthogonal", "identity", "spectral")


def spectral_radius(w: torch.Tensor) -> float:
    """Largest |eigenvalue| of a square matrix."""
    return float(torch.linalg.eigvals(w.detach().double()).abs().max())


@torch.no_grad()
def init_cell_(
    cell: RecurrentCell,
    scheme: str = "default",
    spectral_radius_: float = 1.0,
    forget_bias: float | None = None,
    generator: torch.Generator | None = None,
) -> RecurrentCell:
    """Re-initialise ``cell`` in place with ``scheme`` (one of INITS); returns the cell."""
    if scheme not in INITS:
        raise unknown_choice("initialisation", scheme, INITS)
    if scheme != "default" and not cell.has_recurrent_weights:
        raise RnnkitError(
            f"initialisation {scheme!r} sets the recurrent weights W_hh, and {type(cell).__name__} has none "
            "(its gates see x_t only); use the default initialisation"
        )
    cell.reset_parameters()
    H = cell.hidden_size
    blocks = cell.weight_hh.view(cell.num_gates, H, H) if cell.has_recurrent_weights else ()  # (H, H) per gate
    if scheme != "default":
        cell.bias_ih.zero_()
        cell.bias_hh.zero_()
    for block in blocks:
        if scheme == "orthogonal":
            nn.init.orthogonal_(block, generator=generator)
        elif scheme == "identity":
            block.copy_(torch.eye(H))
        elif scheme == "spectral":
            if not spectral_radius_ > 0:
                raise RnnkitError(f"spectral radius must be > 0, got {spectral_radius_}")
            if block.is_meta:  # shapes only (rnnkit.train.memory counts parameters): no values to set
                continue
            w = torch.randn(H, H, generator=generator, dtype=torch.float64)
            block.copy_(w * (spectral_radius_ / spectral_radius(w)))
    if forget_bias is not None:
        if cell.forget_gate is None:
            raise RnnkitError(
                f"{type(cell).__name__} has no forget gate, so forget_bias does not apply; "
                "use it with lstm, peephole-lstm, coupled-lstm, gru or minlstm"
            )
        k = cell.forget_gate
        cell.bias_ih[k * H : (k + 1) * H] = forget_bias
        if cell.has_recurrent_weights:
            cell.bias_hh[k * H : (k + 1) * H] = 0.0
    return cell
