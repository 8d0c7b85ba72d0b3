"""Bach chorales (music21's corpus, quarter-note grid): the tanh RNN, the LSTM and the GRU at an equal
parameter count, each with the same training budget on one CPU thread, beside the frequency and
repeat-previous-frame baselines; test NLL per frame, the mean and the standard deviation over seeds.
This is Chung et al. 2014's comparison (their Table 2, JSB Chorales) on rnnkit's music task.

    python benchmarks/music_cells.py [--out runs/music-cells --steps 6000 --seeds 0,1,2 --params 20000]

Each model is one ``rnnkit music train`` run: at most ``--steps`` steps (a budget in steps, not seconds, so
that the table does not depend on the load of a shared machine: seeded runs are bit-identical), early
stopping on the validation pieces, the best checkpoint scored on the test pieces; the seconds each run
took are reported. The hidden size of each cell is the one whose model has the parameter count nearest
``--params``. A run already finished in ``<out>`` is read, not rerun. The table (Markdown) is printed
and written to ``<out>/results.md`` with the commands.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
from pathlib import Path

from rnnkit.cli import main as rnnkit

CELLS = {"tanh RNN": "elman", "GRU": "gru", "LSTM": "lstm"}


def hidden_for(cell: str, pitches: int, params: int) -> tuple[int, int]:
    """``(hidden, parameters)``: the frame model of ``cell`` with the parameter count nearest ``params``."""
    from rnnkit.layers.config import RNNConfig
    from rnnkit.models.frame_model import FrameModel
    from rnnkit.models.frame_model_config import FrameModelConfig

    def count(h):
        return sum(p.numel() for p in FrameModel(pitches, FrameModelConfig(rnn=RNNConfig(cell=cell, hidden=h))).parameters())

    return min(((h, count(h)) for h in range(4, 400)), key=lambda hc: (abs(hc[1] - params), hc[0]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="runs/music-cells")
    ap.add_argument("--steps", type=int, default=6000, help="most training steps per run (the budget)")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--params", type=int, default=20000, help="parameter count every cell is sized to")
    ap.add_argument("--patience", type=int, default=25, help="evaluations (epochs) without improvement before stopping")
    ap.add_argument("--pieces", type=int, default=0, help="only the first N pieces (a quick check; 0: all)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from rnnkit.tasks.music.config import MusicDataConfig
    from rnnkit.tasks.music.data import read_corpus

    _, pitches = read_corpus(MusicDataConfig(pieces=args.pieces)).pitch_range()
    rows, commands, baselines = [], [], None
    for label, cell in CELLS.items():
        hidden, params = hidden_for(cell, pitches, args.params)
        runs = []
        for seed in map(int, args.seeds.split(",")):
            run = out / f"{cell}-seed{seed}"
            argv = ["music", "train", "--cell", cell, "--hidden", str(hidden), "--steps", str(args.steps),
                    "--patience", str(args.patience), "--seed", str(seed), "--pieces", str(args.pieces),
                    "--threads", str(args.threads), "--log-every", "1000", "--out", str(run)]
            commands.append("rnnkit " + shlex.join(argv))
            if not (run / "results.json").exists():
                code = rnnkit(argv)
                if code:
                    raise SystemExit(f"`{commands[-1]}` failed with exit code {code}")
            results = json.loads((run / "results.json").read_text())
            best = json.loads((run / "best" / "config.json").read_text())
            last = json.loads((run / "checkpoint" / "config.json").read_text())
            runs.append({"scores": results["scores"]["model"], "step": best["step"], "steps": last["step"],
                         "seconds": last["trainer"]["elapsed"]})
            baselines = {k: v for k, v in results["scores"].items() if k != "model"}
        nll = [r["scores"]["nll"] for r in runs]
        acc = [r["scores"]["accuracy"] for r in runs]
        rows.append({"model": label, "cell": cell, "hidden": hidden, "params": params, "nll": nll, "accuracy": acc,
                     "best_step": [r["step"] for r in runs], "steps": [r["steps"] for r in runs],
                     "seconds": [r["seconds"] for r in runs]})
    sd = lambda xs: statistics.stdev(xs) if len(xs) > 1 else 0.0  # noqa: E731
    lines = [f"| model | hidden | parameters | test NLL/frame (mean ± sd, {len(rows[0]['nll'])} seeds) | "
             "accuracy | best checkpoint's step | steps run | seconds |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['model']} (`{r['cell']}`) | {r['hidden']} | {r['params']:,} | {statistics.mean(r['nll']):.3f} "
                     f"± {sd(r['nll']):.3f} | {statistics.mean(r['accuracy']):.1%} | "
                     f"{', '.join(map(str, r['best_step']))} | {', '.join(map(str, r['steps']))} | "
                     f"{', '.join(f'{s:.0f}' for s in r['seconds'])} |")
    for name, s in baselines.items():
        lines.append(f"| baseline: {name} | | | {s['nll']:.3f} | {s['accuracy']:.1%} | | | |")
    table = "\n".join(lines)
    text = f"{table}\n\nCommands:\n\n```\n" + "\n".join(commands) + "\n```\n"
    (out / "results.md").write_text(text)
    (out / "results.json").write_text(json.dumps({"rows": rows, "baselines": baselines, "steps": args.steps}, indent=2))
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
