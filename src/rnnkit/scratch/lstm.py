"""The LSTM in NumPy, forward and hand-written BPTT, course-notes §5."""

from __future__ import annotations

import numpy as np

from rnnkit.scratch.base import ScratchCell, sigmoid


class LSTM(ScratchCell):
    """Long short-term memory with a forget gate. Gate order i, f, g, o (torch.nn.LSTMCell's rows):

        i = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)      f = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf)
        g = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)   o = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho)
        c_t = f * c_{t-1} + i * g                         h_t = o * tanh(c_t)

    State ``(h, c)``, each ``(B, H)``; the output at t is h_t.
    """

    num_gates = 4
    has_cell_state = True
    name = "lstm"

    def forward(self, x: np.ndarray, state=None):
        B, T = x.shape[:2]
        H = self.hidden_size
        h0, c0 = h, c = self.check_state(state, B)
        W_hh, b_hh = self.params["weight_hh"], self.params["bias_hh"]
        pre_x = self.project_input(x)  # (B, T, 4H)
        gates = np.empty((B, T, 4 * H), dtype=self.dtype)  # activated i, f, g, o
        cs = np.empty((B, T, H), dtype=self.dtype)
        tcs = np.empty((B, T, H), dtype=self.dtype)  # tanh(c_t)
        hs = np.empty((B, T, H), dtype=self.dtype)
        for t in range(T):
            a = pre_x[:, t] + h @ W_hh.T + b_hh  # (B, 4H)
            ifgo = gates[:, t]
            ifgo[:] = sigmoid(a)  # i, f, o are sigmoids ...
            ifgo[:, 2 * H : 3 * H] = np.tanh(a[:, 2 * H : 3 * H])  # ... and g a tanh
            i, f, g, o = ifgo[:, :H], ifgo[:, H : 2 * H], ifgo[:, 2 * H : 3 * H], ifgo[:, 3 * H :]
            c = f * c + i * g
            tcs[:, t] = np.tanh(c)
            h = o * tcs[:, t]
            cs[:, t], hs[:, t] = c, h
        return hs, (h, c), (x, h0, c0, gates, cs, tcs, hs)

    def backward(self, dhs: np.ndarray, cache, dstate=None, bptt: int | None = None):
        x, h0, c0, gates, cs, tcs, hs = cache
        H = self.hidden_size
        W_hh = self.params["weight_hh"]
        T = hs.shape[1]
        dh_next, dc_next = (np.zeros_like(h0), np.zeros_like(c0)) if dstate is None else dstate
        dpre = np.empty_like(gates)  # dLoss/d(pre-activations) of i, f, g, o: (B, T, 4H)
        for t in reversed(range(T)):
            ifgo = gates[:, t]
            i, f, g, o = ifgo[:, :H], ifgo[:, H : 2 * H], ifgo[:, 2 * H : 3 * H], ifgo[:, 3 * H :]
            c_prev = cs[:, t - 1] if t > 0 else c0
            dh = dhs[:, t] + dh_next  # from the output at t and from step t+1
            do = dh * tcs[:, t]  # through h_t = o * tanh(c_t)
            dc = dc_next + dh * o * (1.0 - tcs[:, t] ** 2)  # ... and through tanh(c_t), plus from c_{t+1}
            df = dc * c_prev  # through c_t = f * c_{t-1} + i * g
            di = dc * g
            dg = dc * i
            dc_next = dc * f  # dc_{t-1}: the cell's direct path
            d = dpre[:, t]
            d[:, :H] = di * i * (1.0 - i)  # through i = σ(.)
            d[:, H : 2 * H] = df * f * (1.0 - f)  # through f = σ(.)
            d[:, 2 * H : 3 * H] = dg * (1.0 - g * g)  # through g = tanh(.)
            d[:, 3 * H :] = do * o * (1.0 - o)  # through o = σ(.)
            dh_next = d @ W_hh  # through W_hh h_{t-1}
            if self.cut(t, bptt):  # truncated BPTT: nothing flows back into step t-1
                dh_next, dc_next = np.zeros_like(dh_next), np.zeros_like(dc_next)
        grads: dict = {}
        hprev = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)  # (B, T, H)
        self.recurrent_grads(hprev, dpre, grads)
        dx = self.input_grads(x, dpre, grads)
        return grads, dx, (dh_next, dc_next)
