#!/usr/bin/env bash
# Spoken digits (FSDD) on a CPU, one thread: the runs behind the README's speech results.
#   benchmarks/speech.sh [isolated|specaugment|holdout|connected|figure|all] [RUNS_DIR]
# Each training is capped by --time (seconds); eval writes JSON beside each run.
set -euo pipefail
what=${1:-all}
runs=${2:-runs/speech-bench}
data=${FSDD:-../shared/data/fsdd}
common=(--data "$data" --threads 1 --device cpu)
mkdir -p "$runs"

train_eval() {  # name, then train flags
  local name=$1; shift
  rm -rf "${runs:?}/$name"
  /usr/bin/time -f "$name: %e s wall" rnnkit speech train --out "$runs/$name" "${common[@]}" "$@" 2>&1 \
    | tr '\r' '\n' | grep --line-buffered -v '^train:' | tee "$runs/$name.log"
  rnnkit speech eval --checkpoint "$runs/$name" --json "$runs/$name.json" | tee -a "$runs/$name.log"
}

if [[ $what == isolated || $what == all ]]; then  # official split (takes 0-4 are the test)
  train_eval isolated --task isolated --steps 1500 --time 600 --eval-every 150
fi
if [[ $what == specaugment || $what == all ]]; then  # the same with SpecAugment masking
  train_eval isolated-specaug --task isolated --steps 1500 --time 600 --eval-every 150 --spec-augment
fi
if [[ $what == holdout || $what == all ]]; then  # speaker-independent: each speaker held out in turn, 90 s each
  for s in george jackson lucas nicolas theo yweweler; do
    train_eval "holdout-$s" --task isolated --holdout "$s" --steps 100000 --time 90 --eval-every 100
  done
  python - "$runs" <<'PY'
import json, sys, pathlib
acc = {p.stem.removeprefix("holdout-"): json.loads(p.read_text())["beam1"]["accuracy"]
       for p in sorted(pathlib.Path(sys.argv[1]).glob("holdout-*.json"))}
print("speaker-independent accuracy:", ", ".join(f"{s} {a:.2%}" for s, a in acc.items()))
worst = min(acc, key=acc.get)
print(f"mean {sum(acc.values()) / len(acc):.2%}, worst {worst} {acc[worst]:.2%}")
PY
fi
if [[ $what == connected || $what == all ]]; then  # 2-7 digits, CTC, greedy and beam on held-out takes
  train_eval connected --task connected --stack 5 --hidden 128 --layers 1 --train-utterances 3000 \
    --test-utterances 300 --lr 3e-3 --steps 3000 --time 900 --eval-every 150
fi
if [[ $what == figure || $what == all ]]; then  # a 5-digit test utterance (takes 0-4), transcribed with its posteriors
  python - "$data" "$runs/utterance.wav" <<'PY'
import sys
from rnnkit.data.audio import write_wav
from rnnkit.tasks.speech.fsdd import ConnectedDigits, list_recordings, split_recordings
test = split_recordings(list_recordings(sys.argv[1]))["test"]
u = next(u for u in ConnectedDigits(test).utterances(50, seed=7) if len(u.digits) == 5)
write_wav(sys.argv[2], u.samples)
print("spoken:", "".join(map(str, u.digits)), "by", u.speaker)
PY
  rnnkit speech transcribe --checkpoint "$runs/connected" "$runs/utterance.wav" --plot docs/figures/speech-ctc.png
fi
