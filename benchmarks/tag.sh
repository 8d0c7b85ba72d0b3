#!/usr/bin/env bash
# Sequence labelling (`rnnkit tag`) on the CPU:
#   UD English EWT UPOS: the most-frequent-tag baseline, word+char BiLSTM (30 min), word-only BiLSTM (7 min);
#   WNUT-17 entities with --preset ner (word-shape embedding 20, char BiLSTM 50/100, word embedding 50, lr 1e-2
#   cosine, dropout 0.5, word dropout 0.5, auxiliary language-modelling loss 0.1): pairs of train+dev runs of at
#   most 30 minutes, two at a time (one per core), and each pair's ensemble; then the rows measured before the
#   language-modelling loss joined the preset (--lm-weight 0): train+dev (15 min), train only (12 min), softmax
#   (12 min), 23-minute seeds, case augmentation, the dev sentences read twice, cross-fitting on dev's halves.
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

# At most 30-minute train+dev runs whose cosine schedule ends with the run (--epochs 70), two at a time, one
# per core, and the ensemble of each pair (it fits the same 30 minutes).
long=(--preset ner --threads 1 --schedule cosine --patience 0 --time 1800)
ner_long() {  # name, then flags
  local name=$1; shift
  rnnkit tag train "${long[@]}" "$@" --out "$OUT/$name" > "$OUT/$name.log" 2>&1
  rnnkit tag eval --checkpoint "$OUT/$name" --data "$NER/emerging.test.annotated" --format conll \
    --json "$OUT/$name/test.json"
}
ensemble() {  # json name, then run names
  local json=$1; shift
  rnnkit tag eval $(printf -- "--checkpoint $OUT/%s " "$@") --data "$NER/emerging.test.annotated" --format conll \
    --json "$OUT/$json.json"
}
td=(--train "$OUT/wnut17-train-dev.conll" --val-fraction 0.1 --epochs 70)
# --preset ner as it is: seeds 0 and 1, then the same with self-attention, seeds 2 and 3, and a weight of 0.3
ner_long ner-lm-s0 "${td[@]}" --seed 0 & ner_long ner-lm-s1 "${td[@]}" --seed 1 & wait
ensemble ner-ensemble-lm-s0-s1 ner-lm-s0 ner-lm-s1
ner_long ner-lm-att-s0 "${td[@]}" --seed 0 --attention luong & ner_long ner-lm-att-s1 "${td[@]}" --seed 1 --attention luong & wait
ensemble ner-ensemble-lm-att-s0-s1 ner-lm-att-s0 ner-lm-att-s1
ner_long ner-lm-s2 "${td[@]}" --seed 2 & ner_long ner-lm-s3 "${td[@]}" --seed 3 & wait
ensemble ner-ensemble-lm-s2-s3 ner-lm-s2 ner-lm-s3
ensemble ner-ensemble-lm-s0-s3 ner-lm-s0 ner-lm-s1 ner-lm-s2 ner-lm-s3  # two pairs: over the budget
ner_long ner-lm03-s0 "${td[@]}" --seed 0 --lm-weight 0.3 & ner_long ner-lm03-s1 "${td[@]}" --seed 1 --lm-weight 0.3 & wait
ensemble ner-ensemble-lm03-s0-s1 ner-lm03-s0 ner-lm03-s1

# The rows measured before --preset ner had the language-modelling loss: --lm-weight 0 keeps them reproducible.
ner() {  # name, then flags
  local name=$1; shift
  rnnkit tag train --preset ner --lm-weight 0 "$@" --out "$OUT/$name" "${common[@]}"
  rnnkit tag eval --checkpoint "$OUT/$name" --data "$NER/emerging.test.annotated" --format conll \
    --json "$OUT/$name/test.json"
}
ner ner-crf-traindev --train "$OUT/wnut17-train-dev.conll" --val-fraction 0.1 --time 900
ner ner-crf --train "$NER/wnut17train.conll" --val "$NER/emerging.dev.conll" --time 720
ner ner-no-crf-traindev --no-crf --train "$OUT/wnut17-train-dev.conll" --val-fraction 0.1 --time 720

# 23-minute runs (seeds 0 and 1; their ensemble), then --case-augment 0.5 beside a run that reads the dev
# sentences twice (its validation set: seed 0's 10%, which the seed-0 run also held out).
td=("${td[@]}" --lm-weight 0)
ner_long ner-crf-traindev-s0 "${td[@]}" --seed 0 & ner_long ner-crf-traindev-s1 "${td[@]}" --seed 1 & wait
ensemble ner-ensemble-s0-s1 ner-crf-traindev-s0 ner-crf-traindev-s1
python - "$OUT" "$NER/wnut17train.conll" <<'PY'
import sys
from rnnkit.tasks.supervised import split_indices
from rnnkit.tasks.tag.data import read_tagged
out, train = sys.argv[1], sys.argv[2]
both, n_train = read_tagged(f"{out}/wnut17-train-dev.conll", "conll"), len(read_tagged(train, "conll"))
keep, held = split_indices(len(both), 0.1, 0)
def write(name, rows):
    with open(f"{out}/{name}", "w") as f:
        f.writelines("".join(f"{w}\t{t}\n" for w, t in zip(both[i].words, both[i].tags)) + "\n" for i in rows)
write("wnut17-train-dev2x.conll", list(keep) + [i for i in keep if i >= n_train])
write("wnut17-train-dev-val.conll", held)
# two-fold cross-fitting on dev: train + one half of dev, the checkpoint chosen on the other half
dev = both[n_train:]
a, b = split_indices(len(dev), 0.5, 0)
for name, rows in (("devA", a), ("devB", b)):
    with open(f"{out}/{name}.conll", "w") as f:
        f.writelines("".join(f"{w}\t{t}\n" for w, t in zip(dev[i].words, dev[i].tags)) + "\n" for i in rows)
    write(f"wnut17-train-{name}.conll", list(range(n_train)) + [n_train + int(i) for i in rows])
PY
ner_long ner-crf-traindev-case "${td[@]}" --case-augment 0.5 &
ner_long ner-crf-traindev-dev2x --train "$OUT/wnut17-train-dev2x.conll" --val "$OUT/wnut17-train-dev-val.conll" --epochs 55 \
  --lm-weight 0 &
wait
ensemble ner-ensemble-3 ner-crf-traindev-s0 ner-crf-traindev-s1 ner-crf-traindev-dev2x
ner_long ner-crf-xfit-A --train "$OUT/wnut17-train-devA.conll" --val "$OUT/devB.conll" --epochs 70 --lm-weight 0 &
ner_long ner-crf-xfit-B --train "$OUT/wnut17-train-devB.conll" --val "$OUT/devA.conll" --epochs 70 --lm-weight 0 &
wait
ensemble ner-ensemble-xfit ner-crf-xfit-A ner-crf-xfit-B

# peer comparison: the same word+char BiLSTM in plain PyTorch nn.LSTM, same batches, alternating chunks
python "$(dirname "$0")/tag_peer.py" --steps 200 --threads "$THREADS" --json "$OUT/peer.json"
