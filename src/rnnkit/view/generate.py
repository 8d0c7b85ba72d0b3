"""Generation for the page, token by token: the char-LM from a prime, the translator from a source
sentence, the captioner from an image, with the decoders rnnkit already has (``rnnkit.decoding``:
greedy, sampling with temperature / top-k / top-p, beam search, and the repetition penalties).

``stream`` yields one event per token: its text, its probability under the model and the most
probable alternatives at that position. Greedy decoding and sampling stream as they decode: the
decoders feed each chosen token back through the model's ``step``, and a wrapper around ``step``
reports it. Beam search revises its choices until it ends, so its tokens follow once it has, each
scored by stepping the model along the chosen output (the same probabilities the search summed).
"""

from __future__ import annotations

import math
import queue
import threading
from dataclasses import dataclass

import torch

from rnnkit.errors import RnnkitError, unknown_choice

DECODERS = ("sample", "greedy", "beam")
ALTERNATIVES = 5  # the alternatives shown on hover


@dataclass
class Options:
    """The decoding knobs of the page (the same meaning as the ``sample``/``translate`` flags)."""

    decoder: str = "sample"
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 0.0
    beam: int = 5
    repetition_penalty: float = 1.0
    no_repeat_ngram: int = 0
    length: int = 200  # the char-LM's characters; the decoders of words stop at </s> or their limit
    seed: int = 0

    @classmethod
    def of(cls, given: dict) -> "Options":
        """Options from the page's JSON, each checked, with one line naming a bad value and its range."""
        known = cls.__dataclass_fields__
        unknown = set(given) - set(known)
        if unknown:
            raise RnnkitError(f"unknown decoding option(s) {', '.join(sorted(unknown))}; known: {', '.join(known)}")
        o = cls(**{k: (type(getattr(cls, k))(v) if k != "decoder" else str(v)) for k, v in given.items()})
        ranges = {"temperature": (0.0, 100.0), "top_k": (0, 10**6), "top_p": (0.0, 1.0), "beam": (1, 64),
                  "repetition_penalty": (1.0, 100.0), "no_repeat_ngram": (0, 1000), "length": (1, 5000),
                  "seed": (0, 2**31 - 1)}
        for name, (low, high) in ranges.items():
            value = getattr(o, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and low <= value <= high):
                raise RnnkitError(f"{name.replace('_', '-')} must be in [{low}, {high}], got {value!r}")
        if o.decoder not in DECODERS:
            raise unknown_choice("decoder", o.decoder, DECODERS)
        if o.decoder == "sample" and o.temperature == 0:
            raise RnnkitError("temperature 0 is greedy decoding: choose the decoder 'greedy' (or a temperature > 0)")
        return o


def token_event(token: int, log_probs: torch.Tensor, show) -> dict:
    """One generated token: its text and probability, and the ``ALTERNATIVES`` most probable tokens."""
    p = log_probs.float().exp()
    top = p.topk(min(ALTERNATIVES, p.numel()))
    return {"type": "token", "id": token, "text": show(token), "p": float(p[token]),
            "alternatives": [[show(int(i)), float(v)] for v, i in zip(top.values, top.indices)]}


def decode(step, state, start: int, eos, o: Options, max_len: int, context):
    """The one hypothesis of ``o.decoder`` (``context``: what the repetition penalties also look at)."""
    from rnnkit.decoding import beam_search, greedy, sample

    penalties = dict(repetition_penalty=o.repetition_penalty, no_repeat_ngram=o.no_repeat_ngram, context=context)
    if o.decoder == "beam":
        return beam_search(step, state, start, beam=o.beam, max_len=max_len, eos=eos, **penalties)[0][0]
    if o.decoder == "greedy":
        return greedy(step, state, start, max_len, eos, **penalties)[0]
    generator = torch.Generator(device=context.device).manual_seed(o.seed)
    return sample(step, state, start, max_len, temperature=o.temperature, top_k=o.top_k or None,
                  top_p=o.top_p or None, eos=eos, generator=generator, **penalties)[0]


