"""The translate task's data: sentence pairs read, filtered and split by source sentence (the split is
written to the run folder once and read from there on resume), encoded as word ids and batched.

    batch of pairs -> PairBatch(src (b, S), lengths (b,), tgt_in (b, T)),  tgt_out (b, T)
    tgt_in = <s> y_1 .. y_n,  tgt_out = y_1 .. y_n </s>,  padded with 0
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import torch

from rnnkit.data.batching import pad_sequences
from rnnkit.data.pairs import read_pairs, split_by_source, within_length, write_pairs
from rnnkit.data.text import TokenVocab
from rnnkit.errors import RnnkitError
from rnnkit.models.seq2seq import BOS_ID, EOS_ID, PAD_ID
from rnnkit.tasks.translate.config import TranslateDataConfig
from rnnkit.train.distributed import span, world

SPLITS = ("train", "val", "test")


class PairBatch(NamedTuple):
    """A Seq2Seq's inputs: source ids ``(b, S)`` (0 = padding), their lengths ``(b,)`` and the decoder's
    inputs ``(b, T)``."""

    src: torch.Tensor
    lengths: torch.Tensor
    tgt_in: torch.Tensor

    @property
    def tokens(self) -> int:
        return int(self.lengths.sum())


class EncodedPairs:
    """Word ids of each pair: ``batch(indices) -> (PairBatch, tgt_out (b, T))``."""

    def __init__(self, tokens: list[tuple[list[str], list[str]]], source: TokenVocab, target: TokenVocab):
        self.src = [source.encode(s) for s, _ in tokens]
        self.tgt = [target.encode(t) for _, t in tokens]

    def __len__(self) -> int:
        return len(self.src)

    def batch(self, indices, generator=None):
        src_ids, lengths = pad_sequences([self.src[i] for i in indices], PAD_ID)  # (b, S), (b,)
        tgt_in, _ = pad_sequences([[BOS_ID, *self.tgt[i]] for i in indices], PAD_ID)  # (b, T)
        tgt_out, _ = pad_sequences([[*self.tgt[i], EOS_ID] for i in indices], PAD_ID)  # (b, T)
        return PairBatch(src_ids, lengths, tgt_in), tgt_out

    def share(self, inputs, targets, rank: int, size: int):
        """Under torchrun: rank ``rank``'s pairs of a batch. Its loss, a mean over its target words, is
        weighted by ``size`` x its share of the batch's words, so DDP's average is the batch's word mean."""
        lo, hi, own = span(targets.shape[0], rank, size)
        words = (targets[lo:hi] != PAD_ID).sum() / (targets != PAD_ID).sum()
        part = [x[lo:hi] for x in inputs]
        inputs = type(inputs)(*part) if hasattr(inputs, "_fields") else tuple(part)
        return inputs, targets[lo:hi], size * float(words) if own else 0.0


@torch.no_grad()
def pair_loss(model, data: EncodedPairs, batch_size: int = 256) -> float:
    """Mean cross-entropy per target word (``</s>`` included), teacher forced: nats per word."""
    model.eval()
    device = next(model.parameters()).device
    total, count = 0.0, 0
    for lo in range(0, len(data), batch_size):
        (src, lengths, tgt_in), tgt_out = data.batch(range(lo, min(lo + batch_size, len(data))))
        _, loss, _ = model((src.to(device), lengths.to(device), tgt_in.to(device)), tgt_out.to(device))
        n = int((tgt_out != PAD_ID).sum())
        total, count = total + float(loss) * n, count + n
    return total / max(count, 1)


def prepare_splits(d: TranslateDataConfig, run_dir: Path, log=print) -> dict[str, list[tuple[str, str]]]:
    """Read, filter and split the pairs, writing ``{train,val,test}.tsv`` into the run folder."""
    found = read_pairs(d.data, d.reverse)
    log(found.report(d.data))
    kept = [p for p in found.pairs if within_length(p, d.max_words, accents=d.accents)]
    if not kept:
        raise RnnkitError(f"no pair of {d.data} has at most {d.max_words} words on both sides; raise --max-words")
    log(f"length filter (at most {d.max_words} words a side): {len(kept):,} of {len(found.pairs):,} pairs kept")
    splits = split_by_source(kept, d.val_fraction, d.test_fraction, d.split_seed, d.accents)
    if world().writer:  # under torchrun, rank 0 writes the split; every rank holds it in memory
        for name in SPLITS:
            write_pairs(run_dir / f"{name}.tsv", splits[name])
    return splits


def read_splits(run_dir: Path) -> dict[str, list[tuple[str, str]]]:
    return {name: read_pairs(run_dir / f"{name}.tsv").pairs if (run_dir / f"{name}.tsv").stat().st_size else []
            for name in SPLITS}
