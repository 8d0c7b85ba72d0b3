"""Metrics of a run: one JSON object per line in ``metrics.jsonl``, and the loss plot drawn from it."""

from __future__ import annotations

import json
from pathlib import Path

from rnnkit.train.files import disk_error, save_figure, write_text


class MetricsLog:
    """Appends records (dicts with a ``step``) to a JSONL file, flushed at once so a crash loses nothing."""

    def __init__(self, path, truncate_after_step: int | None = None):
        self.path = Path(path)
        if truncate_after_step is not None and self.path.exists():  # a resumed run redoes later steps
            kept = [line for line in self.read() if line.get("step", 0) <= truncate_after_step]
            write_text(self.path, "".join(json.dumps(r) + "\n" for r in kept))

    def write(self, **record) -> None:
        """Append one record; a full disk or a read-only folder stops the run with one line."""
        try:
            with open(self.path, "a") as f:
                f.write(json.dumps(record) + "\n")
        except OSError as e:
            raise disk_error(e, str(self.path)) from None

    def read(self) -> list[dict]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]


def plot_losses(records: list[dict], path, title: str = "loss") -> None:
    """Training and validation loss against step, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for key, label in (("train_loss", "training"), ("val_loss", "validation")):
        points = [(r["step"], r[key]) for r in records if key in r]
        if points:
            ax.plot(*zip(*points), label=label, marker="o" if key == "val_loss" else None, markersize=3)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    save_figure(fig, path)  # atomic: no truncated PNG on a full disk
