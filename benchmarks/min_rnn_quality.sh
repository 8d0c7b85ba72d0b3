#!/usr/bin/env bash
# minGRU, minLSTM and a 2-layer LSTM on tinyshakespeare at (nearly) equal parameter count and equal
# training time, scored with the foundation protocol (last 10%, 256 windows of 256 characters from a
# zero state). Usage: benchmarks/min_rnn_quality.sh [seconds per model, default 360] [out folder]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_MODEL=${1:-360}
OUT=${2:-runs/min-rnn-quality}
mkdir -p "$OUT"
CORPUS=../shared/data/tinyshakespeare/input.txt
RNNKIT=${RNNKIT:-rnnkit}
# cell and hidden size: 1.90 M parameters each (2 layers, embedding 64, 65 characters)
for spec in "lstm 384" "mingru 926" "minlstm 752"; do
  set -- $spec
  $RNNKIT train --corpus "$CORPUS" --cell "$1" --hidden "$2" --layers 2 --embedding 64 --dropout 0.2 \
    --batch-size 64 --seq-len 128 --lr 3e-3 --time "$SECONDS_PER_MODEL" --steps 100000 --eval-every 250 \
    --eval-windows 64 --sample-every 0 --threads 1 --out "$OUT/$1" 2>&1 | grep -E "^model:|^done" | tee "$OUT/$1.log"
done
echo "| model | hidden | parameters | steps | train characters/s | validation loss (nats/char) |"
echo "|---|---|---|---|---|---|"
for spec in "lstm 384" "mingru 926" "minlstm 752"; do
  set -- $spec
  loss=$($RNNKIT eval --checkpoint "$OUT/$1" --corpus "$CORPUS" --last 0.1 --windows 256 | grep -oE "loss [0-9.]+" | cut -d' ' -f2)
  python3 - "$OUT/$1" "$1" "$2" "$loss" <<'PY'
import json, sys
from pathlib import Path
run, cell, hidden, loss = sys.argv[1:]
records = [json.loads(l) for l in (Path(run) / "metrics.jsonl").read_text().splitlines()]
logs = [r for r in records if "tokens_per_s" in r]
params = Path(run + ".log").read_text().split(" parameters")[0].split()[-1]  # "model: ..., 1,903,105 parameters"
speed = sum(r["tokens_per_s"] for r in logs) / len(logs)
print(f"| 2-layer {cell} | {hidden} | {params} | {max(r['step'] for r in records)} | {speed:,.0f} | {loss} |")
PY
done
