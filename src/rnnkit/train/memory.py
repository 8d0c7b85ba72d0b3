"""Memory a model needs, estimated before anything is allocated, so ``--hidden 100000`` ends in one line
instead of an allocator traceback (or the kernel killing the process).

The model is first built on torch's ``meta`` device (shapes, no storage) to count its parameters P.
Training needs the weights, their gradients and the optimiser's state (up to two more copies, Adam's
moments): ``4 P`` floats; inference ``P``. Activations kept for backpropagation through time are
about ``k * B * T * H * L`` floats (batch B, steps T, width H, layers L; ``k = 12`` covers an LSTM's
four gates, its cell and hidden states and their nonlinearities). Floats are 4 bytes.
"""

from __future__ import annotations

import os
from typing import Callable

import torch

from rnnkit.errors import RnnkitError

FLOAT_BYTES, ACTIVATION_FLOATS_PER_UNIT = 4, 12


def available_bytes(device: torch.device) -> int:
    """Free memory of ``device``: the GPU's free memory, or the machine's available RAM."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def count_parameters(make: Callable[[], torch.nn.Module]) -> int:
    """Parameters of ``make()``, built on the meta device (no memory)."""
    with torch.device("meta"):
        return sum(p.numel() for p in make().parameters())


def gb(n: float) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.0f} MB"


def build_within_memory(make: Callable[[], torch.nn.Module], device, activations: int = 0,
                        training: bool = True, what: str = "lower --hidden, --layers or --batch-size") -> torch.nn.Module:
    """``make()``, after checking that its weights (and, when ``training``, gradients, optimiser state
    and ``activations`` floats) fit in the memory ``device`` has available."""
    device = torch.device(device) if not isinstance(device, torch.device) else device
    try:
        params = count_parameters(make)
    except RnnkitError:
        raise
    except Exception:  # a constructor that cannot run on the meta device: build it as before
        return make()
    need = FLOAT_BYTES * (params * (4 if training else 1) + (activations if training else 0))
    free = available_bytes(device)
    if need > free:
        raise RnnkitError(f"the model needs about {gb(need)} ({params:,} parameters"
                          f"{', their gradients, the optimiser state and the activations' if training else ''}) but "
                          f"{'the GPU' if device.type == 'cuda' else 'this machine'} has {gb(free)} available; "
                          f"{what}")
    return make()
