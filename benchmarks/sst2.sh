#!/usr/bin/env bash
# SST-2 sentiment (GLUE), dev accuracy of two models trained on the CPU:
#   1. the course's Keras recipe (--preset course): early stopping on a 20% split of train.tsv;
#   2. a BiLSTM with max pooling, 15-minute budget (--time 900), early stopping on a 10% split.
# dev.tsv is never seen in training; it is scored once, by the best checkpoint of each run.
#
#   bash benchmarks/sst2.sh [OUT=runs/sst2] [THREADS=1]
set -euo pipefail
OUT=${1:-runs/sst2}
THREADS=${2:-1}
DATA=$(dirname "$0")/../../shared/data/sst2
mkdir -p "$OUT"

rnnkit classify train --preset course --train "$DATA/train.tsv" --out "$OUT/course" --threads "$THREADS" --time 900
rnnkit classify eval --checkpoint "$OUT/course" --data "$DATA/dev.tsv" --json "$OUT/course/dev.json"

rnnkit classify train --train "$DATA/train.tsv" --val-fraction 0.1 --out "$OUT/bilstm" --bidirectional \
  --embedding 128 --hidden 128 --pooling max --dropout 0.3 --head-dropout 0.5 --batch-size 64 --lr 2e-3 \
  --schedule cosine --warmup 100 --epochs 10 --patience 3 --threads "$THREADS" --time 900
rnnkit classify eval --checkpoint "$OUT/bilstm" --data "$DATA/dev.tsv" --json "$OUT/bilstm/dev.json"
