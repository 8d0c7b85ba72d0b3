"""The first-order linear recurrence ``h_t = a_t * h_{t-1} + b_t`` over a whole sequence at once.

When the coefficients a_t, b_t depend on x_t only (minGRU, minLSTM), the recurrence is linear in h
and can be solved for every t in parallel. Heinsen (2023, "Efficient parallelization of a ubiquitous
sequential computation") writes the solution in the log domain, with a*_t = sum_{s<=t} log a_s:

    h_t = exp(a*_t) * (h_0 + sum_{s<=t} exp(log b_s - a*_s))
        = exp(a*_t) * h_0 + exp(a*_t + logcumsumexp_{s<=t}(log b_s - a*_s))

two cumulative sums, so O(log T) depth on a parallel machine. Inputs are ``log_a`` (a_t in (0, 1]),
``log_b`` (b_t > 0: the min-cells keep their candidate positive, see ``rnnkit.cells.min_rnn``) and an
initial state ``h_0`` of any sign: it enters linearly, so h_0 = 0 (the zero state) never takes a log.

Precision: a*_t grows like t, and in float32 the difference a*_t - a*_s of two large cumulative sums
loses digits: at T = 65,536, with log a_t = -softplus(2 N(0, 1)), one scan over the whole sequence is
off by up to 1.2% of h (the float32 loop: 6e-7). ``scan_log`` therefore scans chunks of ``chunk``
steps from a zero state (error 6e-5 with chunk = 32, and it grows like chunk^2), then solves the
recurrence between the chunks' end states with the same function (length T / chunk, so recursion
depth log_chunk T), and adds each chunk's start state back:

    chunk k, local step j:   h = exp(a*_kj) * S_k + hloc_kj,   S_k = state before chunk k
    S_{k+1} = P_k * S_k + Q_k,   P_k = exp(a*_k,last), Q_k = hloc_k,last     (recursive, T/chunk steps)

so no cumulative sum runs over more than ``chunk`` terms. ``scan_loop`` is the readable sequential
reference, and ``scan`` picks the Triton kernel on a CUDA tensor; on a CPU the sequential sweep of
``linear_sweep`` (one multiply-add call a step in one autograd Function: 10-25x faster than this scan at
T = 128 there, since a CPU vectorises each step and the scan costs several transcendental functions per
element) unless a step is too small to amortise a call (B*H < 128), and this PyTorch scan otherwise.
"""

from __future__ import annotations

import torch

from rnnkit.errors import RnnkitError, unknown_choice

BACKENDS = ("auto", "torch", "triton", "sweep", "loop")
SWEEP_MIN_ELEMENTS = 128  # B*H from which the CPU sweep beats the log-domain scan (one call a step costs ~15 µs)


def scan_loop(log_a: torch.Tensor, log_b: torch.Tensor, h0: torch.Tensor) -> torch.Tensor:
    """The sequential reference: ``h_t = exp(log_a_t) * h_{t-1} + exp(log_b_t)``, one step at a time."""
    a, b = log_a.exp(), log_b.exp()  # (B, T, H)
    h, hs = h0, []
    for t in range(a.shape[1]):
        h = a[:, t] * h + b[:, t]  # (B, H)
        hs.append(h)
    return torch.stack(hs, dim=1)  # (B, T, H)


def _scan_one_chunk(log_a: torch.Tensor, log_b: torch.Tensor, h0: torch.Tensor):
    """Heinsen's scan over ``(..., C, H)``: returns h (..., C, H) and its zero-start part in log form."""
    a_star = log_a.cumsum(dim=-2)  # (..., C, H): log prod_{s<=t} a_s
    log_h_zero = a_star + torch.logcumsumexp(log_b - a_star, dim=-2)  # log of h_t when h_0 = 0
    return a_star.exp() * h0.unsqueeze(-2) + log_h_zero.exp(), a_star, log_h_zero


