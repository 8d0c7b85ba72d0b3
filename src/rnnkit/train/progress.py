"""The trainer's progress: a bar over the run's budget with the time elapsed and left, and the epoch.

A run ends at ``--steps`` or at ``--time`` seconds, whichever comes first, so the bar's total is the step at
which the run is expected to end: ``--steps``, or fewer when the time budget, at the rate measured so far,
runs out before. The time left is that step's distance at the same rate (never past the time budget). The
bar is :func:`rnnkit.runtime.progress`'s, so it is drawn only for a person at a terminal; a log (a pipe, a
file) gets no frames, and the evaluation lines carry the same "elapsed, left" instead.
"""

from __future__ import annotations

import math
import time


def clock(seconds: float) -> str:
    """``75`` -> ``01:15``; ``3725`` -> ``1:02:05``."""
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class Budget:
    """Where a run stands against its budget: ``steps`` and ``time`` seconds (0: no time limit)."""

    def __init__(self, steps: int, time_limit: float, steps_per_epoch: int = 0):
        self.steps, self.time, self.steps_per_epoch = steps, time_limit, steps_per_epoch
        self.first: tuple[int, float] | None = None  # (step, elapsed) when this process started measuring

    def observe(self, step: int, elapsed: float) -> None:
        if self.first is None:
            self.first = (step, elapsed)

    def seconds_per_step(self, step: int, elapsed: float) -> float | None:
        if self.first is None or step <= self.first[0]:
            return None
        return (elapsed - self.first[1]) / (step - self.first[0])

    def final_step(self, step: int, elapsed: float) -> int:
        """The step at which the run is expected to stop."""
        per = self.seconds_per_step(step, elapsed)
        if self.time <= 0 or per is None or per <= 0:
            return self.steps
        return min(self.steps, step + max(0, math.ceil((self.time - elapsed) / per)))

    def left(self, step: int, elapsed: float) -> float | None:
        """Seconds until the run stops, or None before a rate is known."""
        per = self.seconds_per_step(step, elapsed)
        if per is None:
            return max(0.0, self.time - elapsed) if self.time > 0 else None
        left = (self.steps - step) * per
        return max(0.0, min(left, self.time - elapsed) if self.time > 0 else left)

    def status(self, step: int, elapsed: float) -> str:
        """``01:02 elapsed, 00:58 left, epoch 2.4``."""
        left = self.left(step, elapsed)
        parts = [f"{clock(elapsed)} elapsed", f"{clock(left)} left" if left is not None else "? left"]
        if self.steps_per_epoch:
            parts.append(f"epoch {step / self.steps_per_epoch:.1f}")
        return ", ".join(parts)


class TrainingBar:
    """The bar of one ``fit``: ``update(step, elapsed)`` after each step, ``show(loss=..., ...)`` at each log
    line, ``write(text)`` for a line above it (it prints whether or not the bar is drawn)."""

    FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} steps{postfix}"  # tqdm puts ", " first

    def __init__(self, budget: Budget, step: int, elapsed: float, enabled: bool):
        from rnnkit.runtime import interactive, progress

        self.budget = budget
        self.drawn = enabled and interactive()
        self.bar = progress(total=budget.final_step(step, elapsed), unit="step", desc="train", enabled=enabled,
                            initial=step, leave=True, unit_scale=False, bar_format=self.FORMAT)
        self.extra = ""
        self.step, self.elapsed, self.last_draw = step, elapsed, 0.0
        budget.observe(step, elapsed)

    def update(self, step: int, elapsed: float) -> None:
        self.step, self.elapsed = step, elapsed
        if not self.drawn:
            return
        now = time.monotonic()
        self.bar.n = step
        if now - self.last_draw > 0.5 or step >= self.bar.total:
            self.bar.total = max(step, self.budget.final_step(step, elapsed))
            self.bar.set_postfix_str(self.budget.status(step, elapsed) + self.extra, refresh=False)
            self.bar.refresh()
            self.last_draw = now

    def show(self, **values: str) -> None:
        self.extra = "".join(f", {k} {v}" for k, v in values.items())

    def status(self) -> str:
        """The budget's status now, for a line that a log keeps (no bar is drawn there)."""
        return self.budget.status(self.step, self.elapsed)

    def write(self, text: str) -> None:
        self.bar.write(text)

    def close(self) -> None:
        if self.drawn:  # the run has ended here: the bar's last frame says so
            self.bar.n = self.bar.total = self.step
            self.bar.set_postfix_str(self.budget.status(self.step, self.elapsed) + self.extra, refresh=False)
            self.bar.refresh()
        self.bar.close()
