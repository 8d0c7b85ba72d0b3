"""Scores of a digit recogniser: accuracy and confusion matrix (isolated digits); digit error rate,
sequence accuracy and an alignment-based confusion matrix (connected digits).

Digit error rate = (substitutions + deletions + insertions) / reference digits, from the Levenshtein
alignment of each hypothesis with its reference (unit costs). The connected confusion matrix has one
more row and column, ``-``: a deletion is (true digit, -), an insertion (-, predicted digit).
"""

from __future__ import annotations

GAP = None


def align(ref: list[int], hyp: list[int]) -> list[tuple[int | None, int | None]]:
    """A minimum-edit alignment: pairs (r, h), (r, GAP) for a deletion, (GAP, h) for an insertion."""
    n, m = len(ref), len(hyp)
    d = [[i + j if i == 0 or j == 0 else 0 for j in range(m + 1)] for i in range(n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i][j] = min(d[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]), d[i - 1][j] + 1, d[i][j - 1] + 1)
    pairs, i, j = [], n, m
    while i or j:
        if i and j and d[i][j] == d[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            pairs.append((ref[i - 1], hyp[j - 1]))
            i, j = i - 1, j - 1
        elif i and d[i][j] == d[i - 1][j] + 1:
            pairs.append((ref[i - 1], GAP))
            i -= 1
        else:
            pairs.append((GAP, hyp[j - 1]))
            j -= 1
    return pairs[::-1]


def edit_distance(ref: list[int], hyp: list[int]) -> int:
    return sum(r != h for r, h in align(ref, hyp))


def sequence_scores(refs: list[list[int]], hyps: list[list[int]], num_classes: int = 10) -> dict:
    """Digit error rate, its parts, sequence accuracy and the (C + 1) x (C + 1) confusion matrix."""
    C = num_classes
    confusion = [[0] * (C + 1) for _ in range(C + 1)]
    subs = dels = ins = 0
    for ref, hyp in zip(refs, hyps):
        for r, h in align(ref, hyp):
            confusion[C if r is GAP else r][C if h is GAP else h] += 1
            subs += r is not GAP and h is not GAP and r != h
            dels += h is GAP
            ins += r is GAP
    n = sum(map(len, refs))
    return {"digit_error_rate": (subs + dels + ins) / max(n, 1), "substitutions": subs, "deletions": dels,
            "insertions": ins, "reference_digits": n,
            "sequence_accuracy": sum(r == h for r, h in zip(refs, hyps)) / max(len(refs), 1),
            "utterances": len(refs), "confusion": confusion}


def word_scores(labels: list[int], predicted: list[int], num_classes: int = 10) -> dict:
    confusion = [[0] * num_classes for _ in range(num_classes)]
    for r, h in zip(labels, predicted):
        confusion[r][h] += 1
    return {"accuracy": sum(r == h for r, h in zip(labels, predicted)) / max(len(labels), 1),
            "examples": len(labels), "confusion": confusion}
