"""Author attribution on tinyshakespeare: which of the top-N speakers says a line, against the two
baselines (majority class; bag-of-characters logistic regression), scored on a held-out test split.

    python benchmarks/authors.py [--top 10 --out runs/authors --threads 1 --time 300]

Writes the splits (``classify authors``), trains each model with ``classify train`` (early stopping on
the validation split), scores the best checkpoints with ``classify eval`` on the test split, and
prints a Markdown table (also in ``<out>/results.md``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rnnkit.cli import main as rnnkit

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "data" / "tinyshakespeare" / "input.txt"

MODELS = {
    "bag-of-characters logistic regression": ["--model", "bow", "--tokens", "char", "--lr", "0.02",
                                              "--batch-size", "128", "--epochs", "60", "--patience", "5"],
    "char BiLSTM (max pooling)": ["--tokens", "char", "--bidirectional", "--pooling", "max", "--embedding", "32",
                                 "--hidden", "128", "--dropout", "0.2", "--head-dropout", "0.3", "--lr", "2e-3",
                                 "--batch-size", "64", "--epochs", "30", "--patience", "4"],
    "word BiLSTM (max pooling)": ["--tokens", "word", "--bidirectional", "--pooling", "max", "--embedding", "64",
                                 "--hidden", "128", "--dropout", "0.3", "--head-dropout", "0.3", "--min-freq", "2",
                                 "--lr", "2e-3", "--batch-size", "64", "--epochs", "30", "--patience", "4"],
}


def training_seconds(run: Path) -> float:
    """The training time the run itself recorded (its last ``elapsed``), so a re-run that reuses it still knows."""
    records = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines() if l.strip()]
    return max((r["elapsed"] for r in records if "elapsed" in r), default=0.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(CORPUS))
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--out", default="runs/authors")
    ap.add_argument("--threads", default="1")
    ap.add_argument("--time", default="300", help="seconds per model at most")
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated names from MODELS")
    args = ap.parse_args()
    out = Path(args.out)
    data = out / "data"
    assert rnnkit(["classify", "authors", "--corpus", args.corpus, "--top", str(args.top), "--out", str(data)]) == 0
    rows, majority = [], None
    for name in args.models.split(","):
        run = out / name.split(" (")[0].replace(" ", "-")
        command = ["classify", "train", "--train", str(data / "train.tsv"), "--val", str(data / "val.tsv"),
                   "--out", str(run), "--threads", args.threads, "--time", args.time, "--log-every", "100",
                   *MODELS[name]]
        if not (run / "best").exists():
            assert rnnkit(command) == 0, name
        seconds = training_seconds(run)
        assert rnnkit(["classify", "eval", "--checkpoint", str(run), "--data", str(data / "test.tsv"),
                       "--json", str(run / "test.json")]) == 0
        scores = json.loads((run / "test.json").read_text())
        majority = majority or (scores["majority_class"], scores["majority_accuracy"])
        rows.append((name, scores["accuracy"], seconds, "rnnkit " + " ".join(command)))
    lines = ["| model | test accuracy | training time (s) |", "|---|---|---|",
             f"| majority class ({majority[0]}) | {majority[1]:.1%} | 0 |"]
    lines += [f"| {name} | {acc:.1%} | {sec:.0f} |" for name, acc, sec, _ in rows]
    lines += ["", "Commands:", *(f"    {cmd}" for *_, cmd in rows)]
    (out / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
