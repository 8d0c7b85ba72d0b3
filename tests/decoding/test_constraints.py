"""Banned tokens, watching a decoder, stop strings (``rnnkit.decoding.constraints``), and the language model's
``rnnkit sample`` knobs built on them, run as a user runs them.

* a banned token never comes out of greedy decoding, sampling or beam search, and the other tokens'
  probabilities renormalise; banning every token is refused in one line;
* ``watched`` sees each token fed back to the model, in order; ``cut_at_stop`` cuts before the first stop;
* ``rnnkit sample``: ``--num-samples 3`` prints three different samples (reproducible with ``--seed``), with
  ``--beam`` the best beams; ``--stop`` ends each text before the stop string; ``--ban`` keeps characters
  out; ``--stream`` prints the same text as without it; a temperature given with ``--beam`` is warned of.
"""

import pytest
import torch

from conftest import ROOT, run_cli
from rnnkit.decoding import beam_search, greedy, sample
from rnnkit.decoding.constraints import banned, cut_at_stop, watched
from rnnkit.errors import RnnkitError

LM = ROOT / "tests" / "fixtures" / "lm" / "run"


def peaked_step(tokens, state):
    """A model that always prefers token 2, then 1, then 0, 3 (V = 4)."""
    log_probs = torch.tensor([[-3.0, -1.0, -0.2, -4.0]]).log_softmax(-1).expand(tokens.shape[0], -1)
    return log_probs, state


def test_a_banned_token_never_comes_out_of_any_decoder():
    state = torch.zeros(2, 1)
    step = banned(peaked_step, [2])
    assert all(t == 1 for h in greedy(step, state, 0, 6) for t in h.tokens)
    g = torch.Generator().manual_seed(0)
    assert all(t != 2 for h in sample(step, state, 0, 50, generator=g) for t in h.tokens)
    assert all(t != 2 for hyps in beam_search(step, state, 0, beam=3, max_len=4, n_best=3) for h in hyps
               for t in h.tokens)
    log_probs, _ = step(torch.zeros(1, dtype=torch.long), state)
    assert log_probs[0, 2] == float("-inf") and float(log_probs.exp().sum()) == pytest.approx(1.0)


def test_banning_every_token_is_refused():
    step = banned(peaked_step, [0, 1, 2, 3])
    try:
        step(torch.zeros(1, dtype=torch.long), None)
    except RnnkitError as e:
        assert "every one of the 4 tokens is banned" in str(e)
    else:
        raise AssertionError("no error")


def test_watched_sees_each_token_fed_back_and_stops_are_cut():
    seen = []
    hyp = greedy(watched(peaked_step, lambda t: seen.append(t.tolist())), torch.zeros(1, 1), 0, 4)[0]
    assert seen == [[2], [2], [2]] and hyp.tokens == [2, 2, 2, 2]  # the last token is never fed back
    assert cut_at_stop("abc\n\ndef", ["\n\n", "d"]) == ("abc", True) and cut_at_stop("abc", ["x"]) == ("abc", False)


def test_the_python_api_draws_several_texts_stops_bans_and_streams():
    from rnnkit.tasks.lm.generate import generate_texts
    from rnnkit.tasks.runner import load

    run = load(LM)
    model, vocab = run.model, run.vocabs["vocab"]
    texts = generate_texts(model, vocab, "the ", 80, seed=1, num_samples=3)
    assert len(set(texts)) == 3 and texts == generate_texts(model, vocab, "the ", 80, seed=1, num_samples=3)
    cut = generate_texts(model, vocab, "the ", 80, seed=1, num_samples=3, stop=["e"])
    assert all("e" not in t[4:] and full.startswith(t) for t, full in zip(cut, texts))
    assert not set(generate_texts(model, vocab, "the ", 200, seed=2, ban="aeiou")[0][4:]) & set("aeiou")
    pieces = []
    streamed = generate_texts(model, vocab, "the ", 80, seed=5, stop=["at"], stream=pieces.append)[0]
    assert "".join(pieces) == streamed == generate_texts(model, vocab, "the ", 80, seed=5, stop=["at"])[0]
    assert len(pieces) > 10  # piece by piece, not all at the end


def sample_cli(*flags):
    r = run_cli("sample", "--checkpoint", LM, "--prime", "the ", "--length", "80", "--threads", "1", *flags)
    assert r.returncode == 0, r.stderr
    return r


@pytest.mark.slow
def test_several_samples_stop_strings_bans_and_streaming_from_the_command_line():
    r = sample_cli("--num-samples", "3", "--seed", "1")
    parts = r.stdout.split("--- sample ")[1:]
    texts = [p.split("---\n", 1)[1].rstrip("\n") for p in parts]
    assert len(texts) == 3 and len(set(texts)) == 3 and all(t.startswith("the ") for t in texts)
    assert sample_cli("--num-samples", "3", "--seed", "1").stdout == r.stdout  # reproducible
    stopped = sample_cli("--num-samples", "3", "--seed", "1", "--stop", "e")
    cut = [p.split("---\n", 1)[1].rstrip("\n") for p in stopped.stdout.split("--- sample ")[1:]]
    assert all("e" not in t[4:] and full.startswith(t) for t, full in zip(cut, texts))
    assert any(len(t) < len(full) for t, full in zip(cut, texts))
    no_vowels = sample_cli("--seed", "2", "--ban", "aeiou").stdout
    assert not set(no_vowels[4:]) & set("aeiou")
    plain = sample_cli("--seed", "5", "--stop", "at").stdout
    assert sample_cli("--seed", "5", "--stop", "at", "--stream").stdout == plain
    beams = sample_cli("--beam", "3", "--num-samples", "2", "--temperature", "0.5")
    assert beams.stdout.count("--- beam ") == 2
    assert "warning: --temperature has no effect with --beam 3" in beams.stderr
    bad = run_cli("sample", "--checkpoint", LM, "--beam", "2", "--num-samples", "3", "--threads", "1")
    assert bad.returncode == 2 and bad.stderr.strip().splitlines()[-1].startswith("error: --num-samples 3 is more")
