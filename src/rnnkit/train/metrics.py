"""Metrics of a run: one JSON object per line in ``metrics.jsonl``, and the run's figure drawn from it
(``loss.png``: the loss, the task's metric, the learning rate)."""

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


#: How a validation metric (``val_<name>``) is called in the lines and the figure; others: the name, spaced.
LABELS = {"loss": "loss", "nll": "loss", "bpc": "bits per char", "accuracy": "accuracy", "f1": "F1",
          "bleu": "BLEU", "bleu4": "BLEU-4", "digit_error_rate": "digit error rate"}
#: Validation values that are the loss itself (in other units), drawn on the loss axis or not at all.
LOSS_KEYS = ("val_loss", "val_nll", "val_bpc")


def metric_label(key: str, selected: str = "") -> str:
    """``val_f1`` -> ``F1``; ``val_loss`` -> ``loss``, or ``selected`` (``1 - F1``) where the task's
    ``val_loss`` is that criterion instead of the loss."""
    name = key.removeprefix("val_")
    if key == "val_loss" and selected:
        return selected
    return LABELS.get(name, name.replace("_", " "))


def plot_losses(records: list[dict], path, title: str = "", selected: str = "") -> dict[str, list[str]]:
    """The run's figure (PNG): the training and validation loss against the step; below it, on its own
    axis, the task's validation metrics (accuracy, F1, BLEU, digit error rate) where it has any; and the
    learning rate. ``selected``: ``val_loss`` is that criterion (a tagger's ``1 - F1``), not the loss:
    the validation loss drawn is then ``val_nll``. Returns each panel's curves by their labels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def series(key):
        return [(r["step"], r[key]) for r in records if isinstance(r.get(key), (int, float))]

    val_key = "val_nll" if selected else "val_loss"
    metrics = sorted({k for r in records for k in r if k.startswith("val_") and k not in LOSS_KEYS})
    panels = ["loss", *(["metric"] if metrics else []), *(["lr"] if series("lr") else [])]
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 2.6 + 1.9 * len(panels)), sharex=True, squeeze=False)
    axes = dict(zip(panels, axes[:, 0]))
    ax = axes["loss"]
    for key, label in (("train_loss", "training loss"), (val_key, "validation loss")):
        points = series(key)
        if points:
            ax.plot(*zip(*points), label=label, marker="o" if key == val_key or len(points) < 3 else None,
                    markersize=3)
    ax.set_ylabel("loss")
    ax.set_title(title or "training and validation loss" + (f" (the best checkpoint follows {selected})"
                                                             if selected else ""))
    if "metric" in axes:
        for key in metrics:
            points = series(key)
            if points:
                axes["metric"].plot(*zip(*points), label=f"validation {metric_label(key)}", marker="o", markersize=3)
        axes["metric"].set_ylabel("validation metric")
    if "lr" in axes:
        lr = series("lr")
        axes["lr"].plot(*zip(*lr), color="tab:gray", label="learning rate", marker="o" if len(lr) < 3 else None,
                        markersize=3)
        axes["lr"].set_ylabel("learning rate")
        axes["lr"].ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    for a in axes.values():
        a.grid(alpha=0.3)
        if a.get_legend_handles_labels()[0]:
            a.legend(fontsize=8)
    axes[panels[-1]].set_xlabel("step")
    fig.tight_layout()
    drawn = {name: [line.get_label() for line in a.get_lines()] for name, a in axes.items()}
    save_figure(fig, path)  # atomic: no truncated PNG on a full disk
    return drawn
