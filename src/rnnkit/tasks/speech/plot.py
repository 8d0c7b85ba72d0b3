"""The figure of ``rnnkit speech transcribe --plot``: the log-mel spectrogram, and under it the CTC
posteriors p_t(c) of each digit and of the blank on the same time axis."""

from __future__ import annotations

from rnnkit.lab.plots import _pyplot


def spikes(p, threshold: float = 0.5) -> list[int]:
    """The highest step of each run of steps where ``p`` exceeds ``threshold``."""
    peaks, start = [], None
    for t, v in enumerate([*p, 0.0]):
        if v > threshold and start is None:
            start = t
        elif v <= threshold and start is not None:
            peaks.append(max(range(start, t), key=lambda i: p[i]))
            start = None
    return peaks


def plot_transcription(features, posteriors, digits: list[int], stack: int, path, title: str = "") -> None:
    """``features (T, F)`` (normalised log-mel); ``posteriors (T', 11)`` (blank first) or None; one RNN
    step per ``stack`` frames (10 ms each)."""
    plt = _pyplot()
    rows = 2 if posteriors is not None else 1
    fig, axes = plt.subplots(rows, 1, figsize=(10, 2.6 * rows + 0.6), sharex=True, squeeze=False)
    T = features.shape[0]
    ax = axes[0, 0]
    ax.imshow(features.T.numpy(), origin="lower", aspect="auto", cmap="magma", extent=(0, T * 0.01, 0, features.shape[1]))
    ax.set(ylabel="mel filter", title=title or f"recognised: {' '.join(map(str, digits))}")
    if posteriors is not None:
        ax = axes[1, 0]
        times = [(t + 0.5) * stack * 0.01 for t in range(posteriors.shape[0])]
        ax.plot(times, posteriors[:, 0].numpy(), color="0.7", linestyle="--", label="blank")
        for c in range(1, posteriors.shape[1]):
            p = posteriors[:, c].numpy()
            ax.plot(times, p, color=f"C{c - 1}", label=str(c - 1))
            for peak in spikes(p):  # label every spike of this digit
                ax.annotate(str(c - 1), (times[peak], p[peak]), textcoords="offset points", xytext=(0, 3),
                            ha="center", color=f"C{c - 1}", fontweight="bold")
        ax.set(ylabel="CTC posterior", ylim=(0, 1.12))
        ax.legend(ncol=11, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.28), frameon=False)
    axes[-1, 0].set_xlabel("time (s)")
    fig.tight_layout()
    from rnnkit.train.files import save_figure

    save_figure(fig, path, dpi=100)  # atomic: no 0-byte file on a full disk
