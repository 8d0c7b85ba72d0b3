"""minGRU and minLSTM (Feng et al. 2024, "Were RNNs All We Needed?"): gates that see x_t only.

Drop h_{t-1} from the gates and the candidate and the update becomes linear in the state,

    h_t = a_t * h_{t-1} + b_t        with a_t, b_t functions of x_t alone,

so a whole sequence can be computed in parallel with a scan (``rnnkit.layers.scan``) instead of a
loop. Each cell has two modes that compute the same thing:

- sequential, ``cell(x_t, h)``: one step, the paper's equations as written (generation, ``engine="loop"``);
- parallel, ``cell.parallel(x (B, T, F), h_0)``: every step at once, from ``coefficients(x) ->
  (log a, log b)`` and the log-domain scan (training, ``engine="scan"``).

Both cells are the paper's log-space versions (§3.1.2, §3.2.3 and its appendix): the candidate goes
through ``g(x) = x + 0.5 if x >= 0 else sigmoid(x)``, which is positive, so log b_t exists and the
scan never takes the log of a negative number. Parameters: ``weight_ih (G*H, F)`` and ``bias_ih
(G*H,)`` only; there is no ``weight_hh``.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from rnnkit.cells.base import RecurrentCell
from rnnkit.cells.equations import equations


def g(x: torch.Tensor) -> torch.Tensor:
    """The paper's positive activation for the candidate: x + 0.5 for x >= 0, sigmoid(x) below."""
    return torch.where(x >= 0, x + 0.5, torch.sigmoid(x))


def log_g(x: torch.Tensor) -> torch.Tensor:
    """log g(x), computed without forming g: log(x + 0.5) for x >= 0, -softplus(-x) below."""
    return torch.where(x >= 0, torch.log(F.relu(x) + 0.5), -F.softplus(-x))


class ScanCell(RecurrentCell):
    """A cell whose update is ``h_t = a_t * h_{t-1} + b_t`` with a_t in (0, 1], b_t > 0 from x_t only.

    Subclasses write ``forward(x_t, h)`` (the sequential mode, as the paper's equations) and
    ``coefficients(x) -> (log_a, log_b)``; ``parallel`` solves the whole sequence with the scan.
    """

    has_recurrent_weights = False

    def coefficients(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def parallel(self, x: torch.Tensor, h0: torch.Tensor | None = None, backend: str = "auto") -> torch.Tensor:
        """The parallel mode: ``x (B, T, F)``, ``h0 (B, H)`` (zeros if None) -> ``h (B, T, H)``."""
        from rnnkit.layers.scan import scan

        log_a, log_b = self.coefficients(x)  # (B, T, H) each
        dtype = log_a.dtype
        if dtype in (torch.float16, torch.bfloat16):  # under autocast: cumulative sums need float32
            log_a, log_b = log_a.float(), log_b.float()
        if h0 is not None:
            h0 = h0.to(log_a.dtype)
        return scan(log_a, log_b, h0, backend=backend).to(dtype)


@equations({
    'mingru': ('minGRU (Feng et al. 2024): gates from x_t only, so the sequence is one parallel scan', (
        'z_t = σ(W_z x_t + b_z)',
        'h̃_t = g(W_h x_t + b_h)          g(v) = v + 0.5 if v >= 0 else σ(v)',
        'h_t = (1 - z_t) * h_{t-1} + z_t * h̃_t',
    )),
})
class MinGRUCell(ScanCell):
    """minGRU (Feng et al. 2024, §3.1). Gate order z, h̃ in the rows of ``weight_ih (2H, F)``:

        z_t = σ(Linear_z(x_t))                           update gate, from x_t only
        h̃_t = g(Linear_h(x_t))                           candidate, g keeps it positive
        h_t = (1 - z_t) * h_{t-1} + z_t * h̃_t

    The paper's z convention: z = 1 takes the candidate (rnnkit's GRU has z = 1 keep h_{t-1}), so z is
    no forget gate and ``forget_bias`` does not apply. Scan coefficients: log a_t = log(1 - z_t) =
    -softplus(k_t), log b_t = log z_t + log h̃_t = -softplus(-k_t) + log g(Linear_h(x_t)).
    """

    num_gates = 2

    def forward(self, x: torch.Tensor, h: torch.Tensor):  # x (B, F), h (B, H)
        k, h_lin = F.linear(x, self.weight_ih, self.bias_ih).chunk(2, dim=-1)  # (B, H) each
        z = torch.sigmoid(k)
        h_tilde = g(h_lin)
        h = (1 - z) * h + z * h_tilde
        return h, h

    def coefficients(self, x: torch.Tensor):  # x (..., F) -> log a, log b (..., H)
        k, h_lin = F.linear(x, self.weight_ih, self.bias_ih).chunk(2, dim=-1)
        return -F.softplus(k), -F.softplus(-k) + log_g(h_lin)


@equations({
    'minlstm': ("minLSTM (Feng et al. 2024): gates from x_t only, normalised so f'_t + i'_t = 1", (
        'f_t = σ(W_f x_t + b_f)        i_t = σ(W_i x_t + b_i)',
        'h̃_t = g(W_h x_t + b_h)          g(v) = v + 0.5 if v >= 0 else σ(v)',
        "f'_t = f_t / (f_t + i_t)      i'_t = i_t / (f_t + i_t)",
        "h_t = f'_t * h_{t-1} + i'_t * h̃_t",
    )),
})
class MinLSTMCell(ScanCell):
    """minLSTM (Feng et al. 2024, §3.2). Gate order f, i, h̃ in the rows of ``weight_ih (3H, F)``:

        f_t = σ(Linear_f(x_t))        i_t = σ(Linear_i(x_t))        h̃_t = g(Linear_h(x_t))
        f'_t = f_t / (f_t + i_t)      i'_t = i_t / (f_t + i_t)        (length-independent scaling, §3.2.3)
        h_t = f'_t * h_{t-1} + i'_t * h̃_t

    No output gate and no separate memory cell: the state is h, ``(B, H)``. ``forget_bias`` sets b_f.
    Scan coefficients, with d = softplus(-k_f) - softplus(-k_i) = log i_t - log f_t:
    log a_t = log f'_t = -softplus(d), log b_t = log i'_t + log h̃_t = -softplus(-d) + log g(...).
    """

    num_gates = 3
    forget_gate = 0

    def forward(self, x: torch.Tensor, h: torch.Tensor):  # x (B, F), h (B, H)
        k_f, k_i, h_lin = F.linear(x, self.weight_ih, self.bias_ih).chunk(3, dim=-1)  # (B, H) each
        f, i = torch.sigmoid(k_f), torch.sigmoid(k_i)
        f_prime, i_prime = f / (f + i), i / (f + i)
        h_tilde = g(h_lin)
        h = f_prime * h + i_prime * h_tilde
        return h, h

    def coefficients(self, x: torch.Tensor):  # x (..., F) -> log a, log b (..., H)
        k_f, k_i, h_lin = F.linear(x, self.weight_ih, self.bias_ih).chunk(3, dim=-1)
        d = F.softplus(-k_f) - F.softplus(-k_i)  # log i - log f
        return -F.softplus(d), -F.softplus(-d) + log_g(h_lin)


__all__ = ["MinGRUCell", "MinLSTMCell", "ScanCell", "g", "log_g"]
