#!/usr/bin/env bash
# Image captioning on Flickr8k (issue 13): three models trained from scratch on one CPU thread, then scored
# on the 1,000 test images (5 references each) with BLEU-1..4.
#
#   benchmarks/caption.sh            everything, in order (75 minutes of training, then the evaluations)
#   benchmarks/caption.sh attend     one stage: attend | show | blind | attend-more | eval | figure
#
# Environment: DATA (default ../shared/data/flickr8k), RUNS (default runs/caption), MINUTES_ATTEND (20),
# MINUTES_SHOW (12), MINUTES_BLIND (8), MINUTES_ATTEND_TOTAL (55: attend-more resumes the attention run
# until this much training time in all).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/flickr8k}
RUNS=${RUNS:-runs/caption}
mkdir -p "$RUNS"
common=(--data "$DATA" --threads 1 --lr 2e-3 --captions-per-image 2 --eval-every 150 --seed 0)

train() {  # name variant minutes
  python -m rnnkit.cli caption train "${common[@]}" --variant "$2" --time $(($3 * 60)) --out "$RUNS/$1" \
    2>&1 | tr '\r' '\n' | grep --line-buffered -v '^train:' | tee "$RUNS/$1.log"
}

stage() {
  case "$1" in
    attend) train attend attend "${MINUTES_ATTEND:-20}" ;;
    show) train show show "${MINUTES_SHOW:-12}" ;;
    blind) train blind blind "${MINUTES_BLIND:-8}" ;;
    attend-more)  # continue the attention run (--resume) until MINUTES_ATTEND_TOTAL minutes of training
      python -m rnnkit.cli caption train --threads 1 --time $((${MINUTES_ATTEND_TOTAL:-55} * 60)) \
        --out "$RUNS/attend" --resume 2>&1 | tr '\r' '\n' | grep --line-buffered -v '^train:' | tee -a "$RUNS/attend.log"
      ;;
    eval)
      python -m rnnkit.cli caption eval --checkpoint "$RUNS/blind" --decoder greedy,beam --beam 3 \
        --json "$RUNS/eval-blind.json" | tee "$RUNS/eval-blind.log"
      python -m rnnkit.cli caption eval --checkpoint "$RUNS/show" --decoder greedy,beam --beam 3 \
        --json "$RUNS/eval-show.json" | tee "$RUNS/eval-show.log"
      python -m rnnkit.cli caption eval --checkpoint "$RUNS/attend" --decoder greedy,beam --beam 3 \
        --baseline pixels,features --json "$RUNS/eval-attend.json" | tee "$RUNS/eval-attend.log"
      ;;
    figure)
      mkdir -p docs/figures
      python -m rnnkit.cli caption describe --checkpoint "$RUNS/attend" --decoder beam --beam 3 \
        --attention docs/figures/caption-attention.png "$DATA/images96/2654514044_a70a6e2c21.jpg"
      ;;
    *) echo "unknown stage $1: attend, show, blind, attend-more, eval or figure" >&2; exit 2 ;;
  esac
}

if [ $# -eq 0 ]; then
  for s in attend show blind attend-more eval figure; do stage "$s"; done
else
  for s in "$@"; do stage "$s"; done
fi
