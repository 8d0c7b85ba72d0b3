"""Tagging data: CoNLL-U and two-column CoNLL readers, word/character/tag vocabularies, the encoded batches
the tagger reads (``TagBatch``), and the sampler of mini-batches bucketed by length.

Readers return ``Sentence(words, tags, lines)``, ``lines`` the 1-based line number of each word, so every
later error (an unknown tag, a sentence too long) names the file and the line. CoNLL-U: the word is column
2 and the tag column 4 (UPOS) or 5 (XPOS); comment lines (``#``), multi-word token lines (``3-4``) and empty
nodes (``8.1``) are skipped. Two-column CoNLL: ``token<TAB>tag`` (or space-separated), a blank line between
sentences.

Bucketing. Each epoch shuffles the sentences, cuts the order into pools of ``POOL`` batches, sorts each pool
by length, cuts it into batches and shuffles the batches: a batch holds sentences of similar lengths (little
padding) while the epoch stays random. It is a pure function of the step, so ``--resume`` continues exactly.

Case augmentation (``--case-augment P``, Mayhew et al. 2019). Each training sentence of a batch is read, with
probability P (drawn from the step's generator, ``rnnkit.tasks.batches.step_generator``), all in lowercase: its characters and word shapes as if nobody had pressed shift (the word
embedding already reads lowercased words). Social-media text often names things without capitals ("ariana
grande", "netflix"), and a tagger that only ever saw "Netflix" learns that a capital *is* the entity. The draw is
a pure function of the step too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch

from rnnkit.data.batching import pad_sequences
from rnnkit.data.text import TokenVocab, read_utf8
from rnnkit.errors import RnnkitError, unknown_choice
from rnnkit.data.batching import step_generator
from rnnkit.tasks.tag.shape import word_shape
from rnnkit.train.distributed import span

FORMATS = ("auto", "conllu", "conll")
TAG_COLUMNS = {"upos": 3, "xpos": 4}  # 0-based CoNLL-U columns
POOL = 50  # batches per sorting pool


@dataclass
class Sentence:
    words: list[str]
    tags: list[str]
    lines: list[int]  # 1-based line of each word in its file


def read_tagged(path, fmt: str = "auto", tag_column: str = "upos", max_len: int = 0) -> list[Sentence]:
    """The sentences of a CoNLL-U or two-column CoNLL file; ``max_len`` > 0 refuses longer sentences."""
    if fmt not in FORMATS:
        raise unknown_choice("format", fmt, FORMATS)
    if tag_column not in TAG_COLUMNS:
        raise unknown_choice("tag column", tag_column, TAG_COLUMNS)
    if fmt == "auto":
        fmt = "conllu" if str(path).endswith(".conllu") else "conll"
    text = read_utf8(path, "a CoNLL-U or two-column CoNLL file")
    column = TAG_COLUMNS[tag_column] if fmt == "conllu" else 1
    sentences, current = [], Sentence([], [], [])

    def close():
        nonlocal current
        if current.words:
            if max_len and len(current.words) > max_len:
                raise RnnkitError(f"{path}:{current.lines[0]}: a sentence of {len(current.words)} words is longer "
                                  f"than --max-len {max_len}; raise --max-len or split it")
            sentences.append(current)
        current = Sentence([], [], [])

    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            close()
            continue
        if fmt == "conllu":
            if line.startswith("#"):
                continue
            cols = line.split("\t")
            if "-" in cols[0] or "." in cols[0]:  # multi-word token 3-4, empty node 8.1
                continue
        else:
            cols = line.split("\t") if "\t" in line else line.split()
        if len(cols) <= column or not cols[1 if fmt == "conllu" else 0] or not cols[column].strip():
            what = "10 tab-separated columns (CoNLL-U)" if fmt == "conllu" else "two columns, token<TAB>tag"
            raise RnnkitError(f"{path}:{number}: missing column: expected {what}, got {line[:60]!r}")
        current.words.append(cols[1] if fmt == "conllu" else cols[0])
        current.tags.append(cols[column].strip())
        current.lines.append(number)
    close()
    if not sentences:
        raise RnnkitError(f"{path}: no tagged sentence found (expected CoNLL-U or token<TAB>tag lines)")
    return sentences


def read_plain(lines: list[str], max_len: int = 0, where: str = "input") -> list[list[str]]:
    """Whitespace-tokenised sentences, one per non-blank line."""
    sentences = [l.split() for l in lines if l.strip()]
    for number, words in enumerate(sentences, 1):
        if max_len and len(words) > max_len:
            raise RnnkitError(f"{where}: sentence {number} has {len(words)} words, more than --max-len {max_len}")
    return sentences


def build_vocabs(sentences: list[Sentence], min_freq: int, lowercase: bool) -> tuple[TokenVocab, TokenVocab, list[str]]:
    """``(words, chars, tags)``: the word and character vocabularies (0 pads, 1 is <unk>) and the sorted tags.
    The characters include each word's lowercase spelling, which case augmentation reads."""
    words = TokenVocab.build([[w.lower() if lowercase else w for w in s.words] for s in sentences], min_freq)
    chars = TokenVocab.build([list(w) + list(w.lower()) for s in sentences for w in s.words])
    tags = sorted({t for s in sentences for t in s.tags})
    return words, chars, tags


