"""The step interface every decoder is written against, the hypothesis it returns, and the state helpers.

A decoder never sees the model, only ``step(tokens, state) -> (log_probs, state)``, called once per
generated token with the state carried forward; so a char LM and a seq2seq decoder share every decoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch

from rnnkit.errors import RnnkitError
from rnnkit.layers.state import map_state

#: A tensor ``(N, H)``, or any nesting of tuples / NamedTuples (``LSTMState(h, c)``) of tensors whose
#: first dimension is the batch.
State = Any

#: ``step(tokens (N,), state) -> (log_probs (N, V), state)``: the previous token of each of N sequences
#: in, the normalised log-probabilities (log_softmax) of the next token and the new state out.
StepFn = Callable[[torch.Tensor, State], tuple[torch.Tensor, State]]


@dataclass
class Hypothesis:
    """One decoded sequence.

    ``tokens``: the generated tokens, without the start token, with the eos token if one was emitted.
    ``log_prob``: ``sum_t log p(tokens[t] | start, tokens[:t])`` under the model.
    ``score``: what the decoder ranked by; ``log_prob`` unless a length penalty applies.
    """

    tokens: list[int]
    log_prob: float
    score: float


def select_state(state: State, index: torch.Tensor) -> State:
    """Rows ``index (M,)`` of every tensor of ``state``: reorders, drops or duplicates hypotheses."""
    return map_state(lambda t: t.index_select(0, index), state)


def repeat_state(state: State, n: int) -> State:
    """Each batch row repeated ``n`` times in place: rows ``[a, b] -> [a, a, b, b]`` for ``n = 2``."""
    return map_state(lambda t: t.repeat_interleave(n, dim=0), state)


def cat_states(states: list[State]) -> State:
    """Stack states of the same structure along the batch: the inverse of splitting into chunks."""
    return map_state(lambda *ts: torch.cat(ts, dim=0), *states)


def first_tensor(state: State) -> torch.Tensor:
    """The first tensor of a state, for its batch size and device."""
    while not isinstance(state, torch.Tensor):
        if len(state) == 0:
            raise RnnkitError("the decoder state holds no tensor; give a (B, H) tensor or a tuple of them")
        state = state[0]
    return state


def start_tokens(start: int | torch.Tensor, state: State) -> torch.Tensor:
    """``start`` as a LongTensor ``(B,)`` on the state's device, B being the state's batch size."""
    ref = first_tensor(state)
    B = ref.shape[0]
    if isinstance(start, int):
        return torch.full((B,), start, dtype=torch.long, device=ref.device)
    if not isinstance(start, torch.Tensor) or start.dim() > 1 or start.dtype.is_floating_point:
        raise RnnkitError(f"start must be an int or an integer tensor of shape ({B},), got {start!r}")
    if start.dim() == 0:
        start = start.expand(B)
    if start.shape[0] != B:
        raise RnnkitError(f"start has {start.shape[0]} tokens but the state has batch {B}; give one per row")
    return start.to(device=ref.device, dtype=torch.long)


def check_max_len(max_len: int) -> None:
    if not isinstance(max_len, int) or max_len < 1:
        raise RnnkitError(f"max_len must be an integer >= 1 (tokens to generate), got {max_len!r}")


def length_normalised(log_prob: torch.Tensor, lengths: torch.Tensor, length_penalty: float) -> torch.Tensor:
    """The ranking score ``log_prob / len ** length_penalty``.

    ``length_penalty = 0`` ranks by the raw log-probability (the most probable sequence, which favours
    short ones); ``1`` by the mean log-probability per token; values between trade the two off.
    """
    return log_prob / lengths.to(log_prob.dtype) ** length_penalty


def context_tokens(context: torch.Tensor | None, start: torch.Tensor) -> torch.Tensor:
    """``(B, c + 1)``: the tokens before the start token (``context (B, c)``, e.g. a prime) and the
    start token, the history that the repetition penalties look at."""
    if context is None:
        return start.unsqueeze(1)
    context = torch.as_tensor(context, dtype=torch.long, device=start.device)
    if context.dim() == 1:
        context = context.unsqueeze(0).expand(start.shape[0], -1)
    if context.dim() != 2 or context.shape[0] != start.shape[0]:
        raise RnnkitError(f"context must be ({start.shape[0]}, c) tokens, one row per sequence; got {tuple(context.shape)}")
    return torch.cat([context, start.unsqueeze(1)], dim=1)


@torch.no_grad()
def unroll(step: StepFn, state: State, start: int | torch.Tensor, max_len: int, eos: int | None,
           pick: Callable[[torch.Tensor], torch.Tensor], repetition_penalty: float = 1.0, no_repeat_ngram: int = 0,
           context: torch.Tensor | None = None) -> list[Hypothesis]:
    """Left to right, one token per row and one ``step`` call per position, never revising a choice.

    ``pick(scores (B, V)) -> tokens (B,)`` is the only difference between greedy and sampling; the
    scores are the log-probabilities after the repetition penalties (``rnnkit.decoding.penalties``),
    which look at ``context``, the start token and the output so far. A row that emitted ``eos``
    stops; its later outputs are computed with the batch but ignored.
    """
    from rnnkit.decoding.penalties import check_penalties, penalise

    check_max_len(max_len)
    check_penalties(repetition_penalty, no_repeat_ngram)
    penalised = repetition_penalty != 1.0 or no_repeat_ngram > 0
    tokens = start_tokens(start, state)  # (B,)
    B, device = tokens.shape[0], tokens.device
    seen = context_tokens(context, tokens) if penalised else None  # (B, c + 1 + t)
    log_prob = torch.zeros(B, dtype=torch.float64, device=device)  # float64: beam width 1 sums the same way
    lengths = torch.zeros(B, dtype=torch.long, device=device)
    done = torch.zeros(B, dtype=torch.bool, device=device)
    chosen = []
    for _ in range(max_len):
        log_probs, state = step(tokens, state)  # (B, V)
        if penalised:
            tokens = pick(penalise(log_probs, seen, repetition_penalty, no_repeat_ngram))  # (B,)
            seen = torch.cat([seen, tokens.unsqueeze(1)], dim=1)
        else:
            tokens = pick(log_probs)  # (B,)
        alive = ~done
        token_lp = log_probs.gather(1, tokens.unsqueeze(1)).squeeze(1).double()  # (B,)
        log_prob = log_prob + torch.where(alive, token_lp, 0.0)
        lengths += alive
        chosen.append(tokens)
        if eos is not None:
            done |= tokens == eos
        if bool(done.all()):
            break
    history = torch.stack(chosen, dim=1).tolist()  # (B, T)
    return [Hypothesis(history[b][:n], lp, lp) for b, (n, lp) in enumerate(zip(lengths.tolist(), log_prob.tolist()))]
