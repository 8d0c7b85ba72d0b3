"""Generating text from a character language model with any decoder of ``rnnkit.decoding``.

The prime is read once to build the state; the decoders then carry that state one character at a
time (course-notes §8: feed the predicted symbol back as the next input).
"""

from __future__ import annotations

from typing import Callable

import torch

from rnnkit.data.vocab import CharVocab
from rnnkit.decoding import beam_search, greedy, sample
from rnnkit.errors import RnnkitError


@torch.no_grad()
def generate(model, vocab: CharVocab, prime: str, length: int, temperature: float = 1.0, top_k: int | None = None,
             top_p: float | None = None, beam: int = 1, seed: int | None = None, repetition_penalty: float = 1.0,
             no_repeat_ngram: int = 0, progress: bool = False) -> str:
    """``prime`` followed by ``length`` generated characters: ``generate_texts`` with one sample."""
    return generate_texts(model, vocab, prime, length, temperature=temperature, top_k=top_k, top_p=top_p,
                          beam=beam, seed=seed, repetition_penalty=repetition_penalty,
                          no_repeat_ngram=no_repeat_ngram, progress=progress)[0]


@torch.no_grad()
def generate_texts(model, vocab: CharVocab, prime: str, length: int, temperature: float = 1.0,
                   top_k: int | None = None, top_p: float | None = None, beam: int = 1, seed: int | None = None,
                   repetition_penalty: float = 1.0, no_repeat_ngram: int = 0, progress: bool = False,
                   num_samples: int = 1, stop: list[str] | tuple = (), ban: str = "",
                   stream: Callable[[str], None] | None = None) -> list[str]:
    """``num_samples`` texts, each ``prime`` followed by up to ``length`` generated characters.

    ``beam > 1``: beam search (the most probable continuation it finds; several samples are its
    ``num_samples`` best beams); ``temperature == 0``: greedy; otherwise sampling with temperature, top-k
    and top-p, reproducible with ``seed`` (the samples are drawn together, one row each). The repetition
    penalties (``rnnkit.decoding.penalties``) see the prime too. ``stop``: a text ends just before the
    first of these strings it generates (the prime is not searched), and generation ends when every text
    has; ``ban``: characters never generated (those outside the vocabulary never are); ``stream(text)``: called with each piece of the (single)
    sample as it is generated, the prime first (a piece that could begin a stop string is held back until it
    cannot); ``progress``: a bar in characters/s.
    """
    from rnnkit.decoding.constraints import StopDecoding, banned, cut_at_stop, watched
    from rnnkit.decoding.step import repeat_state
    from rnnkit.runtime import progress as progress_bar

    if not prime:
        raise RnnkitError("the prime text is empty; give at least one character with --prime")
    if length < 1:
        raise RnnkitError(f"--length must be >= 1, got {length}")
    if not isinstance(num_samples, int) or num_samples < 1:
        raise RnnkitError(f"--num-samples must be an integer >= 1, got {num_samples!r}")
    if beam > 1 and num_samples > beam:
        raise RnnkitError(f"--num-samples {num_samples} is more than the beam width {beam}; widen --beam")
    if beam == 1 and temperature == 0 and num_samples > 1:
        raise RnnkitError("greedy decoding (--temperature 0) gives one text; sample (a temperature > 0) or use "
                          "--beam for several")
    if stream is not None and (beam > 1 or num_samples > 1):
        raise RnnkitError("streaming shows one sampled text as it is generated; it cannot follow a beam search "
                          "or several samples")
    ids = vocab.encode(prime, "the prime text")
    model.eval()
    device = next(model.parameters()).device
    state = model.init_state(1)
    if len(ids) > 1:  # read the prime once; its last character starts the decoder
        _, _, state = model(torch.tensor([ids[:-1]], device=device), state=state)
    rows = num_samples if beam == 1 else 1
    state = repeat_state(state, rows)
    start = torch.full((rows,), ids[-1], device=device, dtype=torch.long)
    penalties = dict(repetition_penalty=repetition_penalty, no_repeat_ngram=no_repeat_ngram,
                     context=torch.tensor([ids[:-1]] * rows, dtype=torch.long, device=device).reshape(rows, -1))
    texts = [""] * rows  # what sampling and greedy decoding have generated so far (fed back to the model)
    shown = [0]  # characters of texts[0] streamed
    hold = max((len(s) for s in stop), default=1) - 1
    if stream is not None:
        stream(prime)

    def seen(tokens):
        for r, t in enumerate(tokens.tolist()):
            texts[r] += vocab.chars[t]
        cut = [cut_at_stop(t, stop)[1] for t in texts] if stop else [False]
        if stream is not None:
            safe = cut_at_stop(texts[0], stop)[0] if cut[0] else texts[0][: max(0, len(texts[0]) - hold)]
            if len(safe) > shown[0]:
                stream(safe[shown[0]:])
                shown[0] = len(safe)
        if stop and all(cut):
            raise StopDecoding

    step = banned(model.step, [vocab.index[c] for c in ban if c in vocab.index])  # others never come out
    if beam == 1 and (stop or stream is not None):
        step = watched(step, seen)
    with progress_bar(total=length, unit="char", desc="generating", enabled=progress and stream is None) as bar:
        def counted(tokens, state):  # the model's step, counted: one call per generated character
            bar.update(1)
            return step(tokens, state)

        try:
            if beam > 1:
                hyps = beam_search(counted, state, start, beam=beam, max_len=length, n_best=num_samples,
                                   **penalties)[0]
            elif temperature == 0:
                hyps = greedy(counted, state, start, max_len=length, **penalties)
            else:
                generator = torch.Generator(device=device)
                if seed is not None:
                    generator.manual_seed(seed)
                else:
                    generator.seed()
                hyps = sample(counted, state, start, max_len=length, temperature=temperature, top_k=top_k,
                              top_p=top_p, generator=generator, **penalties)
            texts = [vocab.decode(h.tokens) for h in hyps]
        except StopDecoding:  # every text reached a stop string: what was generated up to there
            pass
    texts = [cut_at_stop(t, stop)[0] for t in texts]
    if stream is not None and len(texts[0]) > shown[0]:
        stream(texts[0][shown[0]:])
    return [prime + t for t in texts]
