"""Evaluating the echo-state network: one-step and multi-step prediction on Mackey-Glass and on a
real series, and the echo-state property (two initial states converge)."""

from __future__ import annotations

import numpy as np

from rnnkit.lab.esn import EchoStateNetwork, mackey_glass


def nrmse(pred: np.ndarray, true: np.ndarray) -> float:
    """Root-mean-square error divided by the standard deviation of the truth (1 = predicting the mean)."""
    return float(np.sqrt(np.mean((pred - true) ** 2)) / np.std(true))


def evaluate_series(series: np.ndarray, train_fraction: float = 0.7, horizon: int = 50, washout: int = 100,
                    **esn_options) -> dict:
    """Fit on the first part (one-step teacher forcing), then test: one-step NRMSE on the rest (the
    true input each step), and multi-step NRMSE over ``horizon`` steps run closed-loop. The series is
    standardised with the training part's mean and deviation. The naive forecast (x_{t+1} = x_t) is
    reported beside it."""
    if len(series) < 50:
        from rnnkit.errors import RnnkitError

        raise RnnkitError(f"the series has {len(series)} values; the ESN needs at least 50")
    mean, std = series[: int(len(series) * train_fraction)].mean(), series[: int(len(series) * train_fraction)].std()
    x = (series - mean) / std
    n_train = int(len(x) * train_fraction)
    washout = min(washout, n_train // 5)  # short series (airline: 144 months) keep most of their points
    esn = EchoStateNetwork(1, **esn_options).fit(x[: n_train - 1, None], x[1:n_train, None], washout=washout)
    one_step = esn.predict(x[n_train - 1 : -1, None])[:, 0]  # continues from the training state
    truth = x[n_train:]
    esn.state = np.zeros_like(esn.state)  # multi-step: warm up on the training part, then run free
    esn.run(x[: n_train - 1, None])
    free = esn.generate(min(horizon, len(truth)), x[n_train - 1 : n_train])[:, 0]
    return {"one_step_nrmse": nrmse(one_step, truth), "naive_one_step_nrmse": nrmse(x[n_train - 1 : -1], truth),
            f"multi_step_nrmse_{len(free)}": nrmse(free, truth[: len(free)]), "test_points": len(truth),
            "multi_step_prediction": free.tolist(), "multi_step_truth": truth[: len(free)].tolist()}


def echo_state_distance(steps: int = 200, seed: int = 0, **esn_options) -> list[float]:
    """Distance between the reservoir states from two different random initial states, driven by the
    same input: it shrinks to 0 when the network has the echo-state property."""
    esn = EchoStateNetwork(1, seed=seed, **esn_options)
    rng = np.random.default_rng(seed + 1)
    inputs = rng.uniform(-1, 1, (steps, 1))
    a = esn.run(inputs, x0=rng.uniform(-1, 1, esn.W.shape[0]))
    b = esn.run(inputs, x0=rng.uniform(-1, 1, esn.W.shape[0]))
    return np.linalg.norm(a - b, axis=1).tolist()


def mackey_glass_series(n: int = 3000) -> np.ndarray:
    return mackey_glass(n)
