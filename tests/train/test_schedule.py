"""The learning-rate schedule fits the budget that ends first and continues smoothly on a resume.

* without a time limit the rate is, bit for bit, the formula seeded runs were recorded with (linear warm-up
  ``lr * (step + 1) / warmup``, then cosine/linear decay over ``steps - warmup``);
* under ``--time`` the warm-up takes the same share of the time as of the steps (5% by default), so a
  100-step warm-up in a 120-second run of 101 steps ends after 6 seconds, and the rate has decayed to 10%
  when the time runs out;
* a resume that lengthens the budget goes on from the rate where the run stopped (no jump) down to 10% at
  the new end; a run that had finished its decay stays at 10% (end to end through ``rnnkit train --resume``:
  the ``lr`` of every step in metrics.jsonl).
"""

import json
import math

import pytest

from conftest import run_cli
from rnnkit.train.optim import Schedule

BASE = 2e-3


def recorded_formula(step, warmup, total, kind):
    if step < warmup:
        return BASE * (step + 1) / warmup
    progress = min(1.0, max((step - warmup) / max(1, total - warmup), 0.0))
    if kind == "cosine":
        return BASE * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))
    return BASE * (1 - 0.9 * progress) if kind == "linear" else BASE


@pytest.mark.parametrize("kind", ["cosine", "linear", "constant"])
def test_without_a_time_limit_the_rate_is_the_recorded_formula_to_the_bit(kind):
    s = Schedule(BASE, kind, 10, 200)
    assert [s.lr(step) for step in range(220)] == [recorded_formula(step, 10, 200, kind) for step in range(220)]


def test_under_a_time_limit_warm_up_and_decay_fit_the_time():
    s = Schedule(BASE, "cosine", warmup=100, steps=2000, time=120.0)  # about 0.84 steps a second
    assert s.lr(3, elapsed=3.0) == pytest.approx(BASE * 3.0 / 6.0)  # half of the 6-second warm-up
    assert s.lr(5, elapsed=6.0) == pytest.approx(BASE)  # warmed up after 5% of the time, not after 100 steps
    assert s.lr(50, elapsed=63.0) == pytest.approx(BASE * 0.55)  # half way through the decay
    assert s.lr(101, elapsed=120.0) == pytest.approx(BASE * 0.1)  # decayed when the time runs out
    rates = [s.lr(step, elapsed=step * 1.19) for step in range(101)]
    assert max(range(101), key=rates.__getitem__) < 10 and rates[-1] < 0.12 * BASE


def test_a_longer_budget_on_resume_continues_from_the_rate_where_the_run_stopped():
    old = Schedule(BASE, "cosine", 100, 2000, time=120.0)
    stop = (101, 120.0)
    resumed = Schedule(BASE, "cosine", 100, 2000, time=600.0, anchor=(*stop, old.position(*stop)))
    assert resumed.lr(*stop) == pytest.approx(old.lr(*stop))  # 0.1 * BASE: no jump back up
    fresh = Schedule(BASE, "cosine", 100, 2000, time=600.0)
    assert fresh.lr(*stop) > 0.8 * BASE  # what the new budget alone would say at that step
    rates = [resumed.lr(101 + i, 120.0 + i * 4.8) for i in range(101)]  # to the new end, 600 s
    assert all(b <= a + 1e-15 for a, b in zip(rates, rates[1:])) and rates[-1] == pytest.approx(0.1 * BASE)
    # stopped in the middle of the warm-up: the warm-up goes on from its rate, then decays to the new end
    mid = (40, 0.0)
    old = Schedule(BASE, "cosine", 100, 200)
    more = Schedule(BASE, "cosine", 100, 400, anchor=(*mid, old.position(*mid)))
    assert more.lr(*mid) == pytest.approx(old.lr(*mid)) and more.lr(400) == pytest.approx(0.1 * BASE)
    assert max(more.lr(s) for s in range(40, 401)) == pytest.approx(BASE, rel=0.02)


def lrs(run) -> dict[int, float]:
    return {r["step"]: r["lr"] for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines()) if "lr" in r}


@pytest.mark.slow
def test_resume_with_more_steps_keeps_the_rate_continuous(tmp_path, periodic_corpus):
    run = tmp_path / "run"
    common = ["train", "--corpus", periodic_corpus, "--hidden", "8", "--embedding", "4", "--seq-len", "8",
              "--batch-size", "2", "--lr", "0.01", "--warmup", "4", "--log-every", "1", "--eval-every", "10",
              "--eval-windows", "2", "--eval-window", "16", "--sample-every", "0", "--threads", "1",
              "--device", "cpu", "--out", run]
    first = run_cli(*common, "--steps", "20")
    assert first.returncode == 0, first.stderr
    before = lrs(run)
    second = run_cli(*common, "--steps", "40", "--resume")
    assert second.returncode == 0, second.stderr
    after = lrs(run)
    assert [after[s] for s in range(1, 21)] == [before[s] for s in range(1, 21)]
    # the first run ended its decay at 10%: the resumed steps go on from there (40 steps alone would be at 55%)
    assert after[20] < 0.11 * 0.01  # the rate of step index 19, the last of the first run
    assert all(after[s] == pytest.approx(0.1 * 0.01) for s in range(21, 41))
