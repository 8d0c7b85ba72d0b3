#!/usr/bin/env bash
# Sequence labelling (`rnnkit tag`) on the CPU, one training at a time:
#   UD English EWT UPOS: the most-frequent-tag baseline, word+char BiLSTM (30 min), word-only BiLSTM (7 min);
#   WNUT-17 entities: BiLSTM-CRF on train+dev (15 min) and on train only (12 min), softmax BiLSTM on train+dev
#   (12 min); --preset ner: word-shape embedding 20, char BiLSTM 50/100, word embedding 50, lr 1e-2 cosine,
#   dropout 0.5, word dropout 0.5.
# The best checkpoint follows the validation accuracy (--preset pos), the validation entity F1 (--preset ner)
# or the validation loss (the word-only row); the test file is scored once, at the end.
#
#   bash benchmarks/tag.sh [OUT=runs/tag] [THREADS=1]
set -euo pipefail
OUT=${1:-runs/tag}
THREADS=${2:-1}
DATA=$(dirname "$0")/../../shared/data
UD=$DATA/ud-english-ewt/en_ewt-ud
NER=$DATA/wnut17
mkdir -p "$OUT"

rnnkit tag baseline --train "$UD-train.conllu" --data "$UD-test.conllu" | tee "$OUT/pos-baseline.txt"
rnnkit tag baseline --train "$NER/wnut17train.conll" --data "$NER/emerging.test.annotated" | tee "$OUT/ner-baseline.txt"

common=(--threads "$THREADS" --schedule cosine --patience 0 --epochs 100)
# --preset pos keeps the checkpoint with the best dev accuracy (--select accuracy)
rnnkit tag train --preset pos --train "$UD-train.conllu" --val "$UD-dev.conllu" --out "$OUT/pos-char" "${common[@]}" --time 1800
rnnkit tag eval --checkpoint "$OUT/pos-char" --data "$UD-test.conllu" --json "$OUT/pos-char/test.json"

# the word-only row was measured before --preset pos selected by accuracy, hence --select loss
rnnkit tag train --preset pos --no-chars --select loss --train "$UD-train.conllu" --val "$UD-dev.conllu" \
  --out "$OUT/pos-word" "${common[@]}" --time 420
rnnkit tag eval --checkpoint "$OUT/pos-word" --data "$UD-test.conllu" --json "$OUT/pos-word/test.json"

# WNUT-17 with --preset ner (shape embedding, CRF, best checkpoint by validation entity F1). The train+dev runs
# also train on the task's labelled dev file (YouTube comments, closer to the test text than the 2010 tweets of
# the training file) and choose their checkpoint on a random 10% of train+dev (--val-fraction 0.1); the
# train-only run chooses on the dev file.
cat "$NER/wnut17train.conll" "$NER/emerging.dev.conll" > "$OUT/wnut17-train-dev.conll"
ner() {  # name, then flags
  local name=$1; shift
  rnnkit tag train --preset ner "$@" --out "$OUT/$name" "${common[@]}"
  rnnkit tag eval --checkpoint "$OUT/$name" --data "$NER/emerging.test.annotated" --format conll \
    --json "$OUT/$name/test.json"
}
ner ner-crf-traindev --train "$OUT/wnut17-train-dev.conll" --val-fraction 0.1 --time 900
ner ner-crf --train "$NER/wnut17train.conll" --val "$NER/emerging.dev.conll" --time 720
ner ner-no-crf-traindev --no-crf --train "$OUT/wnut17-train-dev.conll" --val-fraction 0.1 --time 720

# peer comparison: the same word+char BiLSTM in plain PyTorch nn.LSTM, same batches, alternating chunks
python "$(dirname "$0")/tag_peer.py" --steps 200 --threads "$THREADS" --json "$OUT/peer.json"
