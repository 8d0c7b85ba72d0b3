#!/usr/bin/env bash
# Sequence labelling (`rnnkit tag`) on the CPU, one training at a time:
#   UD English EWT UPOS: the most-frequent-tag baseline, word+char BiLSTM (30 min), word-only BiLSTM (7 min);
#   WNUT-17 entities: BiLSTM (word+char) without and with a CRF (12 min each; --preset ner: lr 1e-2, dropout 0.5,
#   word dropout 0.25).
# Early stopping and the best checkpoint follow the dev file's loss (for --preset ner, the dev entity F1); the
# test file is scored once, at the end.
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

for crf in no-crf crf; do
  rnnkit tag train --preset ner --$crf --train "$NER/wnut17train.conll" --val "$NER/emerging.dev.conll" \
    --out "$OUT/ner-$crf" "${common[@]}" --time 720
  rnnkit tag eval --checkpoint "$OUT/ner-$crf" --data "$NER/emerging.test.annotated" --format conll \
    --json "$OUT/ner-$crf/test.json"
done

# peer comparison: the same word+char BiLSTM in plain PyTorch nn.LSTM, same batches, alternating chunks
python "$(dirname "$0")/tag_peer.py" --steps 200 --threads "$THREADS" --json "$OUT/peer.json"
