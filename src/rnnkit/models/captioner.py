"""Image captioning (course-notes §1, one-to-many): an image in, a sentence out.

    image (B, 96, 96, 3) -> CNN encoder -> features a_1..a_L (B, L, C), a 6x6 grid (L = 36)
    mean feature  ā = (1/L) Σ_i a_i;  first state  h_0 = tanh(W_h ā + b_h),  c_0 = tanh(W_c ā + b_c)
    decoder (any cell), one word per step from <s> to </s>

Three variants share everything else:

``show`` (Show and Tell, Vinyals et al. 2015): the image only initialises the state;
    h_t = RNN(E y_{t-1}, h_{t-1}),  p(y_t) = softmax(W_o h_t).
    With teacher forcing the whole caption is one pass of the (fused) RNN.

``attend`` (Show, Attend and Tell, Xu et al. 2015, soft attention), at every step:
    e_ti = vᵀ tanh(W_q h_{t-1} + W_k a_i),  α_ti = softmax_i(e_ti)   (Σ_i α_ti = 1)
    β_t = σ(w_β · h_{t-1} + b_β)                                      the gate on the context
    ẑ_t = β_t Σ_i α_ti a_i
    h_t = RNN([E y_{t-1}; ẑ_t], h_{t-1})
    p(y_t) = softmax(L_o tanh(E y_{t-1} + L_h h_t + L_z ẑ_t))        the deep output
    loss = -Σ_t log p(y_t) / n  +  λ (1/L) Σ_i (1 - Σ_t α_ti)²         the doubly stochastic regulariser
    (Xu's sum over i is divided by L here, so λ does not depend on the grid size.)

``blind``: a language model that never sees the image (ā = 0), the baseline showing the image is used.

``encode(images) -> CaptionState`` then ``step(tokens (N,), state) -> (log_probs (N, V), state)`` is the
interface of ``rnnkit.decoding``, so greedy, beam, sampling and exhaustive search are shared with the
other decoders. ``config`` is a ``CaptionerConfig`` (``rnnkit.models.captioner_config``), valid: checked where it
entered (the flags, ``check_fields``, a checkpoint).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from rnnkit.cells.base import LSTMState
from rnnkit.errors import RnnkitError
from rnnkit.layers import build_rnn
from rnnkit.layers.state import map_state
from rnnkit.models.attention import Attention
from rnnkit.models.captioner_config import CaptionerConfig
from rnnkit.models.cnn_encoder import CNNEncoder

PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3  # the vocabulary's first ids: <pad> <unk> <s> </s>


class CaptionState(NamedTuple):
    """All a decoder step needs, batch-first so the decoders can select and repeat hypotheses."""

    rnn: object  # the decoder RNN's state, one entry per layer (a tensor or LSTMState(h, c))
    memory: torch.Tensor  # (N, L, C) the image features a_i
    keys: torch.Tensor  # (N, L, K) attention keys W_k a_i ((N, L, 0) without attention)
    mask: torch.Tensor  # (N, L) True everywhere: every grid position is real


def top_hidden(rnn_state) -> torch.Tensor:
    top = rnn_state[-1]
    return top.h if isinstance(top, LSTMState) else top


class Captioner(nn.Module):
    """``forward((tgt_in (N, T), images (B, H, W, 3) uint8, owner (N,)), tgt_out (N, T)) -> (None, loss, None)``:
    caption n describes image ``owner[n]``, so the image is encoded once for all its captions."""

    def __init__(self, vocab_size: int, config: CaptionerConfig):
        super().__init__()
        c = self.config = config  # valid: checked where it entered
        E, H = c.embedding, c.rnn.hidden
        self.attend = c.variant == "attend"
        self.encoder = CNNEncoder(c.channels) if c.variant != "blind" else None
        C = self.encoder.size if self.encoder is not None else 1  # blind: one zero feature
        self.embed = nn.Embedding(vocab_size, E, padding_idx=PAD_ID)
        self.drop = nn.Dropout(c.rnn.dropout)
        # one layer (the dropout is the captioner's, not between layers)
        self.decoder = build_rnn(c.rnn, E + (C if self.attend else 0), num_layers=1, bidirectional=False, dropout=0.0,
                                 residual=False)
        self.has_cell = self.decoder.layers[0].cell.has_cell_state
        self.init_h = nn.Linear(C, H)  # W_h, b_h
        self.init_c = nn.Linear(C, H) if self.has_cell else None  # W_c, b_c
        if self.attend:
            self.attention = Attention("bahdanau", H, C, c.attention_size)
            self.gate = nn.Linear(H, 1)  # w_β, b_β
            self.out_h = nn.Linear(H, E)  # L_h
            self.out_z = nn.Linear(C, E, bias=False)  # L_z
            self.out = nn.Linear(E, vocab_size)  # L_o
        else:
            self.out = nn.Linear(H, vocab_size)  # W_o

    # ------------------------------------------------------------------ encoder
    def grid_shape(self, height: int, width: int) -> tuple[int, int]:
        return self.encoder.grid_shape(height, width) if self.encoder is not None else (1, 1)

    def encode(self, images: torch.Tensor, owner: torch.Tensor | None = None) -> CaptionState:
        """The decoder's first state for ``images (B, H, W, 3)``; with ``owner (N,)``, one row per caption."""
        if self.encoder is None:
            memory = torch.zeros(images.shape[0], 1, 1, device=images.device)  # (B, 1, 1)
        else:
            memory = self.encoder(images)  # (B, L, C)
        mean = memory.mean(dim=1)  # (B, C)  ā
        h0 = torch.tanh(self.init_h(mean))  # (B, H)
        rnn = (LSTMState(h0, torch.tanh(self.init_c(mean))),) if self.has_cell else (h0,)
        keys = self.attention.keys(memory) if self.attend else memory.new_zeros(*memory.shape[:2], 0)
        mask = torch.ones(memory.shape[:2], dtype=torch.bool, device=memory.device)
        state = CaptionState(rnn, memory, keys, mask)
        if owner is not None:
            state = map_state(lambda t: t.index_select(0, owner), state)
        return state

    # ------------------------------------------------------------------ decoder
    def features(self, embedded: torch.Tensor, h: torch.Tensor, z: torch.Tensor | None) -> torch.Tensor:
        """The output layer's input: ``tanh(E y + L_h h + L_z ẑ)`` (attend) or ``h`` (show, blind)."""
        if not self.attend:
            return h
        return torch.tanh(embedded + self.out_h(h) + self.out_z(z))

    def log_probs(self, features: torch.Tensor) -> torch.Tensor:
        return F.log_softmax(self.out(self.drop(features)).float(), dim=-1)

    def decode_features_step(self, tokens: torch.Tensor, state: CaptionState):
        """One step: ``(features (N, ·), new state, α (N, L) or None)`` for the previous words ``(N,)``."""
        embedded = self.drop(self.embed(tokens))  # (N, E)
        x, z, alpha = embedded, None, None
        if self.attend:
            query = top_hidden(state.rnn)  # h_{t-1}
            context, alpha = self.attention(query, state.memory, state.keys, state.mask)  # (N, C), (N, L)
            z = torch.sigmoid(self.gate(query)) * context  # ẑ_t = β_t Σ_i α_ti a_i
            x = torch.cat([embedded, z], dim=-1)
        h, rnn = self.decoder(x.unsqueeze(1), state.rnn)  # (N, 1, H)
        h = h.squeeze(1)
        return self.features(embedded, h, z), state._replace(rnn=rnn), alpha

    def step(self, tokens: torch.Tensor, state: CaptionState):
        """``rnnkit.decoding``'s step: log-probabilities of the next word ``(N, V)`` and the new state."""
        features, state, _ = self.decode_features_step(tokens, state)
        return self.log_probs(features), state

    def decode_features(self, state: CaptionState, tgt_in: torch.Tensor):
        """Teacher forced: features ``(N, T, ·)`` and α ``(N, T, L)`` (or None) for the inputs ``tgt_in (N, T)``.

        Without attention the caption is one whole-sequence pass of the RNN (torch's fused kernel where
        the cell allows it); with attention the query h_{t-1} needs the previous step, so one step per word.
        """
        if not self.attend:
            h, _ = self.decoder(self.drop(self.embed(tgt_in)), state.rnn)  # (N, T, H)
            return h, None
        features, alphas = [], []
        for t in range(tgt_in.shape[1]):
            f, state, alpha = self.decode_features_step(tgt_in[:, t], state)
            features.append(f)
            alphas.append(alpha)
        return torch.stack(features, dim=1), torch.stack(alphas, dim=1)

    def decode(self, state: CaptionState, tgt_in: torch.Tensor):
        """log p ``(N, T, V)`` and α ``(N, T, L)`` or None, teacher forced."""
        features, alpha = self.decode_features(state, tgt_in)
        return self.log_probs(features), alpha

    def forward(self, inputs, targets: torch.Tensor | None = None, state=None):
        """Without ``targets``: log p ``(N, T, V)``. With them: the mean cross-entropy per real word plus the
        attention regulariser; the output layer sees only the real (non-padding) positions."""
        tgt_in, images, owner = inputs  # (N, T), (B, H, W, 3), (N,)
        features, alpha = self.decode_features(self.encode(images, owner), tgt_in)  # (N, T, ·)
        if targets is None:
            return self.log_probs(features), None, None
        real = targets != PAD_ID  # (N, T)
        loss = F.cross_entropy(self.out(self.drop(features[real])).float(), targets[real])
        if alpha is not None and self.config.doubly_stochastic > 0:
            coverage = (alpha * real.unsqueeze(-1)).sum(dim=1)  # (N, L)  Σ_t α_ti
            loss = loss + self.config.doubly_stochastic * ((1.0 - coverage) ** 2).mean()
        return None, loss, None

    @torch.no_grad()
    def attention_maps(self, images: torch.Tensor, output: list[int]) -> torch.Tensor:
        """α ``(T, L)`` of one image ``(1, H, W, 3)`` while the decoder produces ``output`` (ending with </s>)."""
        if not self.attend:
            raise RnnkitError(f"this model has no attention (it is the {self.config.variant!r} variant; train "
                              "with --variant attend)")
        tgt_in = torch.tensor([[BOS_ID, *output[:-1]]], device=images.device)
        _, alpha = self.decode(self.encode(images), tgt_in)
        return alpha[0]