def encode_tags(sentences: list[Sentence], tags: list[str], path) -> list[list[int]]:
    """Tag ids; a tag the model does not know is an error naming its file and line."""
    index = {t: i for i, t in enumerate(tags)}
    out = []
    for s in sentences:
        for tag, line in zip(s.tags, s.lines):
            if tag not in index:
                raise RnnkitError(f"{path}:{line}: unknown tag {tag!r}; the model knows: {', '.join(tags)}")
        out.append([index[t] for t in s.tags])
    return out


class TagBatch(NamedTuple):
    """The tagger's inputs: word ids ``(b, T)`` (0 pads), each sentence's length ``(b,)``, the characters of
    the batch's U distinct words ``(U, L)`` and their lengths ``(U,)``, which of them each position holds
    ``(b, T)``, and each word's shape class ``(b, T)``."""

    words: torch.Tensor
    lengths: torch.Tensor
    chars: torch.Tensor
    char_lengths: torch.Tensor
    slots: torch.Tensor
    shapes: torch.Tensor

    @property
    def tokens(self) -> int:
        return int(self.lengths.sum())


class Encoded:
    """Sentences as ids: ``batch(indices) -> (TagBatch, tags (b, T))``, ``shapes`` each word's class in
    ``rnnkit.tasks.tag.shape.SHAPES``, read from the word as written. ``case_augment``: the probability that
    a sentence of a training batch (one drawn with a generator) is read all in lowercase."""

    def __init__(self, sentences: list[list[str]], words: TokenVocab, chars: TokenVocab, lowercase: bool,
                 max_word: int, tags: list[list[int]] | None = None, case_augment: float = 0.0):
        self.words = [words.encode([w.lower() if lowercase else w for w in s]) for s in sentences]
        self.tokens = [[w[:max_word] for w in s] for s in sentences]
        self.shapes = [[word_shape(w) for w in s] for s in sentences]
        self.chars, self.vocab, self.lowercase = chars, words, lowercase
        self.tags = tags if tags is not None else [[0] * len(s) for s in sentences]
        self.case_augment = case_augment
        self._lowered = {}  # sentence index -> (word ids, tokens, shapes) of its all-lowercase reading

    def lowered(self, i: int) -> tuple[list[int], list[str], list[int]]:
        """Sentence ``i`` read all in lowercase (case augmentation): word ids, character tokens, shapes."""
        if i not in self._lowered:
            low = [w.lower() for w in self.tokens[i]]
            ids = self.words[i] if self.lowercase else self.vocab.encode(low)
            self._lowered[i] = (ids, low, [word_shape(w) for w in low])
        return self._lowered[i]

    def __len__(self) -> int:
        return len(self.words)

    def lengths(self) -> list[int]:
        return [len(w) for w in self.words]

    def batch(self, indices, generator: torch.Generator | None = None) -> tuple[TagBatch, torch.Tensor]:
        """The batch of sentences ``indices``; with a ``generator`` (a training step's), each is read all in
        lowercase with probability ``case_augment``."""
        lowered = ()
        if generator is not None and self.case_augment > 0:
            lowered = (torch.rand(len(indices), generator=generator) < self.case_augment).nonzero().flatten().tolist()
        return self.read(indices, lowered)

    def read(self, indices, lowered=()) -> tuple[TagBatch, torch.Tensor]:
        """The batch of sentences ``indices``; the positions in ``lowered`` (indices into ``indices``) are read
        all in lowercase."""
        indices, lowered = list(indices), set(lowered)
        read = [self.lowered(i) if k in lowered else (self.words[i], self.tokens[i], self.shapes[i])
                for k, i in enumerate(indices)]
        words, lengths = pad_sequences([r[0] for r in read])  # (b, T), (b,)
        tags, _ = pad_sequences([self.tags[i] for i in indices])  # (b, T)
        distinct = {}  # each distinct word once through the character encoder
        slots = [[distinct.setdefault(w, len(distinct)) for w in r[1]] for r in read]
        chars, char_lengths = pad_sequences([self.chars.encode(list(w)) for w in distinct])  # (U, L), (U,)
        slots, _ = pad_sequences(slots)  # (b, T): index into the U distinct words
        shapes, _ = pad_sequences([r[2] for r in read])  # (b, T)
        return TagBatch(words, lengths, chars, char_lengths, slots, shapes), tags

    def share(self, inputs: TagBatch, targets, rank: int, size: int):
        """Under torchrun: rank ``rank``'s sentences of a batch (the table of distinct words' characters
        stays whole, since ``slots`` index into it). Its loss, a mean over its tokens, is weighted by
        ``size`` x its share of the batch's tokens, so DDP's average is the batch's token mean."""
        words, lengths, chars, char_lengths, slots, shapes = inputs  # (b, T), (b,), (U, L), (U,), (b, T), (b, T)
        lo, hi, own = span(words.shape[0], rank, size)
        tokens = lengths[lo:hi].sum() / lengths.sum()
        mine = TagBatch(words[lo:hi], lengths[lo:hi], chars, char_lengths, slots[lo:hi], shapes[lo:hi])
        return mine, targets[lo:hi], size * float(tokens) if own else 0.0


