"""Figures of the lab's experiments (PNG, matplotlib's Agg backend)."""

from __future__ import annotations

from rnnkit.train.files import save_figure


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_gradient_flow(curves: dict, path, T: int) -> None:
    """``curves[name] = {"random": norms, "trained": norms or None}``; log-scale norm against k."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 5))
    for i, (name, c) in enumerate(curves.items()):
        color = f"C{i}"
        for kind, style in (("random", "-"), ("trained", "--")):
            norms = c.get(kind)
            if norms:
                points = [(k, n) for k, n in enumerate(norms) if n > 0]
                ax.semilogy(*zip(*points), style, color=color, label=f"{name} ({kind})")
    ax.set(xlabel="k (steps back from T)", ylabel="||dL / dh_{T-k}||", title=f"gradient flow over T = {T} steps")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)  # atomic, one line on a disk fault


def plot_curves(rows: list[dict], path, ylabel: str, baseline_label: str, solved_fraction: float = 0.0,
                log: bool = True, panel: str = "T = ") -> None:
    """One panel per sequence length T (titled ``panel`` + T), one curve per model: ``rows`` of ``{"name",
    "T", "curve": [(step, value)], "baseline"}``; the baseline (and the "solved" level) as dashed lines."""
    plt = _pyplot()
    lengths = list(dict.fromkeys(r["T"] for r in rows))
    names = list(dict.fromkeys(r["name"] for r in rows))
    fig, axes = plt.subplots(1, len(lengths), figsize=(5 * len(lengths), 4.2), squeeze=False, sharey=True)
    for ax, T in zip(axes[0], lengths):
        baseline = None
        for r in (r for r in rows if r["T"] == T):
            baseline = r["baseline"]
            points = [(step, v) for step, v in r["curve"] if v == v]  # NaN (diverged) points dropped
            if points:
                ax.plot(*zip(*points), color=f"C{names.index(r['name'])}", label=r["name"], lw=1.5)
        if baseline is not None:
            ax.axhline(baseline, color="k", ls="--", lw=1, label=baseline_label)
            if solved_fraction:
                ax.axhline(baseline * solved_fraction, color="grey", ls=":", lw=1,
                           label=f"solved ({solved_fraction:.0%} of the baseline)")
        if log:
            ax.set_yscale("log")
            if baseline is not None:  # a diverged run's huge losses would flatten every other curve
                ax.set_ylim(top=baseline * 4)
        ax.set(xlabel="training step", title=f"{panel}{T}")
        ax.grid(alpha=0.3, which="both")
    axes[0][0].set_ylabel(ylabel)
    handles = {}  # every model once, even one missing from the last panel
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    axes[0][-1].legend(handles.values(), handles.keys(), fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)  # atomic, one line on a disk fault


def plot_series(truth, prediction, path, title: str) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot(truth, label="truth")
    ax.plot(prediction, "--", label="prediction (closed loop)")
    ax.set(xlabel="step after the training part", ylabel="standardised value", title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    save_figure(fig, path, dpi=100)  # atomic, one line on a disk fault


def plot_attention(source: list[str], output: list[str], alpha, path, title: str = "") -> None:
    """Heat-map of the attention weights ``alpha (T, S)``: one row per output word, one column per source word."""
    plt = _pyplot()
    T, S = len(output), len(source)
    fig, ax = plt.subplots(figsize=(1.0 + 0.6 * S, 1.0 + 0.5 * T))
    image = ax.imshow(alpha, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(S), source, rotation=45, ha="right")
    ax.set_yticks(range(T), output)
    ax.set(xlabel="source", ylabel="translation", title=title)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="α")
    fig.tight_layout()
    save_figure(fig, path, dpi=120)  # atomic, one line on a disk fault
