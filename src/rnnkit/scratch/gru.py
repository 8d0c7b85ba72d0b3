"""The GRU (Cho et al. 2014) in NumPy, forward and hand-written BPTT, course-notes §6."""

from __future__ import annotations

import numpy as np

from rnnkit.scratch.base import ScratchCell, sigmoid


class GRU(ScratchCell):
    """Gated recurrent unit, torch's form. Gate order r, z, n (torch.nn.GRUCell's rows):

        r = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)            reset gate
        z = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)            update gate
        n = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn))   candidate
        h_t = (1 - z) * n + z * h_{t-1}

    (The course applies r before the product, ``W_hn (r * h_{t-1})``; torch and cuDNN after it.)
    """

    num_gates = 3
    name = "gru"

    def forward(self, x: np.ndarray, state: np.ndarray | None = None):
        B, T = x.shape[:2]
        H = self.hidden_size
        h0 = h = self.check_state(state, B)
        W_hh, b_hh = self.params["weight_hh"], self.params["bias_hh"]
        pre_x = self.project_input(x)  # W_i* x_t + b_i* for r, z, n: (B, T, 3H)
        rzn = np.empty((B, T, 3 * H), dtype=self.dtype)  # activated r, z, n
        hns = np.empty((B, T, H), dtype=self.dtype)  # W_hn h_{t-1} + b_hn, which r multiplies
        hs = np.empty((B, T, H), dtype=self.dtype)
        for t in range(T):
            a_h = h @ W_hh.T + b_hh  # (B, 3H)
            rz = sigmoid(pre_x[:, t, : 2 * H] + a_h[:, : 2 * H])
            r, z = rz[:, :H], rz[:, H:]
            hns[:, t] = a_h[:, 2 * H :]
            n = np.tanh(pre_x[:, t, 2 * H :] + r * hns[:, t])
            h = (1.0 - z) * n + z * h
            rzn[:, t, : 2 * H], rzn[:, t, 2 * H :], hs[:, t] = rz, n, h
        return hs, h, (x, h0, rzn, hns, hs)

    def backward(self, dhs: np.ndarray, cache, dstate: np.ndarray | None = None, bptt: int | None = None):
        x, h0, rzn, hns, hs = cache
        H = self.hidden_size
        W_hh = self.params["weight_hh"]
        T = hs.shape[1]
        dh_next = np.zeros_like(h0) if dstate is None else dstate
        dpre_x = np.empty_like(rzn)  # dLoss/d(W_ih x_t + b_ih) for r, z, n: (B, T, 3H)
        dpre_h = np.empty_like(rzn)  # dLoss/d(W_hh h_{t-1} + b_hh) for r, z, n: (B, T, 3H)
        for t in reversed(range(T)):
            r, z, n = rzn[:, t, :H], rzn[:, t, H : 2 * H], rzn[:, t, 2 * H :]
            h_prev = hs[:, t - 1] if t > 0 else h0
            dh = dhs[:, t] + dh_next  # from the output at t and from step t+1
            dn = dh * (1.0 - z)  # through h_t = (1 - z) * n + z * h_{t-1}
            dz = dh * (h_prev - n)
            dh_direct = dh * z  # the direct path to h_{t-1}
            da_n = dn * (1.0 - n * n)  # through n = tanh(.)
            dr = da_n * hns[:, t]  # through r * (W_hn h_{t-1} + b_hn)
            dx_t, dh_t = dpre_x[:, t], dpre_h[:, t]
            dx_t[:, :H] = dh_t[:, :H] = dr * r * (1.0 - r)  # through r = σ(.)
            dx_t[:, H : 2 * H] = dh_t[:, H : 2 * H] = dz * z * (1.0 - z)  # through z = σ(.)
            dx_t[:, 2 * H :] = da_n  # W_in x_t + b_in enters n's tanh directly ...
            dh_t[:, 2 * H :] = da_n * r  # ... W_hn h_{t-1} + b_hn through r's product
            dh_next = dh_direct + dh_t @ W_hh  # through W_hh h_{t-1}
            if self.cut(t, bptt):  # truncated BPTT: nothing flows back into step t-1
                dh_next = np.zeros_like(dh_next)
        grads: dict = {}
        hprev = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)  # (B, T, H)
        self.recurrent_grads(hprev, dpre_h, grads)
        dx = self.input_grads(x, dpre_x, grads)
        return grads, dx, dh_next