class BucketSampler:
    """Indices of the sentences in batch ``step``: per epoch, a shuffled pass in batches of similar lengths
    (see the module doc), for ``rnnkit.tasks.batches.ShuffledBatches``."""

    def __init__(self, sizes: list[int], batch_size: int, seed: int):
        if len(sizes) < 1:
            raise RnnkitError("no training sentences")
        self.sizes, self.seed = sizes, seed
        self.batch_size = min(batch_size, len(sizes))
        pool, n = self.batch_size * POOL, len(sizes)
        self.steps_per_epoch = sum(math.ceil(min(pool, n - lo) / self.batch_size) for lo in range(0, n, pool))
        self._epoch, self._batches = -1, None

    def epoch_batches(self, epoch: int) -> list[list[int]]:
        g = step_generator(self.seed, epoch)
        order = torch.randperm(len(self.sizes), generator=g).tolist()
        pool, batches = self.batch_size * POOL, []
        for lo in range(0, len(order), pool):
            chunk = sorted(order[lo : lo + pool], key=lambda i: self.sizes[i])
            batches += [chunk[j : j + self.batch_size] for j in range(0, len(chunk), self.batch_size)]
        return [batches[i] for i in torch.randperm(len(batches), generator=g).tolist()]

    def indices(self, step: int) -> list[int]:
        epoch, i = divmod(step, self.steps_per_epoch)
        if epoch != self._epoch:
            self._epoch, self._batches = epoch, self.epoch_batches(epoch)
        return self._batches[i]
