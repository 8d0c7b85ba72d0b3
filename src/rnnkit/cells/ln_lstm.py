"""The layer-normalised LSTM (Ba, Kiros & Hinton 2016, "Layer Normalization", §3.1 and appendix).

Layer normalisation rescales a vector of summed inputs to mean 0 and variance 1 over its units, then
applies a learned gain and bias. In an RNN it keeps the scale of the recurrent input steady from step
to step, which the paper finds makes the LSTM train faster and more stably than batch normalisation
(which needs statistics per time step). torch's cuDNN LSTM has no such cell; rnnkit's fused engine does.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from rnnkit.cells.base import LSTMState, RecurrentCell
from rnnkit.cells.equations import equations

#: added to the variance before the square root, as torch.nn.LayerNorm's default
EPS = 1e-5


def normalise(v: torch.Tensor, blocks: int = 1, eps: float = EPS) -> torch.Tensor:
    """N(v): each of the ``blocks`` equal blocks of each row of ``v (B, blocks*H)`` to mean 0 and variance 1.

        N(v) = (v - mean_H(v)) / sqrt(var_H(v) + eps)        (var biased: divided by H)
    """
    B = v.shape[0]
    u = v.reshape(B, blocks, -1)  # (B, blocks, H)
    mean = u.mean(dim=2, keepdim=True)  # (B, blocks, 1)
    var = u.var(dim=2, unbiased=False, keepdim=True)  # (B, blocks, 1)
    return ((u - mean) / torch.sqrt(var + eps)).reshape(v.shape)  # (B, blocks*H)


@equations({
    'ln-lstm': ("layer-normalised LSTM (Ba, Kiros & Hinton 2016): N normalises each gate's block over its H units", (
        'N(v) = (v - mean(v)) / sqrt(var(v) + 1e-5)     per gate block, over the H units',
        'a_t = g_ih * N(W_ih x_t) + g_hh * N(W_hh h_{t-1}) + b_ih + b_hh',
        'i_t, f_t, g_t, o_t = σ(a_i), σ(a_f), tanh(a_g), σ(a_o)',
        'c_t = f_t * c_{t-1} + i_t * g_t',
        'h_t = o_t * tanh(g_c * N(c_t) + b_c)',
    )),
})
class LayerNormLSTMCell(RecurrentCell):
    """LSTM whose input and recurrent products, and whose memory cell, are layer-normalised.

    Gate order i, f, g, o, as ``LSTMCell``. With N normalising each gate's block of H units separately:

        a   = g_ih * N(W_ih x_t) + g_hh * N(W_hh h_{t-1}) + b_ih + b_hh            (B, 4H)
        i = σ(a_i)    f = σ(a_f)    g = tanh(a_g)    o = σ(a_o)                    each (B, H)
        c_t = f * c_{t-1} + i * g
        h_t = o * tanh(g_c * N(c_t) + b_c)

    Parameters: ``weight_ih (4H, F)``, ``weight_hh (4H, H)``, ``bias_ih (4H,)``, ``bias_hh (4H,)`` as
    every cell, then the normalisations' gains and bias ``ln_gain_ih (4H,)``, ``ln_gain_hh (4H,)``,
    ``ln_gain_c (H,)`` and ``ln_bias_c (H,)``. The two products are normalised separately, so the
    input's scale and the recurrent state's scale are each held fixed; the gains start at 1 and
    ``ln_bias_c`` at 0 (the paper's initialisation), the weights and biases as torch.nn's LSTM.
    The recurrent initialisations (orthogonal, identity, spectral) act on ``weight_hh`` as for any
    cell, and ``forget_bias`` sets the f block of ``bias_ih``. State: ``LSTMState(h, c)``; output h_t.
    """

    num_gates = 4
    forget_gate = 1
    has_cell_state = True

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__(input_size, hidden_size)  # weight_ih, weight_hh, bias_ih, bias_hh
        G, H = self.num_gates, hidden_size
        self.ln_gain_ih = nn.Parameter(torch.empty(G * H))  # (4H,)
        self.ln_gain_hh = nn.Parameter(torch.empty(G * H))  # (4H,)
        self.ln_gain_c = nn.Parameter(torch.empty(H))  # (H,)
        self.ln_bias_c = nn.Parameter(torch.empty(H))  # (H,)
        self.reset_layer_norm()

    def reset_parameters(self) -> None:
        """Weights and biases ~ U(-1/sqrt(H), 1/sqrt(H)) (torch.nn's LSTM); gains 1, ``ln_bias_c`` 0."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh):
            nn.init.uniform_(p, -bound, bound)
        if hasattr(self, "ln_bias_c"):  # the base class calls this before the gains exist
            self.reset_layer_norm()

    @torch.no_grad()
    def reset_layer_norm(self) -> None:
        for gain in (self.ln_gain_ih, self.ln_gain_hh, self.ln_gain_c):
            gain.fill_(1.0)
        self.ln_bias_c.zero_()

    def forward(self, x: torch.Tensor, state: LSTMState):  # x (B, F), h, c (B, H)
        h, c = state
        G = self.num_gates
        a = (
            self.ln_gain_ih * normalise(nn.functional.linear(x, self.weight_ih), G)  # (B, 4H)
            + self.ln_gain_hh * normalise(nn.functional.linear(h, self.weight_hh), G)
            + self.bias_ih
            + self.bias_hh
        )
        i, f, g, o = a.chunk(4, dim=1)  # each (B, H)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c = f * c + i * g
        h = o * torch.tanh(self.ln_gain_c * normalise(c) + self.ln_bias_c)
        return h, LSTMState(h, c)
