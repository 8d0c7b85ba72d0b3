"""Decoding the output of a network trained with CTC (Graves et al. 2006): per-frame log-probabilities
``(T, V)`` over the labels and a blank, to a label sequence.

An alignment (path) pi is one label or blank per frame; B(pi) collapses it: merge repeated labels,
then drop the blanks (``a a - a b b -`` -> ``a a b``). The probability of a labelling y sums over its paths,

    p(y | x) = sum_{pi : B(pi) = y} prod_t p_t(pi_t).

``greedy_ctc`` collapses the best path (argmax per frame); it finds the most probable *path*, which
need not be the most probable labelling. ``prefix_beam_search`` keeps the ``beam`` most probable
labelling prefixes, each with two probabilities (of its paths ending in a blank, and ending in its last
label), so that all the paths of a prefix are summed; with a beam as large as the number of prefixes
it computes p(y | x) exactly (tests/decoding/test_ctc.py checks it against every alignment).
"""

from __future__ import annotations

import math
from collections import defaultdict

import torch

NEG_INF = -math.inf


def ctc_collapse(path, blank: int = 0) -> list[int]:
    """B(pi): merge runs of the same symbol, then drop blanks."""
    out, previous = [], None
    for s in path:
        s = int(s)
        if s != previous and s != blank:
            out.append(s)
        previous = s
    return out


def greedy_ctc(log_probs: torch.Tensor, blank: int = 0) -> list[int]:
    """The collapse of the best path: argmax at each frame of ``(T, V)``."""
    return ctc_collapse(log_probs.argmax(-1).tolist(), blank)


def _logadd(*xs: float) -> float:
    m = max(xs)
    if m == NEG_INF:
        return NEG_INF
    return m + math.log(sum(math.exp(x - m) for x in xs))


def prefix_beam_search(log_probs: torch.Tensor, beam: int = 8, blank: int = 0,
                       prune: float = NEG_INF) -> list[tuple[tuple[int, ...], float]]:
    """The ``beam`` best labellings of ``log_probs (T, V)`` with their log-probabilities, best first.

    For each prefix l: ``p_b`` (its paths so far end in a blank) and ``p_nb`` (they end in l's last
    label). At frame t, with p = p_t:
      - blank:                   p_b(l)     += (p_b(l) + p_nb(l)) p(blank)
      - repeat the last label c: p_nb(l)    += p_nb(l) p(c)          (the run continues: still l)
      - a new label c:           p_nb(l+c)  += (p_b(l) + p_nb(l)) p(c), but only p_b(l) p(c) when c
                                 equals l's last label (a repeat must be separated by a blank)
    then keep the ``beam`` prefixes with the largest p_b + p_nb. Labels with log p_t(c) < ``prune``
    are not tried at frame t (a speed-up; the default tries every label).
    """
    lp = log_probs.detach().to(torch.float64).cpu().tolist()  # T lists of V floats
    beams = {(): (0.0, NEG_INF)}  # prefix -> (log p_b, log p_nb)
    for frame in lp:
        next_beams: dict = defaultdict(lambda: (NEG_INF, NEG_INF))
        candidates = [c for c, v in enumerate(frame) if c != blank and v >= prune]
        for prefix, (p_b, p_nb) in beams.items():
            total = _logadd(p_b, p_nb)
            b, nb = next_beams[prefix]
            next_beams[prefix] = (_logadd(b, total + frame[blank]), nb)
            last = prefix[-1] if prefix else None
            for c in candidates:
                extended = prefix + (c,)
                b, nb = next_beams[extended]
                if c == last:
                    next_beams[extended] = (b, _logadd(nb, p_b + frame[c]))
                    b, nb = next_beams[prefix]
                    next_beams[prefix] = (b, _logadd(nb, p_nb + frame[c]))
                else:
                    next_beams[extended] = (b, _logadd(nb, total + frame[c]))
        possible = [kv for kv in next_beams.items() if _logadd(*kv[1]) > NEG_INF]  # e.g. 'aa' after one frame
        ranked = sorted(possible, key=lambda kv: _logadd(*kv[1]), reverse=True)
        beams = dict(ranked[:beam])
    return [(prefix, _logadd(p_b, p_nb)) for prefix, (p_b, p_nb) in
            sorted(beams.items(), key=lambda kv: _logadd(*kv[1]), reverse=True)]


def ctc_beam_decode(log_probs: torch.Tensor, beam: int = 8, blank: int = 0) -> list[int]:
    """The best labelling of ``prefix_beam_search`` (``greedy_ctc`` when ``beam`` is 1)."""
    if beam <= 1:
        return greedy_ctc(log_probs, blank)
    return list(prefix_beam_search(log_probs, beam, blank)[0][0])
