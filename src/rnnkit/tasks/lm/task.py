"""The character-level language model (the flagship task), declared: a corpus -> a char-RNN trained with
truncated BPTT -> its validation loss in nats and bits per character, samples along the way.

Validation follows nanoGPT's protocol: the last ``val_fraction`` of the text is held out, and the
validation loss is the mean next-character cross-entropy (nats per character) over random windows of
``eval_window`` characters, each starting from a zero state. A checkpoint's ``config.json`` holds the
configs and the character vocabulary; one written before the task had a declaration (``model_config``
and ``train_config``) is read through ``migrate``.
"""

from __future__ import annotations

import math
from dataclasses import fields

from rnnkit.errors import RnnkitError
from rnnkit.models.language_model_config import LMConfig
from rnnkit.tasks.lm.config import EVAL_SEED, LMDataConfig, LMTrainFlags
from rnnkit.tasks.spec import Prepared, Task


def check(configs) -> None:
    m = configs["model"]
    if m.tie_weights and m.embedding != m.rnn.hidden:
        raise RnnkitError(f"--tie-weights needs an embedding of the hidden size: got --embedding {m.embedding} "
                          f"and --hidden {m.rnn.hidden}; set --embedding {m.rnn.hidden}")


def vocabularies(meta: dict, where) -> dict:
    from rnnkit.data.vocab import CharVocab
    from rnnkit.train.checkpoint import saved_vocab

    return {"vocab": CharVocab(saved_vocab(meta, "vocab", where, chars=True))}


def prepare(configs, saved, log) -> Prepared:
    from rnnkit.data.batching import StreamBatches, random_windows
    from rnnkit.data.corpus import read_corpus
    from rnnkit.data.vocab import CharVocab
    from rnnkit.tasks.lm.data import split_corpus, window_loss
    from rnnkit.train.memory import ACTIVATION_FLOATS_PER_UNIT

    d, m, flags = configs["data"], configs["model"], configs["train"]
    vocab = vocabularies(saved, "the run's checkpoint")["vocab"] if saved is not None else None
    text = read_corpus(d.corpus, min_chars=d.seq_len + 2)
    vocab = vocab or CharVocab.from_text(text)
    train_ids, val_ids = split_corpus(text, vocab, d.val_fraction)
    batches = StreamBatches(train_ids, flags.batch_size, d.seq_len, d.state_reset, flags.seed)
    windows = random_windows(val_ids, d.eval_windows, min(d.eval_window, len(val_ids) - 1), seed=EVAL_SEED)
    prime = "\n" if "\n" in vocab.index else vocab.chars[0]

    def evaluate(model):
        loss = window_loss(model, windows)
        return {"val_loss": loss, "val_bpc": loss / math.log(2)}

    def show_sample(model, step):
        from rnnkit.tasks.lm.generate import generate

        text = generate(model, vocab, prime, d.sample_length, temperature=0.8, seed=flags.seed + step)
        return f"--- sample at step {step} ---\n{text}\n---"

    def report(model, summary):
        if summary["val_loss"] is None:  # a resumed run that was already complete: it said so
            return ""
        return (f"done ({summary['stopped']}) at step {summary['step']} after {summary['elapsed']:.0f} s: validation "
                f"loss {summary['val_loss']:.4f} nats/char ({summary['val_loss'] / math.log(2):.3f} bpc), best "
                f"{summary['best_val_loss']:.4f}")

    return Prepared(
        batches=batches, steps_per_epoch=batches.num_chunks, vocabs={"vocab": vocab},
        meta={"vocab": "".join(vocab.chars)}, evaluate=evaluate, report=report, on_evaluate=show_sample,
        lines=[f"corpus: {d.corpus or 'embedded (Python standard library source)'}: {len(train_ids):,} training and "
               f"{len(val_ids):,} validation characters, vocabulary {len(vocab)}"],
        activations=ACTIVATION_FLOATS_PER_UNIT * flags.batch_size * d.seq_len * m.rnn.hidden * m.rnn.layers)


def build(configs, vocabs):
    from rnnkit.models.language_model import CharLM

    return CharLM(len(vocabs["vocab"]), configs["model"])


def describe(model, configs, device) -> str:
    r = configs["model"].rnn
    return (f"model: {r.layers}-layer {r.cell}, hidden {r.hidden}, {model.num_parameters():,} parameters, "
            f"engine {model.rnn.layers[0].engine_used}, device {device}")


