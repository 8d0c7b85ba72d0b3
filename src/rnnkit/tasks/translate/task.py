"""The translation task: sentence pairs -> a trained ``Seq2Seq`` -> BLEU and chrF on the held-out test split.

A run folder holds ``train.tsv``, ``val.tsv`` and ``test.tsv`` (the split, written once, as read),
``best/`` and ``checkpoint/`` (whose ``config.json`` carries the configs and both vocabularies),
``metrics.jsonl`` and ``loss.png``. The decoders themselves are ``rnnkit.decoding``'s, see
``tasks/translate_decode.py``.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path

import torch

from rnnkit.data.batching import pad_sequences
from rnnkit.data.pairs import (normalize, read_pairs, references_by_source, split_by_source, tokenized,
                               within_length, words, write_pairs)
from rnnkit.data.text import BOS, EOS, TokenVocab
from rnnkit.errors import RnnkitError
from rnnkit.models.seq2seq import BOS_ID, EOS_ID, PAD_ID, Seq2Seq
from rnnkit.models.configs import Seq2SeqConfig
from rnnkit.schema import check_fields
from rnnkit.tasks.configs import TranslateDataConfig
from rnnkit.tasks.supervised import EpochSampler, make_train_config
from rnnkit.train.checkpoint import find_checkpoint, load_checkpoint, load_weights, run_folder, saved_config, saved_vocab
from rnnkit.train.distributed import span, world
from rnnkit.train.memory import ACTIVATION_FLOATS_PER_UNIT, build_within_memory
from rnnkit.train.trainer import Trainer, resolve_device
from rnnkit.runtime import set_threads

TASK = "translate"
SPLITS = ("train", "val", "test")


class EncodedPairs:
    """Word ids of each pair: ``batch(indices) -> ((src (b, S), lengths (b,), tgt_in (b, T)), tgt_out (b, T))``.

    ``tgt_in`` is ``<s> y_1 .. y_n`` and ``tgt_out`` is ``y_1 .. y_n </s>``, padded with 0.
    """

    def __init__(self, tokens: list[tuple[list[str], list[str]]], source: TokenVocab, target: TokenVocab):
        self.src = [source.encode(s) for s, _ in tokens]
        self.tgt = [target.encode(t) for _, t in tokens]

    def __len__(self) -> int:
        return len(self.src)

    def batch(self, indices):
        src_ids, lengths = pad_sequences([self.src[i] for i in indices], PAD_ID)  # (b, S), (b,)
        tgt_in, _ = pad_sequences([[BOS_ID, *self.tgt[i]] for i in indices], PAD_ID)  # (b, T)
        tgt_out, _ = pad_sequences([[*self.tgt[i], EOS_ID] for i in indices], PAD_ID)  # (b, T)
        return (src_ids, lengths, tgt_in), tgt_out


class ShuffledPairs:
    """The trainer's data: a shuffled pass over the training pairs per epoch, a pure function of the step."""

    stateful = False

    def __init__(self, data: EncodedPairs, batch_size: int, seed: int):
        self.data, self.sampler = data, EpochSampler(len(data), batch_size, seed)

    def batch(self, step: int):
        inputs, targets = self.data.batch(self.sampler.indices(step).tolist())
        return inputs, targets, True

    def share(self, inputs, targets, rank: int, size: int):
        """Under torchrun: rank ``rank``'s pairs of a batch. Its loss, a mean over its target words, is
        weighted by ``size`` x its share of the batch's words, so DDP's average is the batch's word mean."""
        lo, hi, own = span(targets.shape[0], rank, size)
        words = (targets[lo:hi] != PAD_ID).sum() / (targets != PAD_ID).sum()
        return tuple(x[lo:hi] for x in inputs), targets[lo:hi], size * float(words) if own else 0.0


@torch.no_grad()
def pair_loss(model: Seq2Seq, data: EncodedPairs, batch_size: int = 256) -> float:
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


def check_data_config(d: TranslateDataConfig) -> None:
    if d.data is None:
        raise RnnkitError("--data FILE is required: sentence pairs, one 'source<TAB>target' per line "
                          "(e.g. ../shared/data/eng-fra/eng-fra.txt)")
    check_fields(d)


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
        run_dir.mkdir(parents=True, exist_ok=True)  # the run folder appears once the data is known good
        for name in SPLITS:
            write_pairs(run_dir / f"{name}.tsv", splits[name])
    return splits


def read_splits(run_dir: Path) -> dict[str, list[tuple[str, str]]]:
    return {name: read_pairs(run_dir / f"{name}.tsv").pairs if (run_dir / f"{name}.tsv").stat().st_size else []
            for name in SPLITS}


