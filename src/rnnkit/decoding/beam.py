"""Beam search: keep the ``beam`` most probable partial outputs of each row and extend them all
(course-notes §8); between greedy (beam 1) and exhaustive search (a beam that never prunes).

Each step scores every one-token extension of every hypothesis by its cumulative log-probability,
``log p(y_<=t) = log p(y_<t) + log p(y_t | y_<t)``, and keeps the best ``beam`` per row. A hypothesis
that emitted ``eos`` stays in the beam with its score frozen: it extends only by itself, at zero cost.
That way beam width 1 is greedy exactly, eos included.

    beam 2, V = 3            step 1            step 2
    start ─┬─ a  -0.5  ──┬── a a  -1.2   (kept)
           │             └── a b  -2.0
           └─ b  -0.9  ──┬── b a  -1.0   (kept)
                         └── b c  -3.1
"""

from __future__ import annotations

import torch

from rnnkit.decoding.step import (Hypothesis, State, StepFn, check_max_len, context_tokens, length_normalised,
                                  select_state, start_tokens)
from rnnkit.errors import RnnkitError


def best_candidates(candidates: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` best ``(scores, indices)`` of each row of ``candidates (B, N)``, best first; among equal
    scores the lower index wins, as ``argmax`` does (so beam width 1 is greedy exactly).

    Exactly what a stable descending sort gives, without sorting all N = K*V candidates: ``topk``
    finds the k-th best score, and only the candidates at least that good (k of them, plus ties) are
    sorted.
    """
    kth = candidates.topk(k, dim=1).values[:, -1:]  # (B, 1)
    rows, cols = (candidates >= kth).nonzero(as_tuple=True)  # row-major: ascending index within a row
    counts = torch.bincount(rows, minlength=candidates.shape[0])  # (B,) >= k each
    width = int(counts.max())
    slot = torch.arange(rows.numel(), device=rows.device) - (counts.cumsum(0) - counts)[rows]  # position in its row
    index = torch.zeros(candidates.shape[0], width, dtype=torch.long, device=candidates.device)
    index[rows, slot] = cols
    score = torch.full((candidates.shape[0], width), float("-inf"), dtype=candidates.dtype, device=candidates.device)
    score[rows, slot] = candidates[rows, cols]
    order = score.sort(dim=1, descending=True, stable=True).indices[:, :k]  # (B, k), ties keep the lower index
    return score.gather(1, order), index.gather(1, order)


@torch.no_grad()
def beam_search(step: StepFn, state: State, start: int | torch.Tensor, beam: int = 5, max_len: int = 100,
                eos: int | None = None, length_penalty: float = 0.0, n_best: int = 1, repetition_penalty: float = 1.0,
                no_repeat_ngram: int = 0, context: torch.Tensor | None = None) -> list[list[Hypothesis]]:
    """Per batch row, up to ``n_best`` hypotheses, best first.

    Selection during the search uses the raw cumulative log-probability; the final ranking uses
    ``log_prob / len(tokens) ** length_penalty`` (0: raw log-probability; 1: per-token mean, which
    stops the search from preferring short outputs). Fewer than ``n_best`` come back only when fewer
    sequences with nonzero probability exist. Stops when every hypothesis ended or at ``max_len``.
    All rows are searched together: the state holds ``B * K`` hypotheses, row-major.
    ``repetition_penalty``, ``no_repeat_ngram`` and ``context`` (``rnnkit.decoding.penalties``) reshape
    the scores the search ranks by; each hypothesis's ``log_prob`` stays the model's.
    """
    from rnnkit.decoding.penalties import check_penalties, penalise

    if not isinstance(beam, int) or beam < 1:
        raise RnnkitError(f"beam must be an integer >= 1 (1 is greedy), got {beam!r}")
    if not isinstance(n_best, int) or not 1 <= n_best <= beam:
        raise RnnkitError(f"n_best must be between 1 and the beam width {beam}, got {n_best!r}; "
                          "widen the beam to get more hypotheses")
    check_max_len(max_len)
    check_penalties(repetition_penalty, no_repeat_ngram)
    penalised = repetition_penalty != 1.0 or no_repeat_ngram > 0
    tokens = start_tokens(start, state)  # (B*K,) with K = 1 hypothesis per row to begin with
    seen = context_tokens(context, tokens) if penalised else None  # (B*K, c + 1 + t): what the penalties see
    B, device = tokens.shape[0], tokens.device
    K = 1
    cum = torch.zeros(B, dtype=torch.float64, device=device)  # (B*K,) cumulative log-prob, float64 as greedy
    model_cum = cum.clone()  # (B*K,) the model's log-prob, when the penalties make cum differ from it
    lengths = torch.zeros(B, dtype=torch.long, device=device)  # (B*K,) tokens before the freeze
    finished = torch.zeros(B, dtype=torch.bool, device=device)  # (B*K,)
    history = torch.zeros(B, 0, dtype=torch.long, device=device)  # (B*K, t); past a freeze: padding
    row_start = torch.arange(B, device=device).unsqueeze(1)  # (B, 1)
    for _ in range(max_len):
        log_probs, state = step(tokens, state)  # (B*K, V)
        V = log_probs.shape[-1]
        log_probs = log_probs.double()
        if bool(finished.any()):  # a finished hypothesis extends only by itself, at zero cost
            frozen = torch.full((V,), float("-inf"), dtype=log_probs.dtype, device=device)
            frozen[eos if eos is not None else 0] = 0.0
            log_probs = torch.where(finished.unsqueeze(1), frozen, log_probs)
        scores = log_probs
        if penalised:  # finished hypotheses keep their frozen extension
            scores = torch.where(finished.unsqueeze(1), log_probs,
                                 penalise(log_probs, seen, repetition_penalty, no_repeat_ngram))
        candidates = (cum.unsqueeze(1) + scores).view(B, K * V)  # (B, K*V), index = parent * V + token
        new_K = min(beam, K * V)
        scores, flat = best_candidates(candidates, new_K)  # (B, K')
        parent = (flat // V + row_start * K).view(-1)  # (B*K',) index into the old hypotheses
        tokens = (flat % V).view(-1)  # (B*K',)
        was_finished = finished[parent]
        cum = scores.reshape(-1)
        if penalised:
            model_cum = model_cum[parent] + log_probs[parent, tokens]
            seen = torch.cat([seen[parent], tokens.unsqueeze(1)], dim=1)
        history = torch.cat([history[parent], tokens.unsqueeze(1)], dim=1)
        lengths = lengths[parent] + (~was_finished)
        # -inf: fewer possible extensions than beam slots; such a slot is dead and dropped at the end
        finished = was_finished | torch.isneginf(cum)
        if eos is not None:
            finished |= tokens == eos
        state = select_state(state, parent)
        K = new_K
        if bool(finished.all()):
            break
    score = length_normalised(cum, lengths, length_penalty).view(B, K).tolist()
    reported = (model_cum if penalised else cum).view(B, K).tolist()
    cum, lengths, history = cum.view(B, K).tolist(), lengths.view(B, K).tolist(), history.view(B, K, -1).tolist()
    results = []
    for b in range(B):
        hyps = [Hypothesis(history[b][k][:lengths[b][k]], reported[b][k], score[b][k])
                for k in range(K) if cum[b][k] != float("-inf")]
        hyps.sort(key=lambda h: h.score, reverse=True)  # stable: equal scores keep the beam's order
        results.append(hyps[:n_best])
    return results
