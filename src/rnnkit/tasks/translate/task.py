"""The translation task, declared: sentence pairs -> a trained ``Seq2Seq`` -> BLEU and chrF on the
held-out test split.

A run folder holds ``train.tsv``, ``val.tsv`` and ``test.tsv`` (the split, written once, as read),
``best/`` and ``checkpoint/`` (whose ``config.json`` carries the configs and both vocabularies),
``metrics.jsonl`` and ``loss.png``. The decoders themselves are ``rnnkit.decoding``'s, see
``tasks/translate/decode.py``.
"""

from __future__ import annotations

from rnnkit.decoding.options import DecodeOptions
from rnnkit.errors import RnnkitError
from rnnkit.models.seq2seq_config import Seq2SeqConfig
from rnnkit.tasks.spec import Prepared, Task
from rnnkit.tasks.translate.config import TranslateDataConfig, TranslateTrainFlags


def check(configs) -> None:
    if configs["data"].data is None:
        raise RnnkitError("--data FILE is required: sentence pairs, one 'source<TAB>target' per line "
                          "(e.g. ../shared/data/eng-fra/eng-fra.txt)")


def vocabularies(meta: dict, where) -> dict:
    from rnnkit.data.text import TokenVocab
    from rnnkit.train.checkpoint import saved_vocab

    return {"source": TokenVocab(saved_vocab(meta, "source_vocab", where)),
            "target": TokenVocab(saved_vocab(meta, "target_vocab", where))}


def prepare(configs, saved, log, run_dir) -> Prepared:
    import math

    from rnnkit.data.pairs import references_by_source, tokenized
    from rnnkit.data.text import BOS, EOS, TokenVocab
    from rnnkit.tasks.batches import ShuffledBatches
    from rnnkit.tasks.translate.data import SPLITS, EncodedPairs, pair_loss, prepare_splits, read_splits
    from rnnkit.tasks.translate.decode import corpus_scores
    from rnnkit.tasks.translate.translator import Translator
    from rnnkit.train.memory import ACTIVATION_FLOATS_PER_UNIT

    d, m, flags = configs["data"], configs["model"], configs["train"]
    if saved is not None:  # resuming: the run's own split and vocabularies
        splits = read_splits(run_dir)
        source, target = TokenVocab(saved["source_vocab"]), TokenVocab(saved["target_vocab"])
    else:
        splits = prepare_splits(d, run_dir, log)
    train_tokens = tokenized(splits["train"], d.accents)  # normalised once, for the vocabularies and the ids
    if saved is None:
        source = TokenVocab.build([s for s, _ in train_tokens], d.min_freq)
        target = TokenVocab.build([t for _, t in train_tokens], d.min_freq, specials=(BOS, EOS))
    train = EncodedPairs(train_tokens, source, target)
    val = EncodedPairs(tokenized(splits["val"], d.accents), source, target) if splits["val"] else None
    batches = ShuffledBatches(train, flags.batch_size, flags.seed)
    bleu_sources, bleu_refs = references_by_source(splits["val"], d.accents)  # the first --eval-bleu sources
    bleu_sources, bleu_refs = bleu_sources[: d.eval_bleu], bleu_refs[: d.eval_bleu]

    def evaluate(model):
        if val is None:
            return {"val_loss": pair_loss(model, train)}
        results = {"val_loss": pair_loss(model, val)}
        if bleu_sources:
            translator = Translator(model, source, target, d, device=next(model.parameters()).device)
            s = corpus_scores(translator, bleu_sources, bleu_refs, DecodeOptions(decoder="greedy"))
            results["val_bleu"] = s["bleu"]
        return results

    def report(model, summary):
        return (f"done ({summary['stopped']}) at step {summary['step']} after {summary['elapsed']:.0f} s; "
                f"best validation loss {summary['best_val_loss']:.4f} nats per word "
                f"(perplexity {math.exp(min(summary['best_val_loss'], 50)):.1f})")

    sizes = ", ".join(f"{len(splits[n]):,} {n}" for n in SPLITS)
    return Prepared(
        batches=batches, steps_per_epoch=batches.steps_per_epoch, vocabs={"source": source, "target": target},
        meta={"source_vocab": source.tokens, "target_vocab": target.tokens}, evaluate=evaluate, report=report,
        lines=[f"data: {sizes} pairs (split by source sentence, written to {run_dir}/{{train,val,test}}.tsv); "
               f"vocabularies: {len(source):,} source and {len(target):,} target words (min frequency {d.min_freq}); "
               f"{batches.steps_per_epoch} steps per epoch"],
        activations=ACTIVATION_FLOATS_PER_UNIT * flags.batch_size * 2 * (d.max_words + 2) * m.rnn.hidden
        * m.rnn.layers * 2)


