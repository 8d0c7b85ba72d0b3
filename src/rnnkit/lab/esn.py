"""Echo-state network (Jaeger 2001): a fixed random reservoir, only the readout is trained.

    x_t = (1 - a) x_{t-1} + a tanh(W_in [1; u_t] + W x_{t-1})      reservoir, leak rate a
    y_t = W_out [1; u_t; x_t]                                      readout, ridge regression

W is sparse and random, rescaled to a chosen spectral radius rho < ~1 so that the reservoir forgets
its initial state (the echo-state property); W_in is scaled by ``input_scaling``. Training solves
W_out = Y X^T (X X^T + beta I)^{-1} in closed form. NumPy only: nothing here is learned by gradients.
"""

from __future__ import annotations

import numpy as np

from rnnkit.errors import RnnkitError


def mackey_glass(n: int, tau: int = 17, beta: float = 0.2, gamma: float = 0.1, power: int = 10,
                 dt: float = 1.0, x0: float = 1.2, discard: int = 500, substeps: int = 10) -> np.ndarray:
    """The Mackey-Glass series dx/dt = beta x(t - tau) / (1 + x(t - tau)^power) - gamma x(t), chaotic
    for tau = 17, integrated with Euler sub-steps and sampled every ``dt``; ``discard`` transient samples."""
    h = dt / substeps
    lag = int(round(tau / h))
    total = (n + discard) * substeps
    x = np.empty(total + lag + 1)
    x[: lag + 1] = x0
    for t in range(lag, total + lag):
        delayed = x[t - lag]
        x[t + 1] = x[t] + h * (beta * delayed / (1 + delayed**power) - gamma * x[t])
    return x[lag + 1 :: substeps][discard : discard + n]


class EchoStateNetwork:
    """A leaky reservoir with a ridge-regression readout.

    >>> esn = EchoStateNetwork(1, 300, spectral_radius=0.9, seed=0)
    >>> esn.fit(u_train, y_train, washout=100)     # u (T, D_in), y (T, D_out)
    >>> y_pred = esn.predict(u_test)
    """

    def __init__(self, input_size: int, reservoir_size: int = 300, spectral_radius: float = 0.9,
                 leak_rate: float = 0.3, input_scaling: float = 1.0, density: float = 0.1, ridge: float = 1e-6,
                 seed: int = 0):
        if not 0 < leak_rate <= 1:
            raise RnnkitError(f"leak rate must be in (0, 1], got {leak_rate}")
        if not 0 < density <= 1:
            raise RnnkitError(f"reservoir density must be in (0, 1], got {density}")
        if spectral_radius <= 0 or reservoir_size < 1:
            raise RnnkitError("the reservoir needs a positive size and spectral radius")
        rng = np.random.default_rng(seed)
        N = reservoir_size
        W = rng.uniform(-1, 1, (N, N)) * (rng.random((N, N)) < density)  # sparse random reservoir
        radius = np.abs(np.linalg.eigvals(W)).max()
        self.W = W * (spectral_radius / radius)  # (N, N), spectral radius rho
        self.W_in = rng.uniform(-1, 1, (N, 1 + input_size)) * input_scaling  # (N, 1 + D_in)
        self.leak_rate, self.ridge = leak_rate, ridge
        self.W_out: np.ndarray | None = None
        self.state = np.zeros(N)

    def step(self, u: np.ndarray, x: np.ndarray) -> np.ndarray:
        a = self.leak_rate
        return (1 - a) * x + a * np.tanh(self.W_in @ np.concatenate([[1.0], u]) + self.W @ x)

    def run(self, inputs: np.ndarray, x0: np.ndarray | None = None) -> np.ndarray:
        """Reservoir states ``(T, N)`` for inputs ``(T, D_in)`` from ``x0`` (default: the current state)."""
        x = self.state if x0 is None else x0
        states = np.empty((len(inputs), len(x)))
        for t, u in enumerate(inputs):
            x = self.step(u, x)
            states[t] = x
        self.state = x
        return states

    def features(self, inputs: np.ndarray, states: np.ndarray) -> np.ndarray:
        return np.hstack([np.ones((len(inputs), 1)), inputs, states])  # (T, 1 + D_in + N) = [1; u_t; x_t]

    def fit(self, inputs: np.ndarray, targets: np.ndarray, washout: int = 100) -> "EchoStateNetwork":
        """Ridge regression of ``targets (T, D_out)`` on the features, dropping ``washout`` first steps."""
        inputs, targets = np.asarray(inputs, float).reshape(len(inputs), -1), np.asarray(targets, float)
        targets = targets.reshape(len(targets), -1)
        if len(inputs) <= washout:
            raise RnnkitError(f"the series ({len(inputs)} steps) is not longer than the washout ({washout})")
        self.state = np.zeros_like(self.state)
        X = self.features(inputs, self.run(inputs))[washout:]  # (T', F)
        Y = targets[washout:]
        self.W_out = np.linalg.solve(X.T @ X + self.ridge * np.eye(X.shape[1]), X.T @ Y).T  # (D_out, F)
        return self

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """One-step predictions ``(T, D_out)``, continuing from the reservoir's current state."""
        if self.W_out is None:
            raise RnnkitError("the readout is not trained yet; call fit first")
        inputs = np.asarray(inputs, float).reshape(len(inputs), -1)
        return self.features(inputs, self.run(inputs)) @ self.W_out.T

    def generate(self, steps: int, last_input: np.ndarray) -> np.ndarray:
        """Multi-step (closed-loop) prediction: each output is fed back as the next input."""
        if self.W_out is None:
            raise RnnkitError("the readout is not trained yet; call fit first")
        u, outputs = np.asarray(last_input, float).reshape(-1), []
        for _ in range(steps):
            self.state = self.step(u, self.state)
            y = self.features(u[None], self.state[None]) @ self.W_out.T
            outputs.append(y[0])
            u = y[0]
        return np.array(outputs)
