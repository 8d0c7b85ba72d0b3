"""The Elman RNN in NumPy, forward and hand-written BPTT, course-notes §2-§3."""

from __future__ import annotations

import numpy as np

from rnnkit.errors import unknown_choice
from rnnkit.scratch.base import ScratchCell, sigmoid

#: name -> (act(a), act'(a) written from the output h = act(a))
ACTIVATIONS = {
    "tanh": (np.tanh, lambda h: 1.0 - h * h),
    "relu": (lambda a: np.maximum(a, 0.0), lambda h: (h > 0).astype(h.dtype)),
    "sigmoid": (sigmoid, lambda h: h * (1.0 - h)),
}


class ElmanRNN(ScratchCell):
    """Elman RNN: ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``, act = tanh, relu or sigmoid.

    The course's ``h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h)`` with ``b_h`` split in two (torch's
    ``RNNCell`` layout: ``weight_ih (H, F)``, ``weight_hh (H, H)``, ``bias_ih (H,)``, ``bias_hh (H,)``).

    >>> cell = ElmanRNN(4, 3)
    >>> hs, h, cache = cell.forward(np.zeros((2, 5, 4)))          # hs (2, 5, 3), h (2, 3)
    >>> grads, dx, dh0 = cell.backward(np.ones_like(hs), cache)    # grads["weight_hh"] (3, 3)
    """

    num_gates = 1

    def __init__(self, input_size: int, hidden_size: int, activation: str = "tanh", seed: int | None = 0,
                 dtype=np.float64):
        if activation not in ACTIVATIONS:
            raise unknown_choice("activation", activation, ACTIVATIONS)
        self.activation = activation
        self.name = "elman" if activation == "tanh" else f"elman-{activation}"
        super().__init__(input_size, hidden_size, seed, dtype)

    def forward(self, x: np.ndarray, state: np.ndarray | None = None):
        act, _ = ACTIVATIONS[self.activation]
        B, T = x.shape[:2]
        h0 = h = self.check_state(state, B)  # (B, H)
        W_hh = self.params["weight_hh"]
        pre_x = self.project_input(x)  # W_ih x_t + b_ih for all t: (B, T, H)
        pre_x += self.params["bias_hh"]  # ... + b_hh: both biases added once, outside the loop
        hs = np.empty((B, T, self.hidden_size), dtype=self.dtype)
        for t in range(T):
            h = act(pre_x[:, t] + h @ W_hh.T)  # (B, H)
            hs[:, t] = h
        return hs, h, (x, h0, hs)

    def backward(self, dhs: np.ndarray, cache, dstate: np.ndarray | None = None, bptt: int | None = None):
        """The lab's BPTT (course-notes §3), from t = T down to 1, batched over rows.

        ``dhs[:, t]`` is the head's ``W_hy^T dy`` (dLoss/dh_t through the output at t). The parameter
        gradients, sums over t of terms in ``dh_raw``, are taken after the loop as matrix products.
        """
        x, h0, hs = cache
        _, act_grad = ACTIVATIONS[self.activation]
        W_hh = self.params["weight_hh"]
        T = hs.shape[1]
        dpre = act_grad(hs)  # act'(a_t) for every t, (1 - h_t * h_t) for tanh; becomes dh_raw below
        dh_next = np.zeros_like(h0) if dstate is None else dstate
        for t in reversed(range(T)):
            dh = dhs[:, t] + dh_next  # dh = W_hy^T dy + dh_next
            dh_raw = dpre[:, t]
            dh_raw *= dh  # through the nonlinearity: dh_raw = (1 - h_t * h_t) * dh
            dh_next = dh_raw @ W_hh  # dh_next = W_hh^T dh_raw  (through W_hh h_{t-1})
            if self.cut(t, bptt):  # truncated BPTT: nothing flows back into step t-1
                dh_next = np.zeros_like(dh_next)
        grads: dict = {}
        hprev = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)  # h_0..h_{T-1}: (B, T, H)
        self.recurrent_grads(hprev, dpre, grads)  # db_h += dh_raw;  dW_hh += dh_raw h_{t-1}^T
        dx = self.input_grads(x, dpre, grads)  # db_h += dh_raw (its bias_ih half);  dW_xh += dh_raw x_t^T
        return grads, dx, dh_next

    def extra_repr(self) -> str:
        return f", activation={self.activation!r}"
