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
             top_p: float | None = None, beam: int = 1, seed: int | None = None, repetition_penalty: float = 1.0,
             no_repeat_ngram: int = 0, progress: bool = False) -> str:
    """``prime`` followed by ``length`` generated characters.

    ``beam > 1``: beam search (the most probable continuation it finds); ``temperature == 0``: greedy;
    otherwise sampling with temperature, top-k and top-p, reproducible with ``seed``. The repetition
    penalties (``rnnkit.decoding.penalties``) see the prime too. ``progress``: a bar in characters/s.
    """
    from rnnkit.runtime import progress as progress_bar

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
    penalties = dict(repetition_penalty=repetition_penalty, no_repeat_ngram=no_repeat_ngram,
                     context=torch.tensor([ids[:-1]], dtype=torch.long, device=device))
    with progress_bar(total=length, unit="char", desc="generating", enabled=progress) as bar:
        def step(tokens, state):  # the model's step, counted: one call per generated character
            bar.update(1)
            return model.step(tokens, state)

        if beam > 1:
            hyp = beam_search(step, state, start, beam=beam, max_len=length, **penalties)[0][0]
        elif temperature == 0:
            hyp = greedy(step, state, start, max_len=length, **penalties)[0]
        else:
            generator = torch.Generator(device=device)
            if seed is not None:
                generator.manual_seed(seed)
            else:
                generator.seed()
            hyp = sample(step, state, start, max_len=length, temperature=temperature, top_k=top_k, top_p=top_p,
                         generator=generator, **penalties)[0]
    return prime + vocab.decode(hyp.tokens)
