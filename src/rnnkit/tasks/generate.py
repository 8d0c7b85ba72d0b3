"""Generating text from a character language model with any decoder of ``rnnkit.decoding``.

The prime is read once to build the state; the decoders then carry that state one character at a
time (course-notes §8: feed the predicted symbol back as the next input).
"""

from __future__ import annotations

import torch

from rnnkit.data.vocab import CharVocab
from rnnkit.decoding import beam_search, greedy, sample
from rnnkit.errors import RnnkitError


@torch.no_grad()
def generate(model, vocab: CharVocab, prime: str, length: int, temperature: float = 1.0, top_k: int | None = None,
             top_p: float | None = None, beam: int = 1, seed: int | None = None) -> str:
    """``prime`` followed by ``length`` generated characters.

    ``beam > 1``: beam search (the most probable continuation it finds); ``temperature == 0``: greedy;
    otherwise sampling with temperature, top-k and top-p, reproducible with ``seed``.
    """
    if not prime:
        raise RnnkitError("the prime text is empty; give at least one character with --prime")
    if length < 1:
        raise RnnkitError(f"--length must be >= 1, got {length}")
    ids = vocab.encode(prime, "the prime text")
    model.eval()
    device = next(model.parameters()).device
    state = model.init_state(1)
    if len(ids) > 1:  # read the prime once; its last character starts the decoder
        _, _, state = model(torch.tensor([ids[:-1]], device=device), state=state)
    start = torch.tensor([ids[-1]], device=device)
    if beam > 1:
        hyp = beam_search(model.step, state, start, beam=beam, max_len=length)[0][0]
    elif temperature == 0:
        hyp = greedy(model.step, state, start, max_len=length)[0]
    else:
        generator = torch.Generator(device=device)
        if seed is not None:
            generator.manual_seed(seed)
        else:
            generator.seed()
        hyp = sample(model.step, state, start, max_len=length, temperature=temperature, top_k=top_k, top_p=top_p,
                     generator=generator)[0]
    return prime + vocab.decode(hyp.tokens)
