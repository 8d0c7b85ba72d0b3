"""Speed and loss of the NumPy scratch engine against min-char-rnn, in one run.

Baseline: Karpathy's min-char-rnn (https://gist.github.com/karpathy/d4dee566867f8291f086), its algorithm
reproduced line for line below: batch 1, hidden 100, 25 steps, one-hot column vectors, Adagrad with
lr 0.1, gradients clipped to [-5, 5], weights ~ 0.01 N(0, 1). (Its periodic sampling and printing are
left out of the timed loop; the vocabulary is sorted instead of ``list(set(data))``.)

Scratch: ``rnnkit.scratch`` training the same model (Elman tanh, H = 100, T = 25) on B = 64 parallel streams
(truncated BPTT with the state carried), as ``rnnkit scratch train`` does.

Both train on the first 90% of the corpus for the same number of characters; both are then scored by
the same code: the mean loss per character (nats) on the first ``--val-chars`` characters of the held-out
last 10%, read as one stream from h = 0. The mean training loss over each run's last 100,000 characters
is printed too. Single-threaded BLAS for both (set before NumPy loads), so the ratio is not more cores.

    python benchmarks/scratch_vs_minchar.py            # tinyshakespeare if ../shared/data has it
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from rnnkit.data.corpus import read_corpus  # noqa: E402
from rnnkit.data.vocab import CharVocab  # noqa: E402
from rnnkit.scratch.model import CharRNN  # noqa: E402
from rnnkit.scratch.train import TrainConfig, split_corpus, train  # noqa: E402

SHAKESPEARE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tinyshakespeare" / "input.txt"
TAIL = 100_000  # characters over which the final training loss is averaged


def min_char_rnn(data: list[int], vocab_size: int, num_chars: int, seed: int = 0):
    """min-char-rnn's training loop on ids ``data`` until ``num_chars`` characters are consumed.

    Returns (weights, seconds, per-iteration losses / 25)."""
    np.random.seed(seed)
    hidden_size, seq_length, learning_rate = 100, 25, 1e-1
    Wxh = np.random.randn(hidden_size, vocab_size) * 0.01  # input to hidden
    Whh = np.random.randn(hidden_size, hidden_size) * 0.01  # hidden to hidden
    Why = np.random.randn(vocab_size, hidden_size) * 0.01  # hidden to output
    bh = np.zeros((hidden_size, 1))  # hidden bias
    by = np.zeros((vocab_size, 1))  # output bias

    def lossFun(inputs, targets, hprev):
        xs, hs, ys, ps = {}, {}, {}, {}
        hs[-1] = np.copy(hprev)
        loss = 0
        for t in range(len(inputs)):  # forward pass
            xs[t] = np.zeros((vocab_size, 1))  # encode in 1-of-k representation
            xs[t][inputs[t]] = 1
            hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)  # hidden state
            ys[t] = np.dot(Why, hs[t]) + by  # unnormalized log probabilities for next chars
            ps[t] = np.exp(ys[t]) / np.sum(np.exp(ys[t]))  # probabilities for next chars
            loss += -np.log(ps[t][targets[t], 0])  # softmax (cross-entropy loss)
        dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
        dbh, dby = np.zeros_like(bh), np.zeros_like(by)
        dhnext = np.zeros_like(hs[0])
        for t in reversed(range(len(inputs))):  # backward pass
            dy = np.copy(ps[t])
            dy[targets[t]] -= 1  # backprop into y
            dWhy += np.dot(dy, hs[t].T)
            dby += dy
            dh = np.dot(Why.T, dy) + dhnext  # backprop into h
            dhraw = (1 - hs[t] * hs[t]) * dh  # backprop through tanh nonlinearity
            dbh += dhraw
            dWxh += np.dot(dhraw, xs[t].T)
            dWhh += np.dot(dhraw, hs[t - 1].T)
            dhnext = np.dot(Whh.T, dhraw)
        for dparam in [dWxh, dWhh, dWhy, dbh, dby]:
            np.clip(dparam, -5, 5, out=dparam)  # clip to mitigate exploding gradients
        return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]

    n, p = 0, 0
    mWxh, mWhh, mWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    mbh, mby = np.zeros_like(bh), np.zeros_like(by)  # memory variables for Adagrad
    losses = []
    start = time.perf_counter()
    while n * seq_length < num_chars:
        if p + seq_length + 1 >= len(data) or n == 0:
            hprev = np.zeros((hidden_size, 1))  # reset RNN memory
            p = 0  # go from start of data
        inputs = data[p : p + seq_length]
        targets = data[p + 1 : p + seq_length + 1]
        loss, dWxh, dWhh, dWhy, dbh, dby, hprev = lossFun(inputs, targets, hprev)
        losses.append(loss / seq_length)
        for param, dparam, mem in zip([Wxh, Whh, Why, bh, by], [dWxh, dWhh, dWhy, dbh, dby],
                                      [mWxh, mWhh, mWhy, mbh, mby]):
            mem += dparam * dparam
            param += -learning_rate * dparam / np.sqrt(mem + 1e-8)  # adagrad update
        p += seq_length  # move data pointer
        n += 1  # iteration counter
    seconds = time.perf_counter() - start
    return (Wxh, Whh, Why, bh, by), seconds, losses


def as_scratch_model(weights, vocab_size: int) -> CharRNN:
    """min-char-rnn's weights in the scratch layout: the same model (bias_hh = 0 carries no extra term)."""
    Wxh, Whh, Why, bh, by = weights
    model = CharRNN("elman", vocab_size, 100)
    model.cell.params.update(weight_ih=Wxh.copy(), weight_hh=Whh.copy(), bias_ih=bh[:, 0].copy(),
                             bias_hh=np.zeros(100))
    model.head.params.update(weight=Why.copy(), bias=by[:, 0].copy())
    return model


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chars", type=int, default=1_250_000,
                        help="characters each trains on (default: 1,250,000 = 50,000 min-char-rnn iterations)")
    parser.add_argument("--batch-size", type=int, default=64, help="scratch engine's parallel streams (default: 64)")
    parser.add_argument("--optimizer", default="adam", help="scratch engine's optimiser (default: adam)")
    parser.add_argument("--lr", type=float, default=0.01, help="scratch engine's learning rate (default: 0.01)")
    parser.add_argument("--dtypes", default="float32,float64",
                        help="scratch engine's float types, one run each (default: float32,float64)")
    parser.add_argument("--val-chars", type=int, default=20_000, help="held-out characters scored (default: 20,000)")
    parser.add_argument("--corpus", default=None,
                        help="text file (default: tinyshakespeare from ../shared/data if present, else the embedded corpus)")
    parser.add_argument("--skip-baseline", action="store_true", help="run the scratch engine only (for tuning)")
    args = parser.parse_args(argv)

    path = args.corpus or (str(SHAKESPEARE) if SHAKESPEARE.exists() else None)
    text = read_corpus(path, min_chars=10_000)
    train_text, val_text = split_corpus(text, 0.1)
    vocab = CharVocab.from_text(text)
    V = len(vocab)
    val_ids = np.array(vocab.encode(val_text[: args.val_chars + 1]))
    print(f"corpus: {path or 'the embedded corpus'} ({len(text):,} characters, vocabulary {V}); "
          f"each engine trains on {args.chars:,} characters; numpy {np.__version__}, 1 BLAS thread")

    rows = []
    for dtype in args.dtypes.split(","):
        config = TrainConfig(cell="elman", hidden_size=100, seq_len=25, batch_size=args.batch_size,
                             optimizer=args.optimizer, lr=args.lr, clip_value=5.0, dtype=dtype,
                             iters=max(1, args.chars // (args.batch_size * 25)), print_every=0, sample_every=0,
                             val_fraction=0.1, val_chars=args.val_chars, seed=0)
        result = train(config, log=lambda *_: None, text=text)
        tail = max(1, TAIL // (args.batch_size * 25))
        rows.append((f"scratch (B={args.batch_size}, {args.optimizer} lr={args.lr}, {dtype})", result.chars,
                     result.chars_per_second, float(np.mean(result.losses[-tail:])), result.val_loss))

    if not args.skip_baseline:
        weights, seconds, losses = min_char_rnn(vocab.encode(train_text), V, args.chars)
        base_chars = len(losses) * 25
        base_val = as_scratch_model(weights, V).stream_loss(val_ids)
        rows.insert(0, ("min-char-rnn (B=1, adagrad lr=0.1, float64)", base_chars, base_chars / seconds,
                        float(np.mean(losses[-(TAIL // 25):])), base_val))

    print(f"\n{'engine':48s} {'chars':>10s} {'chars/s':>10s} {'train loss':>10s} {'held-out':>9s}")
    for name, chars, speed, train_loss, val_loss in rows:
        print(f"{name:48s} {chars:10,d} {speed:10,.0f} {train_loss:10.4f} {val_loss:9.4f}")
    print("(losses in nats/char; train loss: mean over the last 100,000 training characters; held-out: "
          f"first {len(val_ids) - 1:,} characters of the last 10%, one stream from h = 0)")
    if not args.skip_baseline:
        _, _, base_speed, _, base_val = rows[0]
        print()
        for name, _, speed, _, val in rows[1:]:
            verdict = "equal or lower" if val <= base_val else "HIGHER"
            print(f"{name}: {speed / base_speed:.1f}x the baseline's characters per second (target >= 10x); "
                  f"held-out loss {val:.4f} vs {base_val:.4f} ({verdict}; target: equal or lower)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
