"""``RNNConfig``: the settings of a recurrent stack (cell, size, depth, directions, initialisation,
engine), declared once and nested whole in every model's config; ``build_rnn(config, input_size)``
assembles the stack from it. Pure Python, no torch, so building the CLI's parsers never loads torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.schema import opt, registry

CELL_NAMES, INIT_NAMES = registry("rnnkit.cells", "CELLS"), registry("rnnkit.cells", "INITS")
ENGINE_NAMES = registry("rnnkit.layers", "ENGINES")
#: The ``auto`` rule, stated once (``rnnkit.layers.recurrent.Recurrent.pick_engine`` implements it).
ENGINE_HELP = ("how the recurrence runs: auto (on a CPU torch's kernel where valid, the scan for mingru/minlstm, "
               "else the CPU engine; on a GPU by shape: the persistent fused kernel, cuDNN or the per-step fused "
               "kernel; docs/cpu-engine.md), loop (readable), torch, scan, cpu (one autograd Function per sequence), "
               "fused (rnnkit's Triton kernels on a GPU; as auto on a CPU), fused-step, fused-persistent")
DROPOUT = dict(low=0.0, below=1.0)


@dataclass
class RNNConfig:
    cell: str = opt("lstm", "recurrent cell: elman, elman-relu, elman-sigmoid, simple-lstm, lstm, peephole-lstm, "
                    "coupled-lstm, ln-lstm, gru, gru-course, mtrnn, mingru, minlstm (see `rnnkit cells`)",
                    choices=CELL_NAMES)
    hidden: int = opt(128, "hidden units per layer (per direction)", low=1)
    layers: int = opt(1, "number of stacked recurrent layers", low=1)
    bidirectional: bool = opt(False, "read each sequence in both directions and concatenate the two")
    dropout: float = opt(0.0, "dropout between recurrent layers", **DROPOUT)
    residual: bool = opt(False, "residual connections between layers of equal size")
    init: str = opt("default", "initialisation of the recurrent weights: default, orthogonal, identity (IRNN), spectral",
                    choices=INIT_NAMES)
    spectral_radius: float = opt(1.0, "spectral radius of each recurrent weight block with --init spectral",
                                 above=0.0)
    forget_bias: float = opt(1.0, "forget-gate bias for cells with a forget gate (LSTM family; the GRU's update gate)")
    tau: float = opt(2.0, "time constant of the MTRNN's leaky units (mtrnn only)", low=1.0)
    engine: str = opt("auto", ENGINE_HELP, choices=ENGINE_NAMES)

    def cell_options(self) -> dict:
        """Keyword arguments only some cells take (the MTRNN's time constant)."""
        return {"tau": self.tau} if self.cell == "mtrnn" else {}