def stream(model, state, start: int, eos, o: Options, max_len: int, show, context):
    """Events ``{"type": "token", ...}`` as the tokens are decoded, then ``{"type": "end", ...}``."""
    events: queue.Queue = queue.Queue()
    last = {}

    def watched(tokens, s):  # greedy and sampling feed back the token they just chose: report it
        if o.decoder != "beam" and "log_probs" in last:
            events.put(token_event(int(tokens[0]), last["log_probs"], show))
        log_probs, s = model.step(tokens, s)
        last["log_probs"] = log_probs[0]
        return log_probs, s

    def run():
        try:
            with torch.no_grad():
                events.put(("done", decode(watched, state, start, eos, o, max_len, context)))
        except Exception as e:  # noqa: BLE001: the page gets the message; the server keeps serving
            events.put(("error", e))

    threading.Thread(target=run, daemon=True).start()
    sent = 0
    while True:
        item = events.get()
        if isinstance(item, dict):
            sent += 1
            yield item
            continue
        kind, value = item
        if kind == "error":
            raise value
        break
    hyp = value
    if o.decoder == "beam":  # its choices are final only now: step along them
        with torch.no_grad():
            s, token = state, torch.tensor([start], device=context.device)
            for t in hyp.tokens:
                log_probs, s = model.step(token, s)
                yield token_event(t, log_probs[0], show)
                token = torch.tensor([t], device=context.device)
    else:
        for t in hyp.tokens[sent:]:  # the last token chosen is never fed back
            yield token_event(t, last["log_probs"], show)
    yield {"type": "end", "tokens": len(hyp.tokens), "log_prob": float(hyp.log_prob)}


def lm_stream(run, prime: str, o: Options):
    """The char-LM continuing ``prime`` by ``o.length`` characters."""
    vocab, model = run.vocabs["vocab"], run.model
    if not prime:
        raise RnnkitError("the prime text is empty; type at least one character")
    ids = vocab.encode(prime, "the prime text")
    device = next(model.parameters()).device
    state = model.init_state(1)
    with torch.no_grad():
        if len(ids) > 1:  # read the prime once; its last character starts the decoder
            _, _, state = model(torch.tensor([ids[:-1]], device=device), state=state)
    context = torch.tensor([ids[:-1]], dtype=torch.long, device=device)
    return stream(model, state, ids[-1], None, o, o.length, lambda i: vocab.chars[i], context)


def translate_stream(run, sentence: str, o: Options):
    """The translator's output for ``sentence``, word by word (it stops at </s>)."""
    from rnnkit.models.seq2seq import BOS_ID, EOS_ID
    from rnnkit.tasks.translate.translator import Translator

    translator = Translator.of(run)
    tokens = translator.tokens(sentence)
    if not tokens:
        raise RnnkitError("the source sentence is empty; type a sentence to translate")
    with torch.no_grad():
        state = run.model.encode(*translator.encode([tokens[: translator.data.max_words * 2]]))
    target = translator.target.tokens
    context = torch.zeros(1, 0, dtype=torch.long, device=translator.device)
    return stream(run.model, state, BOS_ID, EOS_ID, o, 2 * translator.data.max_words + 2, lambda i: target[i], context)


def caption_stream(run, image, o: Options):
    """The captioner's caption of ``image`` (uint8 ``(S, S, 3)``), word by word."""
    from rnnkit.models.captioner import BOS_ID, EOS_ID
    from rnnkit.tasks.caption.decode import DEFAULT_MAX_OUTPUT

    device = next(run.model.parameters()).device
    with torch.no_grad():
        state = run.model.encode(torch.from_numpy(image).unsqueeze(0).to(device))
    words = run.vocabs["vocab"].tokens
    context = torch.zeros(1, 0, dtype=torch.long, device=device)
    return stream(run.model, state, BOS_ID, EOS_ID, o, DEFAULT_MAX_OUTPUT, lambda i: words[i], context)