def migrate(meta: dict) -> dict:
    """A checkpoint written before the declaration (``model_config`` + the trainer's ``train_config``,
    which held the data settings too) in the current layout (``configs``)."""
    if "configs" in meta or "model_config" not in meta:
        return meta
    run = meta.get("train_config", {})

    def part(cls):
        names = {f.name for f in fields(cls)}
        return {k: v for k, v in run.items() if k in names} if isinstance(run, dict) else run

    return {**meta, "configs": {"model": meta["model_config"], "data": part(LMDataConfig), "train": part(LMTrainFlags)}}


def eval_arguments(parser) -> None:
    from rnnkit.cli_args import count, fraction, positive_int, seed

    parser.add_argument("--corpus", default=None, help="UTF-8 text file to score (default: the run's own corpus)")
    parser.add_argument("--windows", type=count, default=None,
                        help="score N random windows, each from a zero state (nanoGPT's protocol); 0 scores the whole "
                        "text with the state carried (default: the run's --eval-windows)")
    parser.add_argument("--window", type=positive_int, default=None,
                        help="characters per window with --windows (default: the run's --eval-window)")
    parser.add_argument("--last", type=fraction, default=None,
                        help="score only the last fraction of the text; 1: all of it (default: on the run's own corpus "
                        "its --val-fraction, the held-out validation split; on another text 1)")
    parser.add_argument("--batch-size", type=positive_int, default=16, help="parallel streams when scoring the whole text")
    parser.add_argument("--seed", type=seed, default=EVAL_SEED,
                        help=f"seed of the window positions (default: {EVAL_SEED})")


def evaluate(loaded, args) -> dict:
    """By default the run's own validation protocol: the held-out tail of its corpus (``--val-fraction``),
    ``--eval-windows`` windows of ``--eval-window`` characters from a zero state, the same windows as
    in training; so it reproduces the run's validation loss. Each flag given replaces one part."""
    import sys

    import torch

    from rnnkit.data.batching import random_windows
    from rnnkit.data.corpus import read_corpus
    from rnnkit.tasks.lm.data import same_corpus, stream_loss, tail, window_loss

    model, vocab, run = loaded.model, loaded.vocabs["vocab"], loaded.configs["data"]
    corpus = args.corpus if args.corpus is not None else run.corpus
    if args.corpus is None and corpus is not None:  # a path from the checkpoint: said before it is read
        print(f"--corpus not given: reading {corpus}, the corpus named in the checkpoint", file=sys.stderr)
    own = same_corpus(corpus, run.corpus)
    last = args.last if args.last is not None else (run.val_fraction if own else None)
    windows = args.windows if args.windows is not None else run.eval_windows
    window = args.window if args.window is not None else run.eval_window
    text = read_corpus(corpus, min_chars=2)
    what = corpus or "the embedded corpus"
    if last is not None and last < 1:
        text = tail(text, last)  # as training splits it: the last characters are held out
        what += f", its last {last:g} ({len(text):,} characters)"
    ids = torch.tensor(vocab.encode(text, "the evaluation corpus"), dtype=torch.long)
    if len(ids) < 2:
        raise RnnkitError(f"{what} has {len(ids)} character(s); scoring needs at least 2 (a longer text or a larger --last)")
    if windows:
        window = min(window, len(ids) - 1)
        how = f"{windows} random {window}-character windows, each from a zero state"
        if own and last == run.val_fraction and windows == run.eval_windows and args.seed == EVAL_SEED \
                and window == min(run.eval_window, len(ids) - 1):
            how += ": the run's validation protocol"
        print(f"scoring {what}: {how}", file=sys.stderr)
        loss = window_loss(model, random_windows(ids, windows, window, seed=args.seed), progress=True)
    else:
        how = f"the whole text, {len(ids):,} characters, state carried"
        print(f"scoring {what}: {how}", file=sys.stderr)
        loss = stream_loss(model, ids, args.batch_size, progress=True)
    print(f"loss {loss:.4f} nats/char, {loss / math.log(2):.2f} bpc ({what}; {how})")
    return {"corpus": corpus, "characters": len(ids), "protocol": how, "loss": loss, "bpc": loss / math.log(2)}


TASK = Task(
    name="lm", kind="char-lm", help="train a character-level language model (no flags: an LSTM on Python's own source)",
    description="Train a character-level language model with truncated BPTT. With no flags: a 2-layer LSTM on the "
    "embedded corpus (Python's standard-library source).",
    configs={"data": LMDataConfig, "model": LMConfig, "train": LMTrainFlags},
    check=check, prepare=prepare, vocabularies=vocabularies, build=build, describe=describe, migrate=migrate,
    eval_arguments=eval_arguments, evaluate=evaluate, rescore_best=False,
    eval_help="loss and bits per character of a trained model on a text",
    verbs="rnnkit.tasks.lm.cli", what="a character language model")
