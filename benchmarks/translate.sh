#!/usr/bin/env bash
# English -> French translation on ../shared/data/eng-fra (pairs of at most 10 words a side):
# a bidirectional-LSTM encoder, an LSTM decoder with Bahdanau attention and an adaptive softmax,
# trained for 20 minutes on the CPU; then test BLEU and chrF (greedy against beam 5) on the run's
# held-out test split, and the attention heat-map of the course's sentence.
#
#   bash benchmarks/translate.sh [OUT=runs/translate] [THREADS=1] [ATTENTION=bahdanau]
set -euo pipefail
OUT=${1:-runs/translate}
THREADS=${2:-1}
ATTENTION=${3:-bahdanau}
DATA=$(dirname "$0")/../../shared/data/eng-fra/eng-fra.txt

rnnkit translate train --data "$DATA" --out "$OUT" --attention "$ATTENTION" --output adaptive \
  --time 1200 --steps 100000 --batch-size 64 --eval-every 500 --threads "$THREADS"
rnnkit translate eval --checkpoint "$OUT" --decoder greedy,beam --beam 5 --json "$OUT/test.json"
rnnkit translate translate --checkpoint "$OUT" "The cat sat on the mat." --attention "$OUT/attention.png"
