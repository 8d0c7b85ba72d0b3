"""Repetition penalties of the shared decoders (rnnkit.decoding.penalties): the n-gram block equals a
brute-force search, the decoders never repeat a blocked n-gram, the reported log-probability stays the
model's, and with the penalties off every decoder is unchanged."""

import math

import pytest
import torch

from rnnkit.decoding import beam_search, greedy, sample
from rnnkit.decoding.penalties import block_repeated_ngrams, penalise_repetition
from rnnkit.errors import RnnkitError

V = 6


def looping_step(tokens, state):
    """A model that loves the cycle 0 -> 1 -> 2 -> 0 (so greedy and beam search loop), state = a counter."""
    logits = torch.full((tokens.shape[0], V), -3.0)
    logits[torch.arange(tokens.shape[0]), (tokens + 1) % 3] = 3.0
    logits[:, 5] = 0.5  # a fresh token, second best
    return logits.log_softmax(-1), state + 1


def brute_force_blocked(history: list[int], n: int) -> set[int]:
    if len(history) < n:
        return set()
    suffix = history[len(history) - n + 1:] if n > 1 else []
    return {history[i + n - 1] for i in range(len(history) - n + 1) if history[i:i + n - 1] == suffix}


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_ngram_block_equals_brute_force(n):
    g = torch.Generator().manual_seed(n)
    for t in range(0, 12):
        history = torch.randint(0, 3, (5, t), generator=g)
        scores = torch.randn(5, V, generator=g)
        out = block_repeated_ngrams(scores, history, n)
        for row in range(5):
            blocked = brute_force_blocked(history[row].tolist(), n)
            if len(blocked) == V:  # everything blocked: left alone
                blocked = set()
            assert {v for v in range(V) if out[row, v] == float("-inf")} == blocked, (n, t, row)
            assert torch.equal(out[row][torch.isfinite(out[row])], scores[row][torch.isfinite(out[row])])


def test_repetition_penalty_scales_seen_tokens_only():
    scores = torch.log_softmax(torch.randn(2, V), -1)
    out = penalise_repetition(scores, torch.tensor([[1, 1, 4], [0, 2, 2]]), 1.5)
    seen = [{1, 4}, {0, 2}]
    for row in range(2):
        for v in range(V):
            assert out[row, v] == pytest.approx(float(scores[row, v]) * (1.5 if v in seen[row] else 1.0))


def ngrams(tokens, n):
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


def model_log_prob(start: int, tokens: list[int]) -> float:
    total, prev = 0.0, torch.tensor([start])
    for tok in tokens:
        lp, _ = looping_step(prev, torch.zeros(1))
        total += float(lp[0, tok])
        prev = torch.tensor([tok])
    return total


@pytest.mark.parametrize("decoder", ["greedy", "beam", "sample"])
def test_decoders_never_repeat_a_blocked_ngram(decoder):
    state, n = torch.zeros(2), 3
    kwargs = dict(no_repeat_ngram=n, context=torch.tensor([[4, 4], [3, 4]]))
    if decoder == "greedy":
        hyps = greedy(looping_step, state, 0, 12, **kwargs)
        plain = greedy(looping_step, state, 0, 12)[0].tokens
        assert plain[:6] == [1, 2, 0, 1, 2, 0]  # without the block it loops
    elif decoder == "beam":
        hyps = [h[0] for h in beam_search(looping_step, state, 0, beam=3, max_len=12, **kwargs)]
    else:
        hyps = sample(looping_step, state, 0, 12, temperature=0.5, generator=torch.Generator().manual_seed(0), **kwargs)
    for row, h in enumerate(hyps):
        full = kwargs["context"][row].tolist() + [0] + h.tokens
        grams = ngrams(full, n)
        assert len(grams) == len(set(grams)), full
        assert h.log_prob == pytest.approx(model_log_prob(0, h.tokens))  # the model's, not the penalised score


def test_penalties_off_change_nothing():
    state = torch.zeros(1)
    assert greedy(looping_step, state, 0, 9, repetition_penalty=1.0, no_repeat_ngram=0)[0].tokens == \
        greedy(looping_step, state, 0, 9)[0].tokens
    a = beam_search(looping_step, state, 0, beam=3, max_len=9)[0][0]
    b = beam_search(looping_step, state, 0, beam=3, max_len=9, repetition_penalty=1.0)[0][0]
    assert (a.tokens, a.log_prob, a.score) == (b.tokens, b.log_prob, b.score)


def test_repetition_penalty_breaks_the_loop_and_bad_values():
    out = greedy(looping_step, torch.zeros(1), 0, 8, repetition_penalty=40.0)[0].tokens
    assert 5 in out  # the fresh token wins once the cycle's tokens are penalised
    with pytest.raises(RnnkitError, match="repetition penalty must be a number >= 1"):
        greedy(looping_step, torch.zeros(1), 0, 5, repetition_penalty=0.5)
    with pytest.raises(RnnkitError, match="n-gram block must be an integer >= 0"):
        beam_search(looping_step, torch.zeros(1), 0, max_len=5, no_repeat_ngram=-1)
    assert math.isfinite(beam_search(looping_step, torch.zeros(1), 0, beam=2, max_len=5, no_repeat_ngram=1)[0][0].log_prob)