def train_translator(model_config: Seq2SeqConfig, data_config: TranslateDataConfig, flags, log=print) -> dict:
    """Train as configured; returns the run's summary (best validation loss, test BLEU is ``evaluate``'s)."""
    from rnnkit.tasks.translate.decode import DecodeOptions, corpus_scores

    d, m = data_config, model_config
    check_data_config(d)
    torch.manual_seed(flags.seed)
    set_threads(flags.threads)  # 0: torch's default
    run_dir = run_folder(flags.out, "translate", flags.resume, create=False)  # made by prepare_splits
    if flags.resume:
        splits = read_splits(run_dir)
        _, saved = load_checkpoint(run_dir / "checkpoint")
        source, target = TokenVocab(saved["source_vocab"]), TokenVocab(saved["target_vocab"])
    else:
        splits = prepare_splits(d, run_dir, log)
    train_tokens = tokenized(splits["train"], d.accents)  # normalised once, for the vocabularies and the ids
    if not flags.resume:
        source = TokenVocab.build([s for s, _ in train_tokens], d.min_freq)
        target = TokenVocab.build([t for _, t in train_tokens], d.min_freq, specials=(BOS, EOS))
    train = EncodedPairs(train_tokens, source, target)
    val = EncodedPairs(tokenized(splits["val"], d.accents), source, target) if splits["val"] else None
    data = ShuffledPairs(train, flags.batch_size, flags.seed)
    config = make_train_config(flags, data.sampler.steps_per_epoch, d.epochs)
    model = build_within_memory(lambda: Seq2Seq(len(source), len(target), m), resolve_device(flags.device),
                                activations=ACTIVATION_FLOATS_PER_UNIT * flags.batch_size * 2 * (d.max_words + 2)
                                * m.hidden * m.layers * 2)
    meta = {"task": TASK, "configs": {"model": asdict(m), "data": asdict(d), "train": asdict(flags)},
            "source_vocab": source.tokens, "target_vocab": target.tokens}
    bleu_sources, bleu_refs = references_by_source(splits["val"], d.accents)  # the first --eval-bleu sources
    bleu_sources, bleu_refs = bleu_sources[: d.eval_bleu], bleu_refs[: d.eval_bleu]

    def evaluate(model):
        if val is None:
            return {"val_loss": pair_loss(model, train)}
        results = {"val_loss": pair_loss(model, val)}
        if bleu_sources:
            translator = Translator(model, source, target, d, device=next(model.parameters()).device)
            s = corpus_scores(translator, bleu_sources, bleu_refs, DecodeOptions(decoder="greedy"))
            results["val_bleu"] = s["bleu"]
        return results

    run_dir.mkdir(parents=True, exist_ok=True)
    trainer = Trainer(model, config, data, evaluate, run_dir, meta)
    if flags.resume:
        trainer.resume()
        log(f"resuming {run_dir} at step {trainer.step}")
    sizes = ", ".join(f"{len(splits[n]):,} {n}" for n in SPLITS)
    log(f"data: {sizes} pairs (split by source sentence, written to {run_dir}/{{train,val,test}}.tsv); "
        f"vocabularies: {len(source):,} source and {len(target):,} target words (min frequency {d.min_freq}); "
        f"{data.sampler.steps_per_epoch} steps per epoch")
    log(f"model: {m.cell} encoder-decoder, attention {m.attention}, "
        f"{sum(p.numel() for p in model.parameters()):,} parameters, device {trainer.device}")
    summary = trainer.fit()
    summary.update(run_dir=str(run_dir))
    log(f"done ({summary['stopped']}) at step {summary['step']} after {summary['elapsed']:.0f} s; "
        f"best validation loss {summary['best_val_loss']:.4f} nats per word "
        f"(perplexity {math.exp(min(summary['best_val_loss'], 50)):.1f})")
    return summary


class Translator:
    """A trained model with its vocabularies: sentences in, word ids and back."""

    def __init__(self, model: Seq2Seq, source: TokenVocab, target: TokenVocab, data_config: TranslateDataConfig,
                 device=None):
        self.model, self.source, self.target, self.data = model.eval(), source, target, data_config
        self.device = device or next(model.parameters()).device

    def tokens(self, sentence: str) -> list[str]:
        return words(normalize(sentence, self.data.accents))

    def unknown(self, tokens: list[str]) -> list[str]:
        """The words the model never saw in training (they are read as <unk>)."""
        return [w for w in tokens if w not in self.source.index]

    def encode(self, token_lists: list[list[str]]):
        """``(src (B, S), lengths (B,))`` on the model's device; an empty sentence reads as <unk>."""
        src, lengths = pad_sequences([self.source.encode(t) for t in token_lists], PAD_ID)
        return src.to(self.device), lengths.to(self.device)

    def words(self, ids: list[int]) -> list[str]:
        """Target ids -> words, stopping at </s>."""
        out = []
        for i in ids:
            if i == EOS_ID:
                break
            out.append(self.target.tokens[i])
        return out


def load_translator(path, device: str = "cpu") -> tuple[Translator, dict]:
    """``(Translator, meta)`` from a checkpoint or run folder, the model in eval mode."""
    weights, meta = load_checkpoint(path, task=TASK, what="a translation model")
    model_config = saved_config(Seq2SeqConfig, meta, "configs", "model", where=path)
    data_config = saved_config(TranslateDataConfig, meta, "configs", "data", where=path)
    source = TokenVocab(saved_vocab(meta, "source_vocab", path))
    target = TokenVocab(saved_vocab(meta, "target_vocab", path))
    model = build_within_memory(lambda: Seq2Seq(len(source), len(target), model_config), "cpu", training=False)
    load_weights(model, weights, path)
    device = resolve_device(device)
    return Translator(model.to(device), source, target, data_config, device), meta


def test_split_of(path) -> Path:
    """The ``test.tsv`` a run wrote, for a run folder or one of its checkpoint folders."""
    directory = find_checkpoint(path)
    for folder in (Path(path), directory.parent, directory):
        if (folder / "test.tsv").exists():
            return folder / "test.tsv"
    raise RnnkitError(f"no test.tsv beside the checkpoint {path}; pass the pairs to score with --data FILE")