def scan_log(log_a: torch.Tensor, log_b: torch.Tensor, h0: torch.Tensor | None = None,
             chunk: int = 32) -> torch.Tensor:
    """Solve ``h_t = a_t h_{t-1} + b_t`` for t = 1..T in the log domain, in chunks (see the module).

    ``log_a, log_b (B, T, H)``, ``h0 (B, H)`` or None for zeros -> ``h (B, T, H)``. Differentiable.
    """
    B, T, H = log_a.shape
    if h0 is None:
        h0 = log_a.new_zeros(B, H)
    if T <= chunk:
        return _scan_one_chunk(log_a, log_b, h0)[0]
    K = -(-T // chunk)  # chunks
    pad = K * chunk - T
    if pad:  # identity steps at the end (a = 1, b = 1): finite, and their outputs are cut off
        log_a = torch.nn.functional.pad(log_a, (0, 0, 0, pad))
        log_b = torch.nn.functional.pad(log_b, (0, 0, 0, pad))
    log_a = log_a.reshape(B, K, chunk, H)
    log_b = log_b.reshape(B, K, chunk, H)
    zero = h0.new_zeros(B, K, H)
    h_local, a_star, log_h_zero = _scan_one_chunk(log_a, log_b, zero)  # (B, K, C, H), from zero in every chunk
    # the recurrence between chunks: S_{k+1} = P_k S_k + Q_k, solved by the same scan over K steps
    ends = scan_log(a_star[:, :, -1], log_h_zero[:, :, -1], h0, chunk)  # (B, K, H): S_1 .. S_K
    starts = torch.cat([h0.unsqueeze(1), ends[:, :-1]], dim=1)  # (B, K, H): S_0 .. S_{K-1}
    h = h_local + a_star.exp() * starts.unsqueeze(2)  # (B, K, C, H)
    return h.reshape(B, K * chunk, H)[:, :T]


def triton_available() -> bool:
    """Whether triton is installed (without importing it)."""
    import importlib.util

    return importlib.util.find_spec("triton") is not None


def scan(log_a: torch.Tensor, log_b: torch.Tensor, h0: torch.Tensor | None = None,
         backend: str = "auto") -> torch.Tensor:
    """``h (B, T, H)`` of ``h_t = exp(log_a_t) h_{t-1} + exp(log_b_t)`` from ``h0 (B, H)`` (zeros if None).

    ``backend``: ``"torch"`` (``scan_log``), ``"triton"`` (``rnnkit.kernels.scan_triton``: a CUDA tensor,
    or any tensor under ``TRITON_INTERPRET=1``), ``"sweep"`` (``linear_sweep.sweep``), ``"loop"``
    (``scan_loop``), or ``"auto"``: Triton for a CUDA tensor when triton is installed; on a CPU the sweep
    when B*H >= 128; else torch.
    """
    if backend not in BACKENDS:
        raise unknown_choice("scan backend", backend, BACKENDS)
    if log_a.dim() != 3 or log_a.shape != log_b.shape:
        raise RnnkitError(f"log_a and log_b must both be (batch, time, hidden), got {tuple(log_a.shape)} "
                          f"and {tuple(log_b.shape)}")
    if h0 is None:
        h0 = log_a.new_zeros(log_a.shape[0], log_a.shape[2])
    if backend == "auto":
        if log_a.is_cuda:
            backend = "triton" if triton_available() else "torch"
        else:
            backend = "sweep" if log_a.shape[0] * log_a.shape[2] >= SWEEP_MIN_ELEMENTS else "torch"
    if backend == "sweep":
        from rnnkit.layers.linear_sweep import sweep

        return sweep(log_a, log_b, h0)
    if backend == "triton":
        from rnnkit.kernels.scan_triton import scan_triton

        return scan_triton(log_a, log_b, h0)
    if backend == "loop":
        return scan_loop(log_a, log_b, h0)
    return scan_log(log_a, log_b, h0)
