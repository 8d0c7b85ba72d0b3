"""The speech task's data: the splits' features, computed once per run and kept as tensors, batched for
the trainer; a recogniser's predictions and scores over a whole split.

    recording or utterance --FrontEnd--> (T, F) --cmvn--> cached; a batch pads them to (b, T_max, F)

Targets: a digit per example (isolated, ``(b,)``) or a digit sequence (connected, padded ``(b, L)``
with its lengths). SpecAugment masks training batches with the step's generator, so a resumed run sees
the same masks.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import torch

from rnnkit.data.audio import FeatureSpec, FrontEnd, cmvn, read_wav, spec_augment
from rnnkit.decoding.ctc import ctc_beam_decode
from rnnkit.errors import RnnkitError
from rnnkit.tasks.speech.fsdd import RATE, ConnectedDigits, list_recordings, split_recordings
from rnnkit.tasks.speech.scores import sequence_scores, word_scores

TEST_SEED, VAL_SEED, TRAIN_SEED = 1_000_000, 2_000_000, 3_000_000  # + --split-seed: disjoint utterance streams


class FrameBatch(NamedTuple):
    """Feature frames ``(b, T, F)`` (zero past each row's length) and each row's length ``(b,)``."""

    frames: torch.Tensor
    lengths: torch.Tensor

    @property
    def tokens(self) -> int:
        return int(self.lengths.sum())


def feature_spec(data_config) -> FeatureSpec:
    return FeatureSpec(kind=data_config.features, n_mels=data_config.mels, n_mfcc=data_config.mfcc)


def features_of(front_end: FrontEnd, samples: torch.Tensor) -> torch.Tensor:
    """Normalised features ``(T, F)`` of one recording."""
    return cmvn(front_end(samples))


class Frames:
    """Cached features and labels: ``batch(indices, generator) -> (FrameBatch, targets)``; with ``augment``
    (SpecAugment's settings) a batch given a generator is masked with it."""

    def __init__(self, features: list[torch.Tensor], labels: list, connected: bool, augment: dict | None = None):
        self.features, self.labels, self.connected, self.augment = features, labels, connected, augment
        self.lengths = torch.tensor([len(f) for f in features], dtype=torch.long)

    def __len__(self) -> int:
        return len(self.features)

    def batch(self, indices, generator: torch.Generator | None = None):
        feats = [self.features[i] for i in indices]
        if self.augment and generator is not None:
            feats = [spec_augment(f, generator=generator, **self.augment) for f in feats]
        x = torch.nn.utils.rnn.pad_sequence(feats, batch_first=True)  # (b, T, F)
        lengths = self.lengths[torch.as_tensor(list(indices), dtype=torch.long)]
        if not self.connected:
            return FrameBatch(x, lengths), torch.tensor([self.labels[i] for i in indices], dtype=torch.long)
        seqs = [torch.tensor(self.labels[i], dtype=torch.long) for i in indices]
        labels = torch.nn.utils.rnn.pad_sequence(seqs, batch_first=True)  # (b, L)
        return FrameBatch(x, lengths), (labels, torch.tensor([len(s) for s in seqs], dtype=torch.long))

    def in_order_of_length(self, batch_size: int):
        """Batches of similar lengths (less padding) for evaluation: ``(indices, batch)`` pairs."""
        order = sorted(range(len(self)), key=lambda i: int(self.lengths[i]))
        for lo in range(0, len(order), batch_size):
            chunk = order[lo : lo + batch_size]
            yield chunk, self.batch(chunk)


def spec_augment_settings(d) -> dict | None:
    """SpecAugment's settings of data config ``d`` (None: off)."""
    if not d.spec_augment:
        return None
    return dict(freq_masks=d.freq_masks, freq_width=d.freq_width, time_masks=d.time_masks, time_width=d.time_width)


def build_sets(d, which=("train", "val", "test"), log=print) -> dict[str, Frames]:
    """The cached features of the splits named in ``which`` (the training split masked as ``d`` says)."""
    start = time.perf_counter()
    splits = split_recordings(list_recordings(d.data), d.holdout, d.val_fraction, d.split_seed, d.per_digit)
    front_end = FrontEnd(feature_spec(d))
    sets = {}
    for name in which:
        recs, augment = splits[name], spec_augment_settings(d) if name == "train" else None
        if d.task == "isolated":
            feats = [features_of(front_end, read_wav(r.path, RATE)) for r in recs]
            sets[name] = Frames(feats, [r.digit for r in recs], False, augment)
            continue
        n = d.train_utterances if name == "train" else d.test_utterances
        seed = {"train": TRAIN_SEED, "val": VAL_SEED, "test": TEST_SEED}[name] + d.split_seed
        source = ConnectedDigits(recs, d.min_digits, d.max_digits, d.silence, d.gain_db)
        utts = source.utterances(n, seed)
        sets[name] = Frames([features_of(front_end, u.samples) for u in utts], [u.digits for u in utts], True, augment)
    sizes = ", ".join(f"{len(s):,} {n}" for n, s in sets.items())
    log(f"data: {d.task} digits, {sizes} examples ({'speaker ' + d.holdout + ' held out' if d.holdout else 'official split'}"
        f", {d.features} features); computed in {time.perf_counter() - start:.1f} s")
    return sets


def check_alignable(sets: dict[str, Frames], stack: int) -> None:
    """Refuse connected utterances that CTC cannot align: with ``ceil(T / stack)`` RNN steps for L digits
    of which r repeat their predecessor (a blank must separate them), every alignment needs
    ``L + r`` steps. Fewer is an impossible target: ``ctc_loss`` would count it as a loss of 0
    (``zero_infinity``) and the run would report a perfect loss beside a useless model."""
    for name, data in sets.items():
        if not data.connected:
            continue
        steps = (data.lengths + stack - 1) // stack
        short = [i for i, digits in enumerate(data.labels)
                 if int(steps[i]) < len(digits) + sum(a == b for a, b in zip(digits, digits[1:]))]
        if short:
            i = short[0]
            raise RnnkitError(f"{len(short):,} of {len(data):,} {name} utterances are too short for CTC to align "
                              f"their digits (e.g. {len(data.labels[i])} digits in {int(steps[i])} steps of --stack "
                              f"{stack}); lower --stack or --max-digits")


@torch.no_grad()
def predict(model, data: Frames, batch_size: int = 64, beam: int = 1) -> dict:
    """Mean loss and the predictions: a digit per example, or a digit sequence decoded with ``beam``
    (1: greedy CTC; more: prefix beam search)."""
    model.eval()
    device = next(model.parameters()).device
    predictions, total = [None] * len(data), 0.0
    for chunk, ((x, lengths), targets) in data.in_order_of_length(batch_size):
        targets = tuple(t.to(device) for t in targets) if data.connected else targets.to(device)
        outputs, loss, _ = model(FrameBatch(x.to(device), lengths.to(device)), targets)
        total += float(loss) * len(chunk)
        if data.connected:
            log_probs, out_lengths = outputs
            for i, lp, n in zip(chunk, log_probs.cpu(), out_lengths.tolist()):
                predictions[i] = [c - 1 for c in ctc_beam_decode(lp[:n], beam)]  # output c + 1 is digit c
        else:
            for i, p in zip(chunk, outputs.argmax(-1).tolist()):
                predictions[i] = p
    return {"loss": total / max(len(data), 1), "predictions": predictions}


def score(model, data: Frames, beam: int = 1) -> dict:
    p = predict(model, data, beam=beam)
    s = (sequence_scores if data.connected else word_scores)(data.labels, p["predictions"])
    return {"loss": p["loss"], **s}
