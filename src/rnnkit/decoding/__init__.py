"""Decoders: turn a model's next-token distribution into output sequences (course-notes §8).

Decoding searches for the most probable output. ``exhaustive`` scores every output (exact,
combinatorial, for toy sizes); ``greedy`` takes the locally best token and never revises; ``beam_search``
keeps the k best partial outputs; ``sample`` draws tokens for variety (temperature, top-k, top-p).
All are written against one step interface (``step.StepFn``) and carry the recurrent state forward,
so the char language model and a seq2seq translator use them unchanged.
"""

import importlib

#: Public name -> the submodule that defines it. The submodules (torch) load on the first use of any of
#: these names, so ``rnnkit.decoding.options`` (pure Python, read while the CLI's parsers are built)
#: loads no torch.
_LAZY = {
    "beam_search": "beam", "exhaustive": "exhaustive", "greedy": "greedy", "sample": "sampling",
    "top_k_filter": "sampling", "top_p_filter": "sampling", "Hypothesis": "step", "State": "step",
    "StepFn": "step", "repeat_state": "step", "select_state": "step",
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'rnnkit.decoding' has no attribute {name!r}")
    modules = {m: importlib.import_module(f"rnnkit.decoding.{m}") for m in set(_LAZY.values())}
    # bound after every submodule is loaded: ``greedy`` and ``exhaustive`` name a module and its function
    globals().update({n: getattr(modules[m], n) for n, m in _LAZY.items()})
    return globals()[name]


__all__ = [
    "Hypothesis", "State", "StepFn", "beam_search", "exhaustive", "greedy", "repeat_state", "sample",
    "select_state", "top_k_filter", "top_p_filter",
]
