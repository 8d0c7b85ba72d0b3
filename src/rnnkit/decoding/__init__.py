"""Decoders: turn a model's next-token distribution into output sequences (course-notes §8).

Decoding searches for the most probable output. ``exhaustive`` scores every output (exact,
combinatorial, for toy sizes); ``greedy`` takes the locally best token and never revises; ``beam_search``
keeps the k best partial outputs; ``sample`` draws tokens for variety (temperature, top-k, top-p).
All are written against one step interface (``step.StepFn``) and carry the recurrent state forward,
so the char language model and a seq2seq translator use them unchanged.
"""

from rnnkit.decoding.beam import beam_search
from rnnkit.decoding.exhaustive import exhaustive
from rnnkit.decoding.greedy import greedy
from rnnkit.decoding.sampling import sample, top_k_filter, top_p_filter
from rnnkit.decoding.step import Hypothesis, State, StepFn, repeat_state, select_state

__all__ = [
    "Hypothesis", "State", "StepFn", "beam_search", "exhaustive", "greedy", "repeat_state", "sample",
    "select_state", "top_k_filter", "top_p_filter",
]
