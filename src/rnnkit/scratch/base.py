"""What the NumPy cells share: the torch parameter layout, its initialisation, and the input projection.

Gates are stacked in the rows of ``weight_ih (G*H, F)``, ``weight_hh (G*H, H)``, ``bias_ih (G*H,)``,
``bias_hh (G*H,)``, exactly like ``torch.nn.RNNCell / LSTMCell / GRUCell``, so weights convert both ways
(``rnnkit.scratch.convert``). Arrays are batch-first, ``(B, T, F)``; a state is ``(B, H)``.

An input is either dense, ``(B, T, F)`` floats, or a ``(B, T)`` array of integer ids that stands for the
one-hot vectors of size F: ``W_ih @ onehot(i)`` is column i of ``W_ih``, so a char-RNN never builds them.
"""

from __future__ import annotations

import numpy as np

from rnnkit.errors import RnnkitError


def sigmoid(a: np.ndarray) -> np.ndarray:
    """σ(a) = 1 / (1 + e^-a), written with tanh so that it never overflows."""
    return 0.5 * (np.tanh(0.5 * a) + 1.0)


def check_size(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise RnnkitError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


class ScratchCell:
    """Base class: owns ``params = {weight_ih, weight_hh, bias_ih, bias_hh}`` for ``num_gates`` gates.

    Subclasses write ``forward(x, state) -> (hs, state, cache)`` and the mirror image
    ``backward(dhs, cache, dstate=None, bptt=None) -> (grads, dx, dstate0)``:

    - ``hs (B, T, H)`` are the hidden states h_1..h_T; ``state`` is the final one (``(h, c)`` for the LSTM).
    - ``dhs (B, T, H)`` is dLoss/dh_t from the layers above (the head); ``dstate`` is dLoss/d(final state).
    - ``bptt = k`` truncates backpropagation: the gradient does not flow back across the boundary between
      steps ``k*j - 1`` and ``k*j``, exactly as if the sequence had been run in chunks of k steps with the
      state carried (and detached) between them. ``k = 1`` is Elman's SRN (course-notes §2).
    - ``dx`` is dLoss/dx (None when x is given as ids); ``dstate0`` is dLoss/d(initial state).
    """

    num_gates = 1
    has_cell_state = False  # True when the state is a tuple (h, c)
    name = "cell"

    def __init__(self, input_size: int, hidden_size: int, seed: int | None = 0, dtype=np.float64):
        self.input_size = check_size("input_size", input_size)
        self.hidden_size = check_size("hidden_size", hidden_size)
        self.dtype = np.dtype(dtype)
        G, H, F = self.num_gates, self.hidden_size, self.input_size
        # torch.nn's default initialisation: every weight ~ U(-1/sqrt(H), 1/sqrt(H))
        rng = np.random.default_rng(seed)
        bound = 1.0 / np.sqrt(H)
        shapes = {"weight_ih": (G * H, F), "weight_hh": (G * H, H), "bias_ih": (G * H,), "bias_hh": (G * H,)}
        self.params = {k: rng.uniform(-bound, bound, size=s).astype(self.dtype) for k, s in shapes.items()}

    # -- state -------------------------------------------------------------------------------------
    def init_state(self, batch: int):
        """The zero state h_0 = 0 (and c_0 = 0), ``(B, H)``."""
        h = np.zeros((batch, self.hidden_size), dtype=self.dtype)
        return (h, h.copy()) if self.has_cell_state else h

    def zero_state_like(self, state):
        return tuple(np.zeros_like(s) for s in state) if self.has_cell_state else np.zeros_like(state)

    # -- the input projection, shared by all cells ---------------------------------------------------
    def project_input(self, x: np.ndarray) -> np.ndarray:
        """``W_ih x_t + b_ih`` for every step at once: ``(B, T, G*H)``; x is ``(B, T, F)`` or ids ``(B, T)``."""
        W, b = self.params["weight_ih"], self.params["bias_ih"]
        if x.ndim == 2 and np.issubdtype(x.dtype, np.integer):  # ids: column i of W_ih is W_ih @ onehot(i)
            if x.size and (x.min() < 0 or x.max() >= self.input_size):
                raise RnnkitError(f"input ids must lie in 0..{self.input_size - 1}, got {x.min()}..{x.max()}")
            pre = W.T[x]  # (B, T, G*H)
        elif x.ndim != 3 or x.shape[2] != self.input_size:
            raise RnnkitError(
                f"expected input of shape (batch, time, {self.input_size}) or integer ids (batch, time), "
                f"got {x.shape} {x.dtype}"
            )
        else:
            pre = x @ W.T  # (B, T, G*H)
        pre += b  # in place: a large temporary less (allocating them is what costs most at these sizes)
        return pre

    def input_grads(self, x: np.ndarray, dpre_x: np.ndarray, grads: dict):
        """Backpropagate through ``W_ih x_t + b_ih`` for all steps at once; returns dx (None for ids).

        ``dpre_x (B, T, G*H)`` is dLoss/d(W_ih x_t + b_ih). The course's ``dW_xh += dh_raw x_t^T`` inside
        its loop over t is the same sum, taken here as one matrix product over all (b, t).
        """
        GH = dpre_x.shape[2]
        d2 = dpre_x.reshape(-1, GH)  # (B*T, G*H)
        grads["bias_ih"] = d2.sum(0)
        if x.ndim == 2:  # ids: the one-hot matrix makes the sum a matrix product
            onehot = np.zeros((x.size, self.input_size), dtype=self.dtype)
            onehot[np.arange(x.size), x.ravel()] = 1.0
            grads["weight_ih"] = d2.T @ onehot  # (G*H, F)
            return None
        grads["weight_ih"] = d2.T @ x.reshape(-1, self.input_size)  # (G*H, F)
        return dpre_x @ self.params["weight_ih"]  # (B, T, F)

    def recurrent_grads(self, hprev: np.ndarray, dpre_h: np.ndarray, grads: dict) -> None:
        """Backpropagate through ``W_hh h_{t-1} + b_hh`` for all steps at once (the course's
        ``dW_hh += dh_raw h_{t-1}^T``, summed over t): ``hprev (B, T, H)`` holds h_0..h_{T-1}."""
        d2 = dpre_h.reshape(-1, dpre_h.shape[2])  # (B*T, G*H)
        grads["bias_hh"] = d2.sum(0)
        grads["weight_hh"] = d2.T @ hprev.reshape(-1, self.hidden_size)  # (G*H, H)

    def check_state(self, state, batch: int):
        if state is None:
            return self.init_state(batch)
        hs = state if self.has_cell_state else (state,)
        for s in hs:
            if s.shape != (batch, self.hidden_size):
                raise RnnkitError(f"state must have shape ({batch}, {self.hidden_size}), got {s.shape}")
        return state

    @staticmethod
    def cut(t: int, bptt: int | None) -> bool:
        """True when backpropagation must stop between step t-1 and step t (a truncation boundary)."""
        return bool(bptt) and t > 0 and t % bptt == 0

    def num_parameters(self) -> int:
        return sum(p.size for p in self.params.values())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size}{self.extra_repr()})"

    def extra_repr(self) -> str:
        return ""
