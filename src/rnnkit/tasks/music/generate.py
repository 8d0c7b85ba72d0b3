"""Sampling a piano roll from a trained frame model, one frame at a time, the state carried forward.

    x_0 = 0 (or the first frames of a piece: the primer)
    p_t = sigmoid(logits_t / temperature);  x_{t+1, k} ~ Bernoulli(p_{t, k}) for every pitch k
    --max-notes K: a frame with more than K pitches drawn keeps the K most probable of them
"""

from __future__ import annotations

import numpy as np
import torch


@torch.no_grad()
def sample_roll(model, steps: int, temperature: float = 1.0, seed: int = 0, max_notes: int = 0,
                primer: np.ndarray | None = None) -> np.ndarray:
    """``(len(primer) + steps, P)`` bool: the primer's frames (none by default), then ``steps`` sampled ones."""
    model.eval()
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    frames = [] if primer is None else [torch.as_tensor(f, dtype=torch.float32) for f in primer]
    state, x = None, torch.zeros(1, model.pitches, device=device)  # (1, P): x_0, the silent start frame
    for f in frames:  # the primer: read, not sampled
        _, state = model.step(x, state)
        x = f.to(device)[None]
    out = list(frames)
    for _ in range(steps):
        logits, state = model.step(x, state)  # (1, P), the state carried on: the prefix is never re-read
        p = torch.sigmoid(logits.float().cpu()[0] / temperature)  # (P,)
        on = torch.rand(p.shape, generator=generator) < p
        if max_notes and int(on.sum()) > max_notes:
            keep = torch.topk(torch.where(on, p, torch.full_like(p, -1.0)), max_notes).indices
            on = torch.zeros_like(on)
            on[keep] = True
        out.append(on.float())
        x = on.float().to(device)[None]
    return torch.stack(out).numpy().astype(bool) if out else np.zeros((0, model.pitches), dtype=bool)
