"""CTC decoding: the collapse rules, greedy decoding, and the prefix beam search against brute force
over every alignment (exact labelling probabilities) and against torch's ctc_loss."""

import itertools
import math

import pytest
import torch
from torch.nn import functional as F

from rnnkit.decoding.ctc import ctc_beam_decode, ctc_collapse, greedy_ctc, prefix_beam_search


@pytest.mark.parametrize("path, expected", [
    ([0, 0, 0], []),
    ([1, 1, 0, 1, 2, 2, 0], [1, 1, 2]),  # a blank separates a repeated label
    ([1, 1, 1, 2, 1], [1, 2, 1]),  # runs merge, different labels do not
    ([0, 3, 0, 0, 3, 3], [3, 3]),
    ([2], [2]),
])
def test_collapse(path, expected):
    assert ctc_collapse(path, blank=0) == expected


def test_collapse_other_blank():
    assert ctc_collapse([4, 1, 4, 1, 1, 4], blank=4) == [1, 1]


def test_greedy_takes_the_best_path():
    lp = torch.log(torch.tensor([[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1], [0.5, 0.1, 0.4], [0.1, 0.1, 0.8]]))
    assert greedy_ctc(lp) == [1, 2]


def brute_force(log_probs: torch.Tensor, blank: int = 0) -> dict:
    """p(y | x) for every labelling y: the sum over all V^T paths of prod_t p_t(pi_t)."""
    T, V = log_probs.shape
    p = log_probs.double().exp()
    totals = {}
    for path in itertools.product(range(V), repeat=T):
        prob = math.prod(float(p[t, s]) for t, s in enumerate(path))
        y = tuple(ctc_collapse(path, blank))
        totals[y] = totals.get(y, 0.0) + prob
    return totals


@pytest.mark.parametrize("T, V, seed", [(1, 3, 0), (3, 2, 1), (4, 3, 2), (5, 4, 3), (6, 3, 4)])
def test_prefix_beam_search_is_exact_with_a_wide_beam(T, V, seed):
    lp = torch.log_softmax(torch.randn(T, V, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 2, -1)
    exact = brute_force(lp)
    found = prefix_beam_search(lp, beam=10_000)
    assert {y for y, _ in found} == set(exact)  # every labelling reachable in T frames, none other
    for y, logp in found:
        assert math.exp(logp) == pytest.approx(exact[y], rel=1e-12, abs=1e-15)
    assert sum(math.exp(l) for _, l in found) == pytest.approx(1.0, abs=1e-12)  # the labellings partition the paths
    best = max(exact, key=exact.get)
    assert found[0][0] == best and list(best) == ctc_beam_decode(lp, beam=10_000)
    assert [l for _, l in found] == sorted((l for _, l in found), reverse=True)


def test_prefix_probabilities_equal_torch_ctc_loss():
    T, V = 7, 4
    lp = torch.log_softmax(torch.randn(T, V, generator=torch.Generator().manual_seed(5), dtype=torch.float64), -1)
    for y, logp in prefix_beam_search(lp, beam=10_000)[:20]:
        if not y:
            continue
        nll = F.ctc_loss(lp.unsqueeze(1), torch.tensor([y]), torch.tensor([T]), torch.tensor([len(y)]),
                         reduction="sum")
        assert -float(nll) == pytest.approx(logp, abs=1e-10)


def test_beam_finds_the_best_labelling_where_greedy_does_not():
    """The best path is blank-blank ('' with p 0.36), but 'a' sums three paths: 0.16 + 0.24 + 0.24 = 0.64."""
    p = torch.tensor([[0.6, 0.4], [0.6, 0.4]]).log()
    assert greedy_ctc(p) == []
    assert ctc_beam_decode(p, beam=4) == [1]
    (y, logp), (y2, logp2) = prefix_beam_search(p, beam=4)
    assert (y, y2) == ((1,), ()) and math.exp(logp) == pytest.approx(0.64) and math.exp(logp2) == pytest.approx(0.36)


def test_beam_one_is_greedy_and_narrow_beam_keeps_k():
    lp = torch.log_softmax(torch.randn(12, 5, generator=torch.Generator().manual_seed(9)), -1)
    assert ctc_beam_decode(lp, beam=1) == greedy_ctc(lp)
    assert len(prefix_beam_search(lp, beam=3)) == 3
