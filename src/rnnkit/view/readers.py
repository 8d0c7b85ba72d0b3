"""What each task's model reads, and where its recurrent states are: the one table of the view that
names tasks. Everything else works on ``rnnkit.tasks.runner.Loaded``, whatever the task.

A reader turns a text into the tokens the model reads (characters or words, as the run was trained)
and runs the model's own input path (embedding, character encoder, word shapes...) up to its recurrent
stack; a forward pre-hook on the stack catches what the stack reads, ``x (T, F)``, so the view never
copies a model's input code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from rnnkit.errors import RnnkitError


@dataclass(frozen=True)
class Reader:
    """``tokens(loaded, text) -> list[str]``; ``feed(loaded, tokens)`` runs the model on them;
    ``stack(model)``: the recurrent stack whose input is caught; ``unit``: "character" or "word"."""

    tokens: Callable
    feed: Callable
    stack: Callable
    unit: Callable


def _lm_tokens(run, text):
    run.vocabs["vocab"].encode(text, "the text")  # one line naming the characters the model never saw
    return list(text)


def _lm_feed(run, tokens):
    ids = run.vocabs["vocab"].encode("".join(tokens), "the text")
    run.model(torch.tensor([ids], device=_device(run)))


def _classify_tokens(run, text):
    from rnnkit.data.text import tokenize

    return tokenize(text, run.configs["data"].tokens)


def _classify_feed(run, tokens):
    ids = run.vocabs["vocab"].encode(tokens)
    run.model((torch.tensor([ids], device=_device(run)), torch.tensor([len(ids)], device=_device(run))))


def _tag_feed(run, tokens):
    from rnnkit.tasks.tag.data import Encoded

    d = run.configs["data"]
    inputs, _ = Encoded([tokens], run.vocabs["words"], run.vocabs["chars"], d.lowercase, d.max_word).read([0])
    run.model.encode(type(inputs)(*(x.to(_device(run)) for x in inputs)))


def _translate_tokens(run, text):
    from rnnkit.tasks.translate.translator import Translator

    return Translator.of(run).tokens(text)


def _translate_feed(run, tokens):
    from rnnkit.tasks.translate.translator import Translator

    translator = Translator.of(run)
    run.model.encode(*translator.encode([tokens]))


def _device(run):
    return next(run.model.parameters()).device


def _words(run):
    return "word"


#: The tasks whose models read text (the cells view), by the task's name.
TEXT_READERS = {
    "lm": Reader(_lm_tokens, _lm_feed, lambda m: m.rnn, lambda run: "character"),
    "classify": Reader(_classify_tokens, _classify_feed, lambda m: getattr(m, "rnn", None),
                       lambda run: "character" if run.configs["data"].tokens == "char" else "word"),
    "tag": Reader(lambda run, text: text.split(), _tag_feed, lambda m: m.rnn, _words),
    "translate": Reader(_translate_tokens, _translate_feed, lambda m: m.encoder, _words),
}


class _Caught(Exception):
    """Raised by the hook once it holds the stack's input: the rest of the model need not run."""


def stack_input(run, tokens: list[str]) -> torch.Tensor:
    """What the model's recurrent stack reads for ``tokens``: ``x (T, F)``."""
    reader = TEXT_READERS[run.task.name]
    stack = reader.stack(run.model)
    caught = []

    def catch(module, args):
        caught.append(args[0])
        raise _Caught

    handle = stack.register_forward_pre_hook(catch)
    try:
        with torch.no_grad():
            reader.feed(run, tokens)
    except _Caught:
        pass
    finally:
        handle.remove()
    return caught[0][0]  # (T, F): the one row


def read_text(run, text: str) -> list[str]:
    """The tokens of ``text`` as the model reads them; a one-line error for a text it cannot read."""
    reader = TEXT_READERS.get(run.task.name)
    if reader is None:
        raise RnnkitError(f"a {run.task.name} model reads no text; the cells view reads text for: "
                          f"{', '.join(TEXT_READERS)}")
    if reader.stack(run.model) is None:
        raise RnnkitError(f"{run.path} is a {run.configs['model'].model} baseline, which has no recurrent states")
    tokens = reader.tokens(run, text)
    if not tokens:
        raise RnnkitError(f"the text holds no {reader.unit(run)} the model reads; type or paste some text")
    return tokens
