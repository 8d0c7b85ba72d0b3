"""Training and scoring the digit recognisers: build the splits and their cached features, train a
``WordClassifier`` (isolated) or a ``CTCRecognizer`` (connected), reload it, score it, transcribe WAVs.

A run's ``config.json`` holds the configs; the test set is rebuilt from them (the split is a function
of the data folder, ``--holdout`` and ``--split-seed``; connected test utterances are synthesised with
a fixed seed), so ``eval`` scores exactly the held-out data the run never trained on.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, replace

import torch

from rnnkit.data.audio import FrontEnd, read_wav
from rnnkit.decoding.ctc import ctc_beam_decode
from rnnkit.models.speech import CTCRecognizer, WordClassifier
from rnnkit.schema import check_fields
from rnnkit.tasks.speech.configs import SpeechDataConfig, SpeechModelConfig
from rnnkit.tasks.speech.frames import Frames, ShuffledFrames, feature_spec, features_of
from rnnkit.tasks.speech.fsdd import RATE, ConnectedDigits, list_recordings, split_recordings
from rnnkit.tasks.speech.scores import sequence_scores, word_scores
from rnnkit.tasks.supervised import make_train_config
from rnnkit.train.checkpoint import load_checkpoint, load_weights, run_folder, saved_config
from rnnkit.train.files import lock_run
from rnnkit.train.trainer import Trainer, resolve_device
from rnnkit.runtime import set_threads

TASK = "speech"
DIGITS = [str(d) for d in range(10)]
TEST_SEED, VAL_SEED, TRAIN_SEED = 1_000_000, 2_000_000, 3_000_000  # + --split-seed: disjoint utterance streams


def check_data_config(d: SpeechDataConfig) -> None:
    check_fields(d)


def build_sets(d: SpeechDataConfig, which=("train", "val", "test"), log=print) -> dict[str, Frames]:
    """The cached features of the splits named in ``which``."""
    check_data_config(d)
    start = time.perf_counter()
    splits = split_recordings(list_recordings(d.data), d.holdout, d.val_fraction, d.split_seed, d.per_digit)
    front_end = FrontEnd(feature_spec(d))
    sets = {}
    for name in which:
        recs = splits[name]
        if d.task == "isolated":
            feats = [features_of(front_end, read_wav(r.path, RATE)) for r in recs]
            sets[name] = Frames(feats, [r.digit for r in recs], connected=False)
            continue
        n = d.train_utterances if name == "train" else d.test_utterances
        seed = {"train": TRAIN_SEED, "val": VAL_SEED, "test": TEST_SEED}[name] + d.split_seed
        source = ConnectedDigits(recs, d.min_digits, d.max_digits, d.silence, d.gain_db)
        utts = source.utterances(n, seed)
        sets[name] = Frames([features_of(front_end, u.samples) for u in utts], [u.digits for u in utts], True)
    sizes = ", ".join(f"{len(s):,} {n}" for n, s in sets.items())
    log(f"data: {d.task} digits, {sizes} examples ({'speaker ' + d.holdout + ' held out' if d.holdout else 'official split'}"
        f", {d.features} features); computed in {time.perf_counter() - start:.1f} s")
    return sets


def build_model(m: SpeechModelConfig, d: SpeechDataConfig):
    size = d.mels if d.features == "logmel" else d.mfcc
    kwargs = {k: v for k, v in asdict(m).items() if k not in ("pooling", "head_dropout")}
    if d.task == "isolated":
        return WordClassifier(size, 10, pooling=m.pooling, head_dropout=m.head_dropout, **kwargs)
    return CTCRecognizer(size, 10, head_dropout=m.head_dropout, **kwargs)


@torch.no_grad()
def predict(model, data: Frames, batch_size: int = 64, beam: int = 1) -> dict:
    """Mean loss and the predictions: a digit per example, or a digit sequence decoded with ``beam``
    (1: greedy CTC; more: prefix beam search)."""
    model.eval()
    device = next(model.parameters()).device
    predictions, total = [None] * len(data), 0.0
    for chunk, ((x, lengths), targets) in data.in_order_of_length(batch_size):
        targets = tuple(t.to(device) for t in targets) if data.connected else targets.to(device)
        outputs, loss, _ = model((x.to(device), lengths.to(device)), targets)
        total += float(loss) * len(chunk)
        if data.connected:
            log_probs, out_lengths = outputs
            for i, lp, n in zip(chunk, log_probs.cpu(), out_lengths.tolist()):
                predictions[i] = [c - 1 for c in ctc_beam_decode(lp[:n], beam)]  # output c + 1 is digit c
        else:
            for i, p in zip(chunk, outputs.argmax(-1).tolist()):
                predictions[i] = p
    return {"loss": total / max(len(data), 1), "predictions": predictions}


def score(model, data: Frames, beam: int = 1) -> dict:
    p = predict(model, data, beam=beam)
    s = (sequence_scores if data.connected else word_scores)(data.labels, p["predictions"])
    return {"loss": p["loss"], **s}


def train_speech(model_config: SpeechModelConfig, data_config: SpeechDataConfig, flags, log=print) -> dict:
    """Train as configured; returns the run's summary with the best checkpoint's validation scores."""
    d, m = replace(data_config, data=os.path.abspath(data_config.data)), model_config  # eval from any folder
    torch.manual_seed(flags.seed)
    set_threads(flags.threads)  # 0: torch's default
    check_data_config(d)
    run_dir = run_folder(flags.out, "speech", flags.resume, create=False)  # made once the inputs are known good
    sets = build_sets(d, ("train", "val"), log)
    augment = (dict(freq_masks=d.freq_masks, freq_width=d.freq_width, time_masks=d.time_masks,
                    time_width=d.time_width) if d.spec_augment else None)
    data = ShuffledFrames(sets["train"], flags.batch_size, flags.seed, augment)
    config = make_train_config(flags, data.sampler.steps_per_epoch, d.epochs)
    model = build_model(m, d)
    meta = {"task": TASK, "configs": {"model": asdict(m), "data": asdict(d), "train": asdict(flags)}, "classes": DIGITS}

    def evaluate(model):
        s = score(model, sets["val"])
        if d.task == "isolated":
            return {"val_loss": s["loss"], "val_accuracy": s["accuracy"]}
        return {"val_loss": s["loss"], "val_digit_error_rate": s["digit_error_rate"]}

    lock_run(run_dir)  # makes the folder and refuses a second run on it
    trainer = Trainer(model, config, data, evaluate, run_dir, meta)
    if flags.resume:
        trainer.resume()
        log(f"resuming {run_dir} at step {trainer.step}")
    log(f"model: {'BiRNN' if m.bidirectional else 'RNN'} {m.layers} x {m.hidden} {m.cell}, "
        f"{'pooling ' + m.pooling if d.task == 'isolated' else 'CTC'}, {sum(p.numel() for p in model.parameters()):,} "
        f"parameters, device {trainer.device}; {data.sampler.steps_per_epoch} steps per epoch")
    summary = trainer.fit()
    best, _ = load_checkpoint(run_dir / "best")
    load_weights(trainer.model, best, run_dir / "best")
    s = score(trainer.model, sets["val"])
    summary.update(run_dir=str(run_dir), validation=s)
    shown = f"accuracy {s['accuracy']:.2%}" if d.task == "isolated" else \
        f"digit error rate (greedy) {s['digit_error_rate']:.2%}"
    log(f"done ({summary['stopped']}) at step {summary['step']} after {summary['elapsed']:.0f} s; best checkpoint: "
        f"validation loss {s['loss']:.4f}, {shown}")
    return summary


def load_speech(path, device: str = "cpu"):
    """``(model, data_config, meta)`` from a checkpoint or run folder, the model in eval mode."""
    weights, meta = load_checkpoint(path, task=TASK, what="a speech model")
    m = saved_config(SpeechModelConfig, meta, "configs", "model", where=path)
    d = saved_config(SpeechDataConfig, meta, "configs", "data", where=path)
    model = build_model(m, d)
    load_weights(model, weights, path)
    return model.to(resolve_device(device)).eval(), d, meta


def transcribe(model, d: SpeechDataConfig, paths, beam: int = 8) -> list[dict]:
    """For each WAV: its features ``(T, F)``, the digits recognised and, for a CTC model, the per-frame
    posteriors ``(T', 11)``; for a word classifier the digit's probability."""
    front_end = FrontEnd(feature_spec(d))
    device = next(model.parameters()).device
    results = []
    with torch.no_grad():
        for path in paths:
            feats = features_of(front_end, read_wav(path, RATE))  # (T, F)
            outputs, _, _ = model((feats.unsqueeze(0).to(device), torch.tensor([len(feats)], device=device)))
            if d.task == "connected":
                log_probs = outputs[0][0].cpu()  # (T', 11)
                digits = [c - 1 for c in ctc_beam_decode(log_probs, beam)]
                results.append({"path": str(path), "features": feats, "digits": digits,
                                "posteriors": log_probs.exp()})
            else:
                probs = torch.softmax(outputs[0].float(), -1).cpu()
                digit = int(probs.argmax())
                results.append({"path": str(path), "features": feats, "digits": [digit],
                                "probability": float(probs[digit])})
    return results
