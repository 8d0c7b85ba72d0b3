"""How rnnkit runs on a CPU: denormal flushing, the thread count, and progress bars.

**Denormals.** A float32 below 1.2e-38 is *denormal* (subnormal): x86 CPUs compute with it through a
slow microcode path, often 10-100x slower per operation. A recurrent state that decays towards zero
(a forget gate below 1, ``h_t = f_t * h_{t-1}``, over thousands of steps) fills with such numbers, and
evaluation then slows by an order of magnitude for some weights and not others. Flushing them to zero
(the CPU's FTZ/DAZ modes) changes results by less than 1.2e-38 per value. ``benchmarks/denormals.py``
reproduces the slowdown.

The library never changes this process-wide setting behind a caller's back: use
``with flush_denormals(): ...`` around your own numerical work. The ``rnnkit`` command does it for
every command that computes (:func:`cli_runtime`).

**Threads.** Torch's default is one intra-op thread per core. On a machine shared with other jobs,
threads that wait for each other at every small matrix product make an RNN several times slower
(``benchmarks/threads.py``), so the command line defaults to :data:`DEFAULT_THREADS`; ``--threads 0``
restores torch's default.

**Progress.** :func:`progress` is the one progress bar of the command-line tools (tqdm): it shows a
rate in ``unit``/s, and stays quiet when stdout or stderr is not a terminal (logs, pipes, tests).
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

#: Intra-op threads of an ``rnnkit`` command without ``--threads``; 0 would mean torch's default.
DEFAULT_THREADS = 1


def denormals_flushed() -> bool:
    """Whether this thread's CPU currently flushes denormals to zero (probed: a denormal times one)."""
    import torch

    tiny = torch.tensor([1e-40], dtype=torch.float32)  # denormal: below float32's 1.18e-38
    return bool((tiny * 1.0).item() == 0.0)


@contextmanager
def flush_denormals(enabled: bool = True):
    """Inside the block, denormal floats on the CPU are flushed to zero (``torch.set_flush_denormal``);
    the previous mode is restored on exit. No effect on a CPU without FTZ/DAZ, or on a GPU.

    >>> with flush_denormals():
    ...     loss = evaluate(model)       # same loss to float tolerance, never 10x slower
    """
    import torch

    before = denormals_flushed()
    torch.set_flush_denormal(enabled)
    try:
        yield
    finally:
        torch.set_flush_denormal(before)


def set_threads(threads: int | None) -> None:
    """``torch.set_num_threads``: ``None`` means :data:`DEFAULT_THREADS`, ``0`` leaves torch's default."""
    from rnnkit.errors import RnnkitError

    threads = DEFAULT_THREADS if threads is None else threads
    if not isinstance(threads, int) or threads < 0:
        raise RnnkitError(f"--threads must be an integer >= 0 (0: torch's default, one per core), got {threads!r}")
    if threads:
        import torch

        torch.set_num_threads(threads)


@contextmanager
def cli_runtime(threads: int | None = None):
    """What every computing ``rnnkit`` command runs under: ``threads`` (see :func:`set_threads`) and
    denormals flushed."""
    set_threads(threads)
    with flush_denormals():
        yield


def interactive() -> bool:
    """Whether a person is watching: stdout and stderr are both terminals (``RNNKIT_PROGRESS=1``
    forces bars on, ``RNNKIT_PROGRESS=0`` off)."""
    forced = os.environ.get("RNNKIT_PROGRESS")
    if forced in ("0", "1"):
        return forced == "1"
    return sys.stdout.isatty() and sys.stderr.isatty()


def progress(iterable=None, total: int | None = None, unit: str = "it", desc: str | None = None,
             enabled: bool = True, **options):
    """A tqdm progress bar over ``iterable`` (or one to ``update(n)`` by hand, as a context manager)
    with a rate in ``unit``/s; quiet unless ``enabled`` and :func:`interactive`. Use it for anything
    that may run more than a few seconds: ``for batch in progress(batches, unit="sentence"): ...``."""
    from tqdm import tqdm

    options.setdefault("disable", not (enabled and interactive()))
    options.setdefault("leave", False)
    options.setdefault("dynamic_ncols", True)
    options.setdefault("unit_scale", True)
    return tqdm(iterable, total=total, unit=unit, desc=desc, **options)
