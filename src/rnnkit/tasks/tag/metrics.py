"""Scores of a tagger: token accuracy (and on words unseen in training), entity-level precision, recall
and F1 for BIO tags (the CoNLL scorer's definition, ``conlleval``), and the most-frequent-tag baseline.

An entity is a maximal chunk of one type: it starts at ``B-x``, or at ``I-x`` after ``O`` or after a tag
of another type (conlleval accepts an ``I-x`` start), and it ends where the next tag does not continue it.
A predicted entity counts as correct only if both its span and its type equal a gold entity's.

Two diagnostics beside the scores say which half of the job fails: ``spans``, the same P/R/F1 with the types
ignored (was the entity found?), and ``confusion``, the predicted type of each gold entity whose span was found
exactly (was it named right?).
"""

from __future__ import annotations

from collections import Counter, defaultdict


def entities(tags: list[str]) -> set[tuple[str, int, int]]:
    """The ``(type, first, last)`` chunks of one BIO sequence (positions inclusive)."""
    found, start, kind = set(), None, None
    for i, tag in enumerate([*tags, "O"]):
        prefix, t = (tag[0], tag[2:]) if tag != "O" and "-" in tag else ("O", "")
        continues = prefix == "I" and kind == t and start is not None
        if start is not None and not continues:
            found.add((kind, start, i - 1))
            start, kind = None, None
        if prefix in ("B", "I") and not continues:
            start, kind = i, t
    return found


def entity_scores(gold: list[list[str]], predicted: list[list[str]]) -> dict:
    """Per type and overall (micro) ``{"precision", "recall", "f1", "support"}``: exact span and type; ``spans``:
    overall with the types ignored; ``confusion``: ``{gold type: {predicted type: n}}`` over the gold entities
    whose span was predicted exactly."""
    n_gold, n_pred, confusion = Counter(), Counter(), defaultdict(Counter)
    for g, p in zip(gold, predicted):
        ge, pe = entities(g), entities(p)
        for e in ge:
            n_gold[e[0]] += 1
        predicted_type = {}
        for t, a, b in pe:
            n_pred[t] += 1
            predicted_type[a, b] = t
        for t, a, b in ge:
            if (a, b) in predicted_type:
                confusion[t][predicted_type[a, b]] += 1
    hits = {t: confusion[t][t] for t in confusion}  # span and type right: the confusion's diagonal
    span_hits = sum(n for row in confusion.values() for n in row.values())

    def prf(h, ng, npred):
        precision = h / npred if npred else 0.0
        recall = h / ng if ng else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": precision, "recall": recall, "f1": f1, "support": ng}

    per_type = {t: prf(hits.get(t, 0), n_gold[t], n_pred[t]) for t in sorted(set(n_gold) | set(n_pred))}
    overall = prf(sum(hits.values()), sum(n_gold.values()), sum(n_pred.values()))
    spans = prf(span_hits, sum(n_gold.values()), sum(n_pred.values()))
    return {"overall": overall, "per_type": per_type, "spans": spans,
            "confusion": {t: dict(confusion[t]) for t in sorted(confusion)}}


def token_accuracy(gold: list[list[str]], predicted: list[list[str]], unseen: list[list[bool]] | None = None) -> dict:
    """Fraction of tokens tagged right, and (with ``unseen`` flags) on the words unseen in training."""
    right = total = right_unseen = total_unseen = 0
    for i, (g, p) in enumerate(zip(gold, predicted)):
        for j, (a, b) in enumerate(zip(g, p)):
            right, total = right + (a == b), total + 1
            if unseen is not None and unseen[i][j]:
                right_unseen, total_unseen = right_unseen + (a == b), total_unseen + 1
    out = {"accuracy": right / max(total, 1), "tokens": total}
    if unseen is not None:
        out.update(unseen_accuracy=right_unseen / max(total_unseen, 1), unseen_tokens=total_unseen)
    return out


def most_frequent_tag(train_words: list[list[str]], train_tags: list[list[str]]):
    """The baseline tagger: each word's most frequent training tag, the overall most frequent tag for
    words never seen. Returns ``tag(words) -> tags``."""
    by_word, overall = defaultdict(Counter), Counter()
    for ws, ts in zip(train_words, train_tags):
        for w, t in zip(ws, ts):
            by_word[w][t] += 1
            overall[t] += 1
    default = overall.most_common(1)[0][0]
    best = {w: c.most_common(1)[0][0] for w, c in by_word.items()}
    return lambda words: [best.get(w, default) for w in words]


def format_entity_table(scores: dict) -> str:
    """The per-type and overall scores, the span-only line, and the confusion of types on found spans."""
    rows = [f"{'type':<16}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}"]
    named = [*scores["per_type"].items(), ("overall", scores["overall"]), ("spans, any type", scores["spans"])]
    for name, s in named:
        rows.append(f"{name:<16}{s['precision']:>10.2%}{s['recall']:>10.2%}{s['f1']:>10.2%}{s['support']:>9}")
    types = sorted(scores["per_type"])
    rows += ["", "gold type (rows) x predicted type (columns), over the gold entities whose span was found:",
             f"{'':<16}" + "".join(f"{t[:9]:>10}" for t in types)]
    for t in types:
        row = scores["confusion"].get(t, {})
        rows.append(f"{t:<16}" + "".join(f"{row.get(u, 0):>10}" for u in types))
    return "\n".join(rows)
