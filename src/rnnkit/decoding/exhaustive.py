"""Exhaustive search: score every output of up to ``max_len`` tokens and return the best (course-notes §8).

Exact but combinatorial: ``V ** max_len`` sequences per row, so it is for checking the other decoders
on toy models and very short outputs. Breadth first, one batched ``step`` call per depth over all
live prefixes of all rows (split into chunks when many), each prefix's state carried, never re-run.
"""

from __future__ import annotations

import torch

from rnnkit.decoding.step import (Hypothesis, State, StepFn, cat_states, check_max_len, length_normalised,
                                  select_state, start_tokens)
from rnnkit.errors import RnnkitError


def _step_in_chunks(step: StepFn, tokens: torch.Tensor, state: State, chunk: int):
    """``step`` over ``tokens (M,)`` in pieces of at most ``chunk`` rows, to bound peak memory."""
    M = tokens.shape[0]
    if M <= chunk:
        return step(tokens, state)
    outs, states = [], []
    for lo in range(0, M, chunk):
        rows = torch.arange(lo, min(lo + chunk, M), device=tokens.device)
        log_probs, new_state = step(tokens[rows], select_state(state, rows))
        outs.append(log_probs)
        states.append(new_state)
    return torch.cat(outs, dim=0), cat_states(states)


@torch.no_grad()
def exhaustive(step: StepFn, state: State, start: int | torch.Tensor, max_len: int, eos: int | None = None,
               max_candidates: int = 100_000, length_penalty: float = 0.0, n_best: int = 1,
               chunk: int = 4096) -> list[list[Hypothesis]]:
    """Per batch row, the ``n_best`` best of all outputs, best first.

    An output ends at ``eos`` (included) or after ``max_len`` tokens; outputs of probability zero are
    left out. Ranked by ``log_prob / len(tokens) ** length_penalty`` (0: the most probable output);
    equal scores keep enumeration order (shorter first, then by token ids). ``V`` is read from the
    first step; if ``V ** max_len`` (sequences per row) exceeds ``max_candidates``, nothing more runs.
    """
    check_max_len(max_len)
    for name, value in (("max_candidates", max_candidates), ("n_best", n_best), ("chunk", chunk)):
        if not isinstance(value, int) or value < 1:
            raise RnnkitError(f"{name} must be an integer >= 1, got {value!r}")
    tokens = start_tokens(start, state)  # (M,): the last token of each live prefix; M = B to begin with
    B, device = tokens.shape[0], tokens.device
    row = torch.arange(B, device=device)  # (M,) the batch row each live prefix belongs to
    prefix = torch.zeros(B, 0, dtype=torch.long, device=device)  # (M, depth - 1)
    log_prob = torch.zeros(B, dtype=torch.float64, device=device)  # (M,)
    ended = []  # per depth: (row (C,), tokens (C, depth), log_prob (C,)) of the outputs that end there
    for depth in range(1, max_len + 1):
        log_probs, state = _step_in_chunks(step, tokens, state, chunk)  # (M, V)
        M, V = log_probs.shape
        if depth == 1 and V ** max_len > max_candidates:
            count = str(V ** max_len)
            count = count if len(count) <= 15 else f"about 10^{len(count) - 1}"
            raise RnnkitError(f"exhaustive search over V={V} tokens and max_len={max_len} would score "
                              f"{count} sequences per row, more than max_candidates={max_candidates}; "
                              "use beam_search, or a shorter max_len")
        child_lp = (log_prob.unsqueeze(1) + log_probs.double()).view(-1)  # (M*V,), parent-major
        parent = torch.arange(M, device=device).repeat_interleave(V)  # (M*V,)
        child_tok = torch.arange(V, device=device).repeat(M)  # (M*V,)
        possible = ~torch.isneginf(child_lp)  # a zero-probability prefix cannot lead anywhere
        if depth == max_len:
            ends = torch.ones_like(possible)
        elif eos is not None:
            ends = child_tok == eos
        else:
            ends = torch.zeros_like(possible)
        done = (possible & ends).nonzero().squeeze(1)
        ended.append((row[parent[done]], torch.cat([prefix[parent[done]], child_tok[done, None]], 1), child_lp[done]))
        live = (possible & ~ends).nonzero().squeeze(1)
        if live.numel() == 0:
            break
        keep = parent[live]
        row, log_prob, tokens = row[keep], child_lp[live], child_tok[live]
        prefix = torch.cat([prefix[keep], tokens.unsqueeze(1)], dim=1)
        state = select_state(state, keep)  # a parent's state, once for each of its living children
    return [_best(ended, b, length_penalty, n_best) for b in range(B)]


def _best(ended, b: int, length_penalty: float, n_best: int) -> list[Hypothesis]:
    """The ``n_best`` highest-scoring ended outputs of batch row ``b``."""
    found = []  # (tokens, log_prob, score) in enumeration order
    for rows, toks, lps in ended:
        mine = rows == b
        toks, lps = toks[mine], lps[mine]
        scores = length_normalised(lps, torch.full_like(lps, toks.shape[1]), length_penalty)
        found += zip(toks.tolist(), lps.tolist(), scores.tolist())
    found.sort(key=lambda f: f[2], reverse=True)  # stable: ties keep enumeration order
    return [Hypothesis(t, lp, s) for t, lp, s in found[:n_best]]
