"""Captioning images with every decoder of ``rnnkit.decoding`` (greedy, beam, sample, exhaustive, through
``rnnkit.tasks.translate.decode.decode_state``), BLEU-1..4 against all references with sacrebleu, and the
nearest-neighbour baseline.

CIDEr is not computed: it needs a faithful implementation checked against a published worked example,
which this project does not have.

Nearest neighbour (a retrieval baseline that generates nothing): a test image gets a caption of the
training image closest to it, by cosine similarity of either the raw pixels (``pixels``, the images
shrunk to 24x24) or the trained encoder's mean feature ā (``features``). Of the neighbour's captions
the one most similar to the other four (the highest sentence BLEU against them) is returned: the
consensus caption of Devlin et al. (2015).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from rnnkit.data.text import TokenVocab
from rnnkit.decoding import Hypothesis
from rnnkit.models.captioner import EOS_ID, Captioner
from rnnkit.decoding.options import DecodeOptions, banned_ids
from rnnkit.tasks.translate.decode import decode_state

NEIGHBOURS = ("pixels", "features")
DEFAULT_MAX_OUTPUT = 20


class Describer:
    """A trained captioner with its vocabulary: images in, captions out."""

    def __init__(self, model: Captioner, vocab: TokenVocab, data_config, device=None):
        self.model, self.vocab, self.data = model.eval(), vocab, data_config
        self.device = device or next(model.parameters()).device

    def words(self, ids: list[int]) -> list[str]:
        """Word ids -> words, stopping at </s>."""
        out = []
        for i in ids:
            if i == EOS_ID:
                break
            out.append(self.vocab.tokens[i])
        return out

    def describe(self, images: torch.Tensor, options: DecodeOptions, progress: bool = False) -> list[list[Hypothesis]]:
        """Per image of ``images (N, S, S, 3)`` uint8, up to ``n_best`` hypotheses, best first.
        ``progress``: a bar in images/s on a terminal."""
        from rnnkit.runtime import progress as progress_bar

        options.check()
        L = options.max_output or DEFAULT_MAX_OUTPUT
        generator = torch.Generator(device=self.device).manual_seed(options.seed)
        results = []
        with torch.no_grad(), progress_bar(total=len(images), unit="image", desc=options.decoder,
                                           enabled=progress) as bar:
            for lo in range(0, len(images), options.batch_size):
                state = self.model.encode(images[lo : lo + options.batch_size].to(self.device))
                results += decode_state(self.model, state, options, L, generator, banned_ids(options, self.vocab))
                bar.update(min(options.batch_size, len(images) - lo))
        return results

    def sentences(self, images: torch.Tensor, options: DecodeOptions, progress: bool = False) -> list[str]:
        """The best caption of each image, as a string of words."""
        return [" ".join(self.words(h[0].tokens)) for h in self.describe(images, options, progress)]

    @torch.no_grad()
    def mean_features(self, images: torch.Tensor, batch_size: int = 128) -> torch.Tensor:
        """ā of each image ``(N, C)``, on the CPU."""
        if self.model.encoder is None:
            from rnnkit.errors import RnnkitError

            raise RnnkitError("the blind model has no image encoder; use --baseline pixels")
        parts = [self.model.encoder(images[lo : lo + batch_size].to(self.device)).mean(dim=1).cpu()
                 for lo in range(0, len(images), batch_size)]
        return torch.cat(parts)


def bleu_scores(outputs: list[str], references: list[list[str]]) -> dict:
    """Corpus BLEU-1..4 (sacrebleu, 0-100) of ``outputs`` against all their ``references`` (tokenised,
    lowercased words: ``tokenize="none"``)."""
    import sacrebleu

    most = max(len(r) for r in references)
    streams = [[r[i] if i < len(r) else None for r in references] for i in range(most)]  # None: no more refs
    scores = {}
    for n in (1, 2, 3, 4):
        bleu = sacrebleu.metrics.BLEU(tokenize="none", max_ngram_order=n, force=True)
        scores[f"bleu{n}"] = bleu.corpus_score(outputs, streams).score
    scores["signature"] = str(bleu.get_signature())
    return scores


def consensus(captions: list[str]) -> str:
    """The caption with the highest sentence BLEU against the others (the first one if alone)."""
    import sacrebleu

    if len(captions) < 2:
        return captions[0]
    bleu = sacrebleu.metrics.BLEU(tokenize="none", effective_order=True)
    scored = [(bleu.sentence_score(c, captions[:i] + captions[i + 1 :]).score, -i) for i, c in enumerate(captions)]
    return captions[-max(scored)[1]]


def pixel_vectors(images: torch.Tensor, size: int = 24) -> torch.Tensor:
    """Images ``(N, S, S, 3)`` uint8 -> ``(N, 3 * size * size)`` float, shrunk (area average)."""
    x = images.permute(0, 3, 1, 2).float() / 255.0
    return F.adaptive_avg_pool2d(x, size).flatten(1)


def nearest_captions(query: torch.Tensor, train: torch.Tensor, train_references: list[list[str]]) -> list[str]:
    """For each row of ``query (N, D)``, the consensus caption of the most cosine-similar row of ``train (M, D)``."""
    q, t = F.normalize(query, dim=1), F.normalize(train, dim=1)
    nearest = torch.cat([(q[lo : lo + 256] @ t.T).argmax(dim=1) for lo in range(0, len(q), 256)])
    return [consensus(train_references[i]) for i in nearest.tolist()]
