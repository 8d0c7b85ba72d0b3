"""The encoder-decoder (course-notes §8): "the cat sat on the mat" -> "le chat était assis sur le tapis".

    source ids (B, S) -> embedding -> encoder RNN (stacked, optionally bidirectional)
                      -> memory (B, S, M): every source position's state;  final state
    final state -> bridge -> the decoder's first state s_0
    decoder, one target word per step:  y_{t-1} -> embedding -> decoder RNN -> [attention] -> p(y_t | y_<t, x)

The decoder starts from ``<s>`` and stops at ``</s>``. In training the previous word it reads is the
true one with probability ``teacher_forcing`` (teacher forcing), else its own prediction.

With attention, the output at step t is the attentional state ``õ_t = tanh(W_c [c_t; h_t])`` and
``p(y_t) = softmax(W_o õ_t)``; without it, ``p(y_t) = softmax(W_o h_t)``. Bahdanau's context enters the
step as an input (``x_t = [emb(y_{t-1}); c_t]``, query s_{t-1}); Luong's is computed from h_t after it.

The bridge: a unidirectional encoder's final state is the decoder's first state as it is (layer l to
layer l); a bidirectional encoder's two final states are merged per layer, ``s_0 = tanh(W_b [s_fwd; s_bwd])``
(for the LSTM, h and c each with their own W_b).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from rnnkit.cells.base import LSTMState
from rnnkit.data.batching import length_mask
from rnnkit.errors import RnnkitError, unknown_choice
from rnnkit.layers import build_rnn
from rnnkit.layers.state import flatten_state, unflatten_state
from rnnkit.models.attention import Attention
from rnnkit.models.seq2seq_config import OUTPUTS, Seq2SeqConfig

PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3  # the target vocabulary's first ids: <pad> <unk> <s> </s>


def wide(x: torch.Tensor) -> torch.Tensor:
    """float32 for the softmax when computing in half precision (bf16 autocast); float64 stays."""
    return x if x.dtype in (torch.float32, torch.float64) else x.float()


def adaptive_softmax(hidden: int, vocab: int) -> nn.Module:
    """Grave et al. (2017): the most frequent words in a full-size head, the rarer ones in two clusters
    of smaller projections (÷4, ÷16), reached through the head. The vocabulary must be sorted by
    frequency (``TokenVocab.build`` is). Below ~1,000 words it is a plain softmax."""
    clusters = 2 if hidden >= 64 else 1 if hidden >= 16 else 0  # each cluster's projection keeps >= 4 units
    cutoffs = [vocab // 8, vocab // 3][:clusters] if vocab >= 1000 else []
    if not cutoffs:
        return nn.Linear(hidden, vocab)
    return nn.AdaptiveLogSoftmaxWithLoss(hidden, vocab, cutoffs, div_value=4.0)


class DecoderState(NamedTuple):
    """All a decoder step needs, batch-first so the decoders can select and repeat hypotheses."""

    rnn: object  # the decoder RNN's state: one entry per layer
    memory: torch.Tensor  # (N, S, M) the encoder's outputs
    keys: torch.Tensor  # (N, S, K) attention keys W_k h_j ((N, S, 0) without attention)
    mask: torch.Tensor  # (N, S) True on real source positions


def top_hidden(rnn_state) -> torch.Tensor:
    """The last layer's hidden state h ``(N, H)`` of a stacked state."""
    top = rnn_state[-1]
    return top.h if isinstance(top, LSTMState) else top


