"""The ids and slots of ``rnnkit.kernels.spec`` as Triton compile-time constants, for the kernels.

Triton lets a kernel read a module global only when it is a ``tl.constexpr`` (and then folds it into
the kernel's cache key), so each name of spec.py that a kernel reads is wrapped here, once.
"""

from __future__ import annotations

import triton.language as tl

from rnnkit.kernels import spec

# cell ids (compared with a kernel's CELL) and activation ids (ACT)
ELMAN = tl.constexpr(spec.ELMAN)
SIMPLE_LSTM = tl.constexpr(spec.SIMPLE_LSTM)
LSTM = tl.constexpr(spec.LSTM)
GRU = tl.constexpr(spec.GRU)
GRU_COURSE = tl.constexpr(spec.GRU_COURSE)
LN_LSTM = tl.constexpr(spec.LN_LSTM)
TANH = tl.constexpr(spec.TANH)
RELU = tl.constexpr(spec.RELU)
SIGMOID = tl.constexpr(spec.SIGMOID)

# the course GRU's saved slots, sv (B, T, GRU_COURSE_SLOTS, H)
GRU_COURSE_R = tl.constexpr(spec.GRU_COURSE_R)
GRU_COURSE_Z = tl.constexpr(spec.GRU_COURSE_Z)
GRU_COURSE_N = tl.constexpr(spec.GRU_COURSE_N)
GRU_COURSE_SLOTS = tl.constexpr(spec.GRU_COURSE_SLOTS)

# the LN-LSTM's saved slots, sv (B, T, LN_LSTM_SLOTS, H), and statistics, stats (B, T, LN_LSTM_STATS)
LN_LSTM_PRODUCT = tl.constexpr(spec.LN_LSTM_PRODUCT)
LN_LSTM_I = tl.constexpr(spec.LN_LSTM_I)
LN_LSTM_F = tl.constexpr(spec.LN_LSTM_F)
LN_LSTM_G = tl.constexpr(spec.LN_LSTM_G)
LN_LSTM_O = tl.constexpr(spec.LN_LSTM_O)
LN_LSTM_NC = tl.constexpr(spec.LN_LSTM_NC)
LN_LSTM_SLOTS = tl.constexpr(spec.LN_LSTM_SLOTS)
LN_LSTM_STAT_C = tl.constexpr(spec.LN_LSTM_STAT_C)
LN_LSTM_STATS = tl.constexpr(spec.LN_LSTM_STATS)
