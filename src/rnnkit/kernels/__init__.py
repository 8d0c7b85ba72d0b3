"""Fast GPU paths and their autograd Functions. Each module imports triton itself, lazily, so rnnkit
imports and runs without triton; ``rnnkit.kernels.scan_triton`` is the chunked linear-recurrence scan."""
