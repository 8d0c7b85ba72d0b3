"""Exploding gradients and clipping (course-notes §4): the same run with and without clipping.

A tanh RNN initialised with spectral radius 1.5 and trained by plain SGD at a high learning rate:
without clipping, occasional huge gradients throw the weights far away and the loss climbs above
where it started (or turns NaN); with the gradient's norm clipped to 1, the same run learns. The
two runs share seed, data and everything else; both go through the character-LM trainer.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from rnnkit.tasks import runner
from rnnkit.train.trainer import Diverged


def clipping_demo(corpus: str | None, out: str, cell: str = "elman", radius: float = 1.5, lr: float = 1.0,
                  clip: float = 1.0, steps: int = 300, hidden: int = 128, seed: int = 0, log=print) -> dict:
    """Train twice (clip 0 and ``clip``); returns per run: final validation loss, peak training loss,
    steps clipped, where it diverged (if it did), and the run folder (metrics.jsonl, loss.png)."""
    results = {}
    for name, c in (("no clipping", 0.0), (f"clip norm {clip:g}", clip)):
        run_dir = Path(out) / ("no-clip" if c == 0 else "clip")
        task = runner.get_task("lm")
        configs = runner.configs_from_flags(task, {
            "model": dict(cell=cell, hidden=hidden, layers=1, embedding=0, init="spectral", spectral_radius=radius),
            "data": dict(corpus=corpus, seq_len=64, eval_windows=32),
            "train": dict(out=str(run_dir), batch_size=32, optimizer="sgd", lr=lr, clip=c, warmup=0, schedule="constant",
                          steps=steps, eval_every=max(1, steps // 6), log_every=5, sample_every=0, seed=seed)})
        record = {"run_dir": str(run_dir), "diverged_at": None}
        try:
            summary = runner.train(task, configs, log=lambda *a: None)
            record.update(val_loss=summary["val_loss"], clipped_steps=summary["clipped_steps"])
        except Diverged as e:
            record.update(val_loss=math.nan, clipped_steps=None, diverged_at=e.step)
        metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
        train_losses = [r["train_loss"] for r in metrics if "train_loss" in r]
        record["first_train_loss"] = train_losses[0] if train_losses else math.nan
        record["peak_train_loss"] = max(train_losses) if train_losses else math.nan
        record["max_grad_norm"] = max((r["grad_norm"] for r in metrics if "grad_norm" in r), default=math.nan)
        record["curve"] = [(r["step"], r["train_loss"], r["grad_norm"]) for r in metrics if "train_loss" in r]
        results[name] = record
        log(f"{name}: validation loss {record['val_loss']:.3f}, peak training loss {record['peak_train_loss']:.2f}, "
            f"largest gradient norm {record['max_grad_norm']:.3g}, clipped steps {record['clipped_steps']}"
            + (f", diverged at step {record['diverged_at']}" if record["diverged_at"] else ""))
    return results


def plot_clipping(results: dict, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for name, r in results.items():
        steps, losses, norms = zip(*r["curve"]) if r["curve"] else ((), (), ())
        ax1.plot(steps, losses, label=name)
        ax2.semilogy(steps, norms, label=name)
    ax1.set(xlabel="step", ylabel="training loss (nats/char)", title="loss")
    ax2.set(xlabel="step", ylabel="gradient norm (before clipping)", title="gradient norm")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    from rnnkit.train.files import save_figure

    save_figure(fig, path, dpi=100)  # atomic: no 0-byte file on a full disk