class Seq2Seq(nn.Module):
    """``forward((src (B, S), src_lengths (B,), tgt_in (B, T)), tgt_out (B, T)) -> (log_probs, loss, None)``.

    ``encode`` then ``step`` is the interface of ``rnnkit.decoding``: ``step(tokens (N,), state) ->
    (log_probs (N, V), state)``.
    """

    def __init__(self, source_vocab: int, target_vocab: int, config: Seq2SeqConfig):
        super().__init__()
        c = self.config = config  # valid: checked where it entered (the flags, check_fields, a checkpoint)
        r, H = c.rnn, c.rnn.hidden
        self.src_embed = nn.Embedding(source_vocab, c.embedding, padding_idx=PAD_ID)
        self.tgt_embed = nn.Embedding(target_vocab, c.embedding, padding_idx=PAD_ID)
        self.drop = nn.Dropout(r.dropout)
        self.encoder = build_rnn(r, c.embedding)
        M = self.encoder.output_size  # memory size: H, or 2H when bidirectional
        self.attention = Attention(c.attention, H, M) if c.attention != "none" else None
        extra_input = M if c.attention == "bahdanau" else 0  # Bahdanau feeds the context into the step
        self.decoder = build_rnn(r, c.embedding + extra_input, bidirectional=False)  # the decoder reads forwards
        components = 2 if self.decoder.layers[0].cell.has_cell_state else 1  # h, or h and c
        self.bridge = nn.ModuleList(nn.Linear(2 * H, H) for _ in range(r.layers * components)) if r.bidirectional else None
        self.combine = nn.Linear(M + H, H) if self.attention is not None else None  # W_c
        if c.output == "full":
            self.out = nn.Linear(H, target_vocab)  # W_o
        elif c.output == "adaptive":
            self.out = adaptive_softmax(H, target_vocab)
        else:
            raise unknown_choice("output layer", c.output, OUTPUTS)

    # ------------------------------------------------------------------ encoder
    def encode(self, src: torch.Tensor, lengths: torch.Tensor) -> DecoderState:
        """The decoder's first state from ``src (B, S)`` of ``lengths (B,)``."""
        lengths = lengths.to(src.device)
        memory, final = self.encoder(self.drop(self.src_embed(src)), None, lengths)  # (B, S, M)
        B, S = src.shape
        mask = length_mask(lengths, S)  # (B, S)
        keys = self.attention.keys(memory) if self.attention is not None else memory.new_zeros(B, S, 0)
        return DecoderState(self.bridged(final), memory, keys, mask)

    def bridged(self, final):
        """The encoder's final state (per layer) -> the decoder's first state (per layer)."""
        if self.bridge is None:
            return final
        layers = []
        for l, (fwd, bwd) in enumerate(final):
            structure, f = flatten_state(fwd)
            _, b = flatten_state(bwd)
            k = len(f)
            merged = [torch.tanh(self.bridge[l * k + i](torch.cat([x, y], dim=-1))) for i, (x, y) in enumerate(zip(f, b))]
            layers.append(unflatten_state(structure, merged))
        return tuple(layers)

    # ------------------------------------------------------------------ decoder
    def decode_step(self, tokens: torch.Tensor, state: DecoderState):
        """One step: previous words ``(N,)`` -> log p(y_t) ``(N, V)``, the new state, α ``(N, S)`` or None."""
        h, state, alpha = self.decode_features_step(tokens, state)
        return self.log_probs(h), state, alpha

    def log_probs(self, features: torch.Tensor) -> torch.Tensor:
        """The output layer: ``(..., H) -> log p over the target words (..., V)``, in float32."""
        x = self.drop(features)
        if isinstance(self.out, nn.AdaptiveLogSoftmaxWithLoss):
            return self.out.log_prob(wide(x).flatten(0, -2)).view(*x.shape[:-1], -1)
        return F.log_softmax(wide(self.out(x)), dim=-1)

    def loss(self, features: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy ``-log p(target)`` of ``features (N, H)`` against ``targets (N,)``."""
        x = self.drop(features)
        if isinstance(self.out, nn.AdaptiveLogSoftmaxWithLoss):
            return self.out(wide(x), targets).loss
        return F.cross_entropy(wide(self.out(x)), targets)

    def decode_features_step(self, tokens: torch.Tensor, state: DecoderState):
        """One step up to the output layer: ``(õ_t or h_t (N, H), new state, α (N, S) or None)``."""
        x = self.drop(self.tgt_embed(tokens))  # (N, E)
        alpha = None
        if self.config.attention == "bahdanau":  # query s_{t-1}: the context is an input of the step
            context, alpha = self.attention(top_hidden(state.rnn), state.memory, state.keys, state.mask)
            x = torch.cat([x, context], dim=-1)
        h, rnn = self.decoder(x.unsqueeze(1), state.rnn)  # (N, 1, H)
        h = h.squeeze(1)
        if self.config.attention == "luong":  # query h_t
            context, alpha = self.attention(h, state.memory, state.keys, state.mask)
        if self.attention is not None:
            h = torch.tanh(self.combine(torch.cat([context, h], dim=-1)))  # õ_t
        return h, state._replace(rnn=rnn), alpha

    def step(self, tokens: torch.Tensor, state: DecoderState):
        """``rnnkit.decoding``'s step: log-probabilities of the next word ``(N, V)`` and the new state."""
        log_probs, state, _ = self.decode_step(tokens, state)
        return log_probs, state

    def decode(self, state: DecoderState, tgt_in: torch.Tensor, teacher_forcing: float = 1.0):
        """log p ``(B, T, V)`` and attention ``(B, T, S)`` (or None) for the decoder inputs ``tgt_in (B, T)``."""
        features, alpha = self.decode_features(state, tgt_in, teacher_forcing)
        return self.log_probs(features), alpha

    def decode_features(self, state: DecoderState, tgt_in: torch.Tensor, teacher_forcing: float = 1.0):
        """The output layer's inputs ``(B, T, H)`` (õ_t, or h_t without attention) and α ``(B, T, S)`` or None.

        With full teacher forcing and no Bahdanau attention the decoder RNN runs over the whole target
        at once (the fused engine where valid) and attention is one batched product; otherwise one
        ``decode_step`` per word, feeding back the model's own best word where teacher forcing says so.
        Both give the same result for the same inputs.
        """
        if teacher_forcing >= 1.0 and self.config.attention != "bahdanau":
            h, _ = self.decoder(self.drop(self.tgt_embed(tgt_in)), state.rnn)  # (B, T, H)
            alpha = None
            if self.attention is not None:
                context, alpha = self.attention(h, state.memory, state.keys, state.mask)  # (B, T, M), (B, T, S)
                h = torch.tanh(self.combine(torch.cat([context, h], dim=-1)))
            return h, alpha
        features, alphas = [], []
        tokens = tgt_in[:, 0]
        for t in range(tgt_in.shape[1]):
            if t > 0 and teacher_forcing < 1.0:
                own = self.log_probs(features[-1]).argmax(-1)  # (B,) the model's previous best word
                forced = torch.rand(tokens.shape, device=tokens.device) < teacher_forcing
                tokens = torch.where(forced, tgt_in[:, t], own)
            elif t > 0:
                tokens = tgt_in[:, t]
            h, state, alpha = self.decode_features_step(tokens, state)
            features.append(h)
            alphas.append(alpha)
        alpha = torch.stack(alphas, dim=1) if alphas[0] is not None else None
        return torch.stack(features, dim=1), alpha

    def forward(self, inputs, targets: torch.Tensor | None = None, state=None):
        """Without ``targets``: log p ``(B, T, V)``. With ``targets (B, T)``: the mean cross-entropy over
        the real (non-padding) target positions, computed on them only (the output layer, the costliest
        part, skips the padding), and no log-probabilities."""
        src, lengths, tgt_in = inputs  # (B, S), (B,), (B, T)
        ratio = self.config.teacher_forcing if self.training else 1.0
        features, _ = self.decode_features(self.encode(src, lengths), tgt_in, ratio)  # (B, T, H)
        if targets is None:
            return self.log_probs(features), None, None
        real = targets != PAD_ID  # (B, T)
        return None, self.loss(features[real], targets[real]), None  # features[real]: (N, H)

    @torch.no_grad()
    def attention_matrix(self, src: torch.Tensor, lengths: torch.Tensor, output: list[int]) -> torch.Tensor:
        """α ``(T, S)`` of one sentence ``src (1, S)`` while the decoder produces ``output`` (ending with </s>)."""
        if self.attention is None:
            raise RnnkitError("this model has no attention (it was trained with --attention none)")
        tgt_in = torch.tensor([[BOS_ID, *output[:-1]]], device=src.device)
        _, alpha = self.decode(self.encode(src, lengths), tgt_in)
        return alpha[0]
