"""Helpers that act on a recurrent state whatever its structure: a tensor, an LSTMState, or tuples of
them (one per direction, one per layer). Every tensor in a state is batch-first, ``(B, H)``."""

from __future__ import annotations

import torch


def map_state(fn, *states):
    """Apply ``fn`` tensor-wise to one or more states of the same structure, keeping the structure."""
    first = states[0]
    if isinstance(first, torch.Tensor):
        return fn(*states)
    parts = [map_state(fn, *items) for items in zip(*states)]
    return type(first)(*parts) if hasattr(first, "_fields") else type(first)(parts)


def detach_state(state):
    """Cut the graph behind a state (truncated BPTT): values kept, no gradient flows further back."""
    return map_state(lambda t: t.detach(), state)


def reverse_padded(x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    """Reverse each sequence of ``x (B, T, F)`` within its own length; padding stays at the end.

    ``[a b c 0 0] -> [c b a 0 0]`` for length 3. Applying it twice gives back ``x``.
    """
    if lengths is None:
        return x.flip(1)
    B, T = x.shape[:2]
    t = torch.arange(T, device=x.device).unsqueeze(0)  # (1, T)
    L = lengths.to(x.device).unsqueeze(1)  # (B, 1)
    index = torch.where(t < L, L - 1 - t, t)  # (B, T): mirror inside the length, identity outside
    return x.gather(1, index.unsqueeze(-1).expand_as(x))


def flatten_state(state) -> tuple[object, list[torch.Tensor]]:
    """A state as (structure, tensors): the structure is JSON (nested lists naming each node's type),
    so a carried state can be written to a safetensors file and rebuilt by ``unflatten_state``."""
    tensors: list[torch.Tensor] = []

    def walk(s):
        if isinstance(s, torch.Tensor):
            tensors.append(s)
            return len(tensors) - 1
        return [type(s).__name__, [walk(x) for x in s]]

    return walk(state), tensors


def unflatten_state(structure, tensors: list[torch.Tensor]):
    from rnnkit.cells.base import LSTMState

    types = {"tuple": tuple, "list": list, "LSTMState": LSTMState}
    if isinstance(structure, int):
        return tensors[structure]
    name, children = structure
    parts = [unflatten_state(c, tensors) for c in children]
    return LSTMState(*parts) if name == "LSTMState" else types[name](parts)
