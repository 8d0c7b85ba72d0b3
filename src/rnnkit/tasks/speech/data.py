"""Features computed once per run and kept as tensors, batched for the trainer.

    recording or utterance --FrontEnd--> (T, F) --cmvn--> cached; a batch pads them to (b, T_max, F)

Targets: a digit per example (isolated, ``(b,)``) or a digit sequence (connected, padded ``(b, L)``
with its lengths). SpecAugment masks training batches with a generator seeded by the step, so a
resumed run sees the same masks.
"""

from __future__ import annotations

import torch

from rnnkit.data.audio import FeatureSpec, FrontEnd, cmvn, spec_augment
from rnnkit.tasks.supervised import EpochSampler


def feature_spec(data_config) -> FeatureSpec:
    return FeatureSpec(kind=data_config.features, n_mels=data_config.mels, n_mfcc=data_config.mfcc)


def features_of(front_end: FrontEnd, samples: torch.Tensor) -> torch.Tensor:
    """Normalised features ``(T, F)`` of one recording."""
    return cmvn(front_end(samples))


class Frames:
    """Cached features and labels: ``batch(indices) -> ((x (b, T, F), lengths (b,)), targets)``."""

    def __init__(self, features: list[torch.Tensor], labels: list, connected: bool):
        self.features, self.labels, self.connected = features, labels, connected
        self.lengths = torch.tensor([len(f) for f in features], dtype=torch.long)

    def __len__(self) -> int:
        return len(self.features)

    def batch(self, indices, augment=None):
        feats = [self.features[i] for i in indices]
        if augment is not None:
            feats = [augment(f) for f in feats]
        x = torch.nn.utils.rnn.pad_sequence(feats, batch_first=True)  # (b, T, F)
        lengths = self.lengths[torch.as_tensor(list(indices), dtype=torch.long)]
        if not self.connected:
            return (x, lengths), torch.tensor([self.labels[i] for i in indices], dtype=torch.long)
        seqs = [torch.tensor(self.labels[i], dtype=torch.long) for i in indices]
        labels = torch.nn.utils.rnn.pad_sequence(seqs, batch_first=True)  # (b, L)
        return (x, lengths), (labels, torch.tensor([len(s) for s in seqs], dtype=torch.long))

    def in_order_of_length(self, batch_size: int):
        """Batches of similar lengths (less padding) for evaluation: ``(indices, batch)`` pairs."""
        order = sorted(range(len(self)), key=lambda i: int(self.lengths[i]))
        for lo in range(0, len(order), batch_size):
            chunk = order[lo : lo + batch_size]
            yield chunk, self.batch(chunk)


class ShuffledFrames:
    """The trainer's data: a shuffled pass per epoch, a pure function of the step (``--resume`` is exact)."""

    stateful = False

    def __init__(self, data: Frames, batch_size: int, seed: int, augment: dict | None = None):
        self.data, self.sampler, self.seed, self.augment = data, EpochSampler(len(data), batch_size, seed), seed, augment

    def batch(self, step: int):
        mask = None
        if self.augment:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + step + 7)
            mask = lambda f: spec_augment(f, generator=g, **self.augment)
        inputs, targets = self.data.batch(self.sampler.indices(step).tolist(), mask)
        return inputs, targets, True
