"""A trained tagger's predictions over whole files, one tagger or an ensemble (each member reads the
sentences through its own vocabularies; their scores are averaged, ``ensemble_decode``), and their
scores: the loss, token accuracy and, for BIO tags, the entity scores."""

from __future__ import annotations

import torch

from rnnkit.errors import RnnkitError
from rnnkit.models.crf import is_bio
from rnnkit.models.tagger import Tagger, ensemble_decode
from rnnkit.tasks.tag.data import Encoded, encode_tags
from rnnkit.tasks.tag.metrics import entity_scores, token_accuracy


@torch.no_grad()
def predict_ids(members: list[tuple[Tagger, Encoded]], batch_size: int = 256) -> tuple[list[list[int]], float]:
    """The tag ids of every sentence, in order, and the mean loss per token (0 if the data has no tags).

    ``members``: one ``(tagger, its encoding of the sentences)``, or several (an ensemble: each reads the same
    sentences through its own vocabularies; their scores are averaged, ``ensemble_decode``; the loss is the
    members' mean)."""
    for model, _ in members:
        model.eval()
    first, home = members[0][1], next(members[0][0].parameters()).device  # decoding runs on the first's device
    order = sorted(range(len(first)), key=lambda i: len(first.words[i]))  # similar lengths together
    out, total, tokens = [None] * len(first), 0.0, 0
    for lo in range(0, len(order), batch_size):
        chunk, emissions = order[lo : lo + batch_size], []
        for model, data in members:
            device = next(model.parameters()).device
            inputs, tags = data.batch(chunk)
            inputs = type(inputs)(*(x.to(device) for x in inputs))
            e, loss, _ = model(inputs, tags.to(device))
            emissions.append(e.to(home))
            total += float(loss) * inputs.tokens / len(members)
        lengths = inputs.lengths.to(home)
        tokens += int(lengths.sum())
        for i, row in zip(chunk, ensemble_decode([m for m, _ in members], emissions, lengths)):
            out[i] = row
    return out, total / max(tokens, 1)


def scores(members: list[tuple[Tagger, Encoded]], tags: list[str], unseen: list[list[bool]] | None = None) -> dict:
    """Loss, token accuracy (and on unseen words) and, for BIO tags, the entity scores."""
    predicted, loss = predict_ids(members)
    gold = [[tags[i] for i in row] for row in members[0][1].tags]
    named = [[tags[i] for i in row] for row in predicted]
    out = {"loss": loss, **token_accuracy(gold, named, unseen), "predicted": named}
    if is_bio(tags):
        out["entities"] = entity_scores(gold, named)
    return out


def encoded(sentences, vocabs: dict, d, path, case_augment: float = 0.0) -> Encoded:
    """Tagged ``sentences`` as a tagger with ``vocabs`` and data config ``d`` reads them (an unknown tag is
    an error naming ``path`` and its line)."""
    return Encoded([s.words for s in sentences], vocabs["words"], vocabs["chars"], d.lowercase, d.max_word,
                   encode_tags(sentences, vocabs["tags"], path), case_augment)


def ensemble(runs: list) -> list:
    """The loaded runs (``rnnkit.tasks.runner.Loaded``) of an ensemble, which must share their tags."""
    first = runs[0]
    for run in runs[1:]:
        if run.model.tags != first.model.tags:
            raise RnnkitError(f"{run.path} tags {', '.join(run.model.tags)} but {first.path} tags "
                              f"{', '.join(first.model.tags)}: an ensemble's taggers must be trained on the same tag set")
    return runs
