"""Forecasting on the three shared series: an LSTM against the course's baselines (naive, seasonal
naive, a sliding-window MLP and a 1-D convolution), each trained model with the recursive and the
direct multi-step strategy, scored on the chronological hold-out (last 20%) with MAE, RMSE and MASE
averaged over every forecast origin and every step of the horizon. Each trained model is run with
several seeds; the table gives the mean and the standard deviation over them.

    python benchmarks/forecast_table.py [--out runs/forecast --threads 1 --seeds 0,1,2]

Each model is one ``rnnkit forecast train`` run (early stopping on the 10% before the hold-out); the
table (Markdown) is printed and written to ``<out>/results.md`` with the commands.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from rnnkit.cli import main as rnnkit

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "timeseries"

#: Per series: the window read, the horizon scored, the season of the seasonal naive, and whether to
#: model the logarithm (the airline series grows multiplicatively; the sunspots have zeros).
SERIES = {
    "airline-passengers": ["--window", "24", "--horizon", "12", "--season", "12", "--log"],
    "monthly-sunspots": ["--window", "60", "--horizon", "12", "--season", "132"],
    "daily-min-temperatures": ["--window", "30", "--horizon", "7", "--season", "365"],
}
MODELS = {
    "LSTM": ["--model", "rnn", "--cell", "lstm", "--hidden", "64"],
    "MLP": ["--model", "mlp", "--hidden", "64", "--layers", "2"],
    "1-D conv": ["--model", "conv", "--hidden", "32", "--layers", "2", "--kernel", "3"],
}
TRAINING = ["--steps", "3000", "--lr", "2e-3", "--batch-size", "32", "--eval-every", "50", "--patience", "10",
            "--log-every", "100"]


def training_seconds(run: Path) -> float:
    """The training time the run itself recorded (its last ``elapsed``), so a re-run that reuses it still knows."""
    records = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines() if l.strip()]
    return max((r["elapsed"] for r in records if "elapsed" in r), default=0.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="runs/forecast")
    ap.add_argument("--threads", default="1")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--series", default=",".join(SERIES))
    args = ap.parse_args()
    out = Path(args.out)
    lines = ["| series | method | strategy | MAE | RMSE | MASE | training (s) |", "|---|---|---|---|---|---|---|"]
    commands = []
    for series in args.series.split(","):
        naive_rows = None
        for model, flags in MODELS.items():
            for strategy in ("recursive", "direct"):
                runs, seconds = [], 0.0
                for seed in args.seeds.split(","):
                    run = out / series / f"{model.replace(' ', '').lower()}-{strategy}-seed{seed}"
                    command = ["forecast", "train", "--data", str(DATA / f"{series}.csv"), *SERIES[series], *flags,
                               "--strategy", strategy, *TRAINING, "--seed", seed, "--threads", args.threads,
                               "--out", str(run)]
                    if not (run / "results.json").exists():
                        assert rnnkit(command) == 0, command
                    seconds += training_seconds(run)
                    runs.append(json.loads((run / "results.json").read_text())["scores"])
                commands.append("rnnkit " + " ".join(command))
                if naive_rows is None:
                    naive_rows = [(name, r) for name, r in runs[0].items() if name != "model"]
                    lines += [f"| {series} | {name} | - | {r['mae']:.4g} | {r['rmse']:.4g} | {r['mase']:.3f} | - |"
                              for name, r in naive_rows]
                cells = []
                for metric, fmt in (("mae", ".4g"), ("rmse", ".4g"), ("mase", ".3f")):
                    v = [r["model"][metric] for r in runs]
                    spread = f" ± {statistics.stdev(v):.2g}" if len(v) > 1 else ""
                    cells.append(f"{statistics.mean(v):{fmt}}{spread}")
                lines.append(f"| {series} | {model} | {strategy} | {' | '.join(cells)} | {seconds / len(runs):.0f} |")
                print(lines[-1], flush=True)
    text = "\n".join(lines + ["", "Commands:", *(f"    {c}" for c in commands)]) + "\n"
    (out / "results.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
