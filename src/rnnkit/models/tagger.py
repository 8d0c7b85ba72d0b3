"""A sequence tagger (course-notes §1, many-to-many synchronised: one tag per word, as in named-entity
recognition and part-of-speech tagging).

    words (B, T) -> word embedding (B, T, E)                  \\
    each word's characters -> char BiLSTM -> (B, T, 2C)        >- concatenated (B, T, E + 2C + S)
    each word's shape class -> shape embedding (B, T, S)      /
      -> dropout -> bidirectional stack of any cell (B, T, 2H) [-> with self-attention: [h_t ; c_t] (B, T, 4H)]
      -> dropout -> Dense (B, T, K) emissions
      -> softmax per token (cross-entropy, argmax), or a linear-chain CRF (forward algorithm, Viterbi)

Optional self-attention over the sentence (``--attention luong|bahdanau``; Li et al. 2019, "Remedying BiLSTM-CNN
deficiency in modeling cross-context for NER"): each direction of a BiLSTM sees only one side of a word, and
their concatenation never mixes the two sides. With attention each word's state h_t queries all the states of
its sentence (course-notes §8, ``rnnkit.models.attention``: α_tj = softmax_j score(h_t, h_j) over the real
words, c_t = Σ_j α_tj h_j), and the output layer reads ``[h_t ; c_t]``, so a word's tag can depend on a pattern
that spans both of its sides (``X said`` ... ``to X``).

An optional auxiliary language-modelling objective (``--lm-weight γ``, Rei 2017, "Semi-supervised multitask
learning for sequence labeling") asks the same stack to predict the neighbouring words: the forward state
``h→_t`` (which has read words 1..t) predicts word t+1 and the backward state ``h←_t`` (words t..n) predicts
word t-1, each through its own small layer ``softmax(W_o tanh(W_m h))`` over the ``--lm-vocab`` most frequent words
(any rarer word is the one class ``<unk>``). In training

    loss = tag loss + γ (CE(next word | h→) + CE(previous word | h←))     (each a mean over the words predicted)

so every word of every sentence teaches the encoder something about the language, not only the few words
that are entities. It needs one bidirectional layer (a second layer's forward states would already have
read the word to predict, through the first layer's backward states). Evaluation and decoding ignore it.

The character encoder (Plank et al. 2016; Lample et al. 2016) gives words never seen in training a
representation built from their spelling: ``c_w = [h_fwd_last ; h_bwd_first]`` of a BiLSTM over its letters.
It runs once per distinct word of the batch. The optional shape embedding (``--shape S``, 0: off) reads
a small class of each word's spelling (``rnnkit.tasks.tag.shape``: Capital, ALLCAPS, digits, @user, URL...),
so a capitalised name never seen in training is still marked as one. ``config`` is a ``TaggerConfig``
(``rnnkit.models.tagger_config``), valid: checked where it entered (the flags, ``check_fields``, a checkpoint).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from rnnkit.data.batching import length_mask
from rnnkit.errors import RnnkitError
from rnnkit.layers import build_rnn
from rnnkit.layers.config import RNNConfig
from rnnkit.models.attention import Attention
from rnnkit.models.crf import CRF, at_least_float32, bio_transitions, is_bio
from rnnkit.models.tagger_config import TaggerConfig

UNK_ID = 1  # the word vocabulary's <unk> (rnnkit.data.text.TokenVocab: 0 pads, 1 is unknown)


class CharEncoder(nn.Module):
    """``chars (U, L), lengths (U,) -> (U, 2C)``: the final states of a BiLSTM over each word's characters."""

    def __init__(self, num_chars: int, embedding: int, hidden: int, engine: str = "auto"):
        super().__init__()
        self.embed = nn.Embedding(num_chars, embedding, padding_idx=0)
        # a fixed one-layer BiLSTM with torch's default biases (no forget-gate bias)
        self.rnn = build_rnn(RNNConfig(cell="lstm", hidden=hidden, bidirectional=True, engine=engine), embedding,
                             forget_bias=None)
        self.output_size = 2 * hidden

    def forward(self, chars: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        _, (last_layer,) = self.rnn(self.embed(chars), None, lengths)
        s_fwd, s_bwd = last_layer  # each direction's state after reading the whole word (its own length)
        return torch.cat([s_fwd.h, s_bwd.h], dim=-1)  # (U, 2C)


class Tagger(nn.Module):
    """``forward((words, lengths, chars, char_lengths, slots, shapes), tags=None, state=None)
    -> (emissions, loss, None)``.

    ``words (B, T)`` word ids (0 pads), ``lengths (B,)``, ``chars (U, L)`` the characters of the U distinct
    words of the batch, ``char_lengths (U,)``, ``slots (B, T)`` which of them each position holds,
    ``shapes (B, T)`` each word's shape class (0 pads; read only with ``config.shape > 0``).
    ``tags (B, T)``: gold tag ids (anything at padding). The loss is per token: the mean cross-entropy, or
    the CRF's summed negative log-likelihood divided by the number of tokens.
    """

    def __init__(self, num_words: int, num_chars: int, tags: list[str], config: TaggerConfig, num_shapes: int = 0):
        super().__init__()
        c = self.config = config  # valid (--lm-weight with one layer: the task's check)
        self.tags = list(tags)
        self.embed = nn.Embedding(num_words, c.embedding, padding_idx=0)
        self.chars = CharEncoder(num_chars, c.char_embedding, c.char_hidden, c.rnn.engine) if c.chars else None
        self.shape = nn.Embedding(num_shapes, c.shape, padding_idx=0) if c.shape > 0 else None
        size = c.embedding + (self.chars.output_size if self.chars is not None else 0) + c.shape
        self.drop = nn.Dropout(c.rnn.dropout)
        self.rnn = build_rnn(c.rnn, size, bidirectional=True)
        states = self.rnn.output_size  # 2H
        self.attention = None if c.attention == "none" else Attention(c.attention, states, states)  # checks the kind
        self.head = nn.Linear(states * (1 if self.attention is None else 2), len(tags))
        self.lm = None
        if c.lm_weight > 0:
            half = states // 2
            self.lm_classes = min(c.lm_vocab, num_words)  # word ids are ranked by frequency: 0 pads, 1 is <unk>
            self.lm = nn.ModuleList(nn.Sequential(nn.Linear(half, c.lm_hidden), nn.Tanh(),
                                                  nn.Linear(c.lm_hidden, self.lm_classes)) for _ in range(2))
        self.crf = None
        if c.crf:
            allowed = bio_transitions(tags) if c.bio_constraints and is_bio(tags) else (None, None)
            self.crf = CRF(len(tags), *allowed)

    def emissions(self, inputs) -> torch.Tensor:
        return self.encode(inputs)[0]

    def encode(self, inputs) -> tuple[torch.Tensor, torch.Tensor]:
        """``(emissions (B, T, K), the bidirectional stack's states (B, T, 2H))``."""
        words, lengths, chars, char_lengths, slots, shapes = inputs
        if self.training and self.config.word_dropout > 0:  # some known words become <unk>, so <unk> is trained
            dropped = (torch.rand(words.shape, device=words.device) < self.config.word_dropout) & (words > UNK_ID)
            words = words.masked_fill(dropped, UNK_ID)
        x = self.embed(words)  # (B, T, E)
        if self.chars is not None:
            per_word = self.chars(chars, char_lengths)  # (U, 2C)
            x = torch.cat([x, per_word[slots]], dim=-1)  # (B, T, E + 2C)
        if self.shape is not None:
            x = torch.cat([x, self.shape(shapes)], dim=-1)  # (B, T, E + 2C + S)
        out, _ = self.rnn(self.drop(x), None, lengths)  # (B, T, 2H)
        features = out
        if self.attention is not None:
            valid = length_mask(lengths.to(out.device), out.shape[1])  # (B, T)
            context, _ = self.attention(out, out, self.attention.keys(out), valid)  # (B, T, 2H): c_t
            features = torch.cat([out, context], dim=-1)  # (B, T, 4H)
        return self.head(self.drop(features)), out  # (B, T, K), (B, T, 2H)

    def language_model_loss(self, states: torch.Tensor, words: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The sum of the two directions' cross-entropies of the neighbouring words, each a mean over the words
        predicted; a word outside the ``lm_classes`` most frequent is the class ``<unk>``.
        ``states (B, T, 2H)``, ``words (B, T)``, ``lengths (B,)``."""
        half = states.shape[-1] // 2
        valid = length_mask(lengths, words.shape[1])  # (B, T)
        words = words.masked_fill(words >= self.lm_classes, UNK_ID)
        keep = valid[:, 1:]  # (B, T-1): both w_t and w_{t+1} are words of the sentence
        if not keep.any():  # only one-word sentences: nothing to predict
            return states.sum() * 0
        return sum(F.cross_entropy(at_least_float32(head(self.drop(h[keep]))), target[keep])
                   for head, h, target in ((self.lm[0], states[:, :-1, :half], words[:, 1:]),  # h→_t predicts w_{t+1}
                                           (self.lm[1], states[:, 1:, half:], words[:, :-1])))  # h←_{t+1} predicts w_t

    def forward(self, inputs, targets: torch.Tensor | None = None, state=None):
        emissions, states = self.encode(inputs)  # (B, T, K), (B, T, 2H)
        loss = None
        if targets is not None:
            lengths = inputs[1]
            valid = length_mask(lengths, emissions.shape[1])  # (B, T)
            if self.crf is not None:
                loss = self.crf.nll(emissions, targets, lengths).sum() / valid.sum()
            else:
                loss = F.cross_entropy(emissions[valid].float(), targets[valid])
            if self.lm is not None and self.training:
                loss = loss + self.config.lm_weight * self.language_model_loss(states, inputs[0], lengths)
        return emissions, loss, None

    @torch.no_grad()
    def decode(self, inputs) -> list[list[int]]:
        """The tag ids of each sentence: Viterbi with a CRF, else the per-token argmax (greedy)."""
        return ensemble_decode([self], [self.emissions(inputs)], inputs[1])


@torch.no_grad()
def ensemble_decode(taggers: list[Tagger], emissions: list[torch.Tensor], lengths: torch.Tensor) -> list[list[int]]:
    """The tag ids of each sentence under several taggers of the same tags, each with its emissions ``(B, T, K)``
    of the same sentences: their emissions (and CRF scores) averaged, then Viterbi or the per-token argmax.

    Averaging the scores of log-linear models is the normalised geometric mean of their distributions, a
    product of experts: ``p(y | x) ∝ Π_m p_m(y | x)^(1/M)``. One tagger decodes as itself."""
    first = taggers[0]
    if any(t.tags != first.tags or (t.crf is None) != (first.crf is None) for t in taggers):
        raise RnnkitError("an ensemble's taggers must share their tags and all have a CRF or none")
    mean = torch.stack([at_least_float32(e) for e in emissions]).mean(0)  # (B, T, K)
    if first.crf is not None:
        scores = [torch.stack(s).mean(0) for s in zip(*(t.crf.scores() for t in taggers))]  # trans, start, end
        return first.crf.viterbi(mean, lengths, scores)[0]
    best = mean.argmax(-1).tolist()  # (B, T)
    return [row[: int(n)] for row, n in zip(best, lengths.tolist())]