def build(configs, vocabs):
    from rnnkit.models.seq2seq import Seq2Seq

    return Seq2Seq(len(vocabs["source"]), len(vocabs["target"]), configs["model"])


def describe(model, configs, device) -> str:
    from rnnkit.tasks.report import model_size

    m = configs["model"]
    return f"model: {m.rnn.cell} encoder-decoder, attention {m.attention}, {model_size(model):,} parameters, device {device}"


def eval_arguments(parser) -> None:
    from rnnkit.cli_args import add_config_arguments, count

    parser.add_argument("--data", default=None, help="pairs to score (default: the run folder's test.tsv)")
    parser.add_argument("--limit", type=count, default=0, help="score only the first N source sentences (0: all)")
    parser.add_argument("--examples", type=count, default=3, help="print the first N translations of each decoder")
    add_config_arguments(parser, DecodeOptions, "decoding (--decoder takes a comma-separated list: greedy,beam)")


def test_split_of(path):
    """The ``test.tsv`` a run wrote, for a run folder or one of its checkpoint folders."""
    from pathlib import Path

    from rnnkit.train.checkpoint import find_checkpoint

    directory = find_checkpoint(path)
    for folder in (Path(path), directory.parent, directory):
        if (folder / "test.tsv").exists():
            return folder / "test.tsv"
    raise RnnkitError(f"no test.tsv beside the checkpoint {path}; pass the pairs to score with --data FILE")


def evaluate(loaded, args) -> dict:
    """Corpus BLEU and chrF of each decoder given (``--decoder greedy,beam``) on a pairs file."""
    import sys
    from dataclasses import replace

    from rnnkit.data.pairs import read_pairs, references_by_source
    from rnnkit.decoding.options import decode_options
    from rnnkit.tasks.translate.decode import corpus_scores
    from rnnkit.tasks.translate.translator import Translator

    translator = Translator.of(loaded)
    path = args.data or test_split_of(args.checkpoint)
    found = read_pairs(path)
    if found.skipped:
        print(found.report(path), file=sys.stderr)
    sources, references = references_by_source(found.pairs, translator.data.accents)
    if args.limit:
        sources, references = sources[: args.limit], references[: args.limit]
    base = decode_options(args)
    results = {}
    print(f"{path}: {len(sources):,} source sentences, {sum(map(len, references)):,} reference translations")
    for decoder in base.decoder.split(","):
        options = replace(base, decoder=decoder.strip())
        s = corpus_scores(translator, sources, references, options, progress=True)
        label = f"beam {options.beam}" if options.decoder == "beam" else options.decoder
        print(f"{label:>10}: BLEU {s['bleu']:.2f} (all references), {s['bleu_first_reference']:.2f} (first reference "
              f"only), chrF {s['chrf']:.2f}")
        results[label] = {k: v for k, v in s.items() if k != "outputs"}
        for src, out, refs in list(zip(sources, s["outputs"], references))[: args.examples]:
            print(f"    {src}  ->  {out}   [reference: {refs[0]}]")
    print(f"sacrebleu: {s['signature']}")
    return {"data": str(path), "scores": results}


TASK = Task(
    name="translate", help="encoder-decoder translation (English -> French, ...) with attention",
    description="Normalise and filter the pairs, split them by source sentence into train/val/test (written to the "
    "run folder), and train a Seq2Seq with teacher forcing.",
    configs={"data": TranslateDataConfig, "model": Seq2SeqConfig, "train": TranslateTrainFlags},
    check=check, prepare=prepare, vocabularies=vocabularies, build=build, describe=describe,
    eval_arguments=eval_arguments, evaluate=evaluate, rescore_best=False, run_files=True,
    eval_help="corpus BLEU and chrF (sacrebleu) on the run's test split or a pairs file",
    verbs="rnnkit.tasks.translate.cli", what="a translation model")
