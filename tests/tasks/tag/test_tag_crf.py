"""The linear-chain CRF against brute force over all K^n tag sequences (course-notes §8: exhaustive search
is exact; Viterbi and the forward algorithm must agree with it), its BIO constraints, and the decoding of an ensemble of taggers."""

import itertools
from types import SimpleNamespace

import pytest
import torch

from rnnkit.errors import RnnkitError
from rnnkit.models.crf import CRF, FORBIDDEN, bio_transitions, is_bio
from rnnkit.models.tagger import ensemble_decode


def random_crf(K: int, seed: int, allowed=None, start_allowed=None) -> CRF:
    torch.manual_seed(seed)
    crf = CRF(K, allowed, start_allowed).double()
    for p in crf.parameters():
        torch.nn.init.normal_(p)
    return crf


def all_scores(crf: CRF, emissions: torch.Tensor, n: int) -> dict[tuple, float]:
    """s(y) of every tag sequence of length n, computed from the definition (one sentence)."""
    trans, start, end = (x.detach() for x in crf.scores())
    K, e = emissions.shape[-1], emissions[:n]
    return {y: float(start[y[0]] + sum(e[t, y[t]] for t in range(n)) + sum(trans[y[t - 1], y[t]] for t in range(1, n))
                     + end[y[-1]]) for y in itertools.product(range(K), repeat=n)}


@pytest.mark.parametrize("seed", range(6))
def test_viterbi_and_log_partition_equal_brute_force(seed, float64):
    B, T, K = 4, 5, 3
    crf = random_crf(K, seed)
    g = torch.Generator().manual_seed(100 + seed)
    emissions = torch.randn(B, T, K, generator=g)
    lengths = torch.tensor([5, 1, 3, 4])
    paths, best = crf.viterbi(emissions, lengths)
    log_z = crf.log_partition(emissions, lengths).detach()
    for b in range(B):
        n = int(lengths[b])
        s = all_scores(crf, emissions[b], n)
        argmax = max(s, key=s.get)
        assert paths[b] == list(argmax)
        assert float(best[b]) == pytest.approx(s[argmax], abs=1e-9)
        assert float(log_z[b]) == pytest.approx(float(torch.logsumexp(torch.tensor(list(s.values())), 0)), abs=1e-9)
        tags = torch.tensor([list(argmax) + [0] * (T - n)])
        assert float(crf.sequence_score(emissions[b : b + 1], tags, lengths[b : b + 1]).detach()) == pytest.approx(s[argmax])


def test_nll_is_a_normalised_negative_log_probability(float64):
    """sum over all y of exp(-nll(y)) == 1, and its gradient flows to the transition scores."""
    crf = random_crf(3, 7)
    emissions = torch.randn(1, 3, 3, requires_grad=True)
    lengths = torch.tensor([3])
    ys = torch.tensor(list(itertools.product(range(3), repeat=3)))  # (27, 3)
    nll = crf.nll(emissions.expand(len(ys), 3, 3), ys, lengths.expand(len(ys)))
    assert float(torch.exp(-nll).sum().detach()) == pytest.approx(1.0, abs=1e-12)
    nll[0].backward()
    assert crf.trans.grad is not None and emissions.grad is not None


def test_bio_constraints_forbid_illegal_transitions():
    tags = ["B-loc", "B-per", "I-loc", "I-per", "O"]
    allowed, start = bio_transitions(tags)
    ok = {(a, b) for a in tags for b in tags if allowed[tags.index(a), tags.index(b)]}
    assert ("O", "I-loc") not in ok and ("B-per", "I-loc") not in ok and ("I-per", "I-loc") not in ok
    assert ("B-loc", "I-loc") in ok and ("I-loc", "I-loc") in ok and ("I-loc", "O") in ok and ("O", "B-per") in ok
    assert start.tolist() == [True, True, False, False, True]
    assert is_bio(tags) and not is_bio(["NOUN", "VERB"]) and not is_bio(["O"])


@pytest.mark.parametrize("seed", range(4))
def test_viterbi_with_bio_constraints_never_decodes_an_illegal_sequence(seed, float64):
    tags = ["B-a", "B-b", "I-a", "I-b", "O"]
    allowed, start = bio_transitions(tags)
    crf = random_crf(len(tags), seed, allowed, start)
    g = torch.Generator().manual_seed(seed)
    emissions = torch.randn(6, 4, len(tags), generator=g) * 5
    emissions[..., 2:4] += 6.0  # emissions strongly prefer I- tags, which need a B- before them
    lengths = torch.tensor([4, 4, 3, 2, 1, 4])
    paths, _ = crf.viterbi(emissions, lengths)
    for b, path in enumerate(paths):
        named = [tags[i] for i in path]
        assert not named[0].startswith("I-")
        for prev, cur in zip(named, named[1:]):
            assert not cur.startswith("I-") or prev[2:] == cur[2:] and prev != "O", named
        s = all_scores(crf, emissions[b], int(lengths[b]))  # still the exact argmax among the legal sequences
        assert path == list(max(s, key=s.get))
    assert crf.scores()[0][4, 2] == FORBIDDEN


@pytest.mark.parametrize("crf", [True, False])
def test_ensemble_decodes_the_argmax_of_the_members_mean_score(crf, float64):
    """An ensemble of taggers decodes, exactly, the tag sequence with the highest mean of the members' scores
    s_m(y) (their product of experts), checked by exhaustive search; one member decodes as itself."""
    tags = ["B-a", "I-a", "O"]
    members = [SimpleNamespace(tags=tags, crf=random_crf(3, seed) if crf else None) for seed in (1, 2, 3)]
    g = torch.Generator().manual_seed(5)
    emissions = [torch.randn(3, 4, 3, generator=g, dtype=torch.float64) * 2 for _ in members]
    lengths = torch.tensor([4, 2, 3])
    paths = ensemble_decode(members, emissions, lengths)
    for b, path in enumerate(paths):
        n = int(lengths[b])
        if crf:
            per_member = [all_scores(m.crf, e[b], n) for m, e in zip(members, emissions)]
        else:
            per_member = [{y: float(sum(e[b, t, y[t]] for t in range(n))) for y in itertools.product(range(3), repeat=n)}
                          for e in emissions]
        mean = {y: sum(s[y] for s in per_member) / len(members) for y in per_member[0]}
        assert path == list(max(mean, key=mean.get))
    alone = ensemble_decode(members[:1], emissions[:1], lengths)
    assert alone == (members[0].crf.viterbi(emissions[0], lengths)[0] if crf else
                     [row[:n] for row, n in zip(emissions[0].argmax(-1).tolist(), lengths.tolist())])
    assert paths != alone or paths != ensemble_decode(members[1:2], emissions[1:2], lengths)  # the mean matters


def test_ensemble_refuses_members_with_other_tags():
    a = SimpleNamespace(tags=["B-a", "O"], crf=None)
    b = SimpleNamespace(tags=["B-b", "O"], crf=None)
    with pytest.raises(RnnkitError, match="share their tags"):
        ensemble_decode([a, b], [torch.zeros(1, 1, 2)] * 2, torch.tensor([1]))
