"""``DecodeOptions``: how a trained encoder-decoder (translator, captioner) decodes: the strategy and its
settings, one CLI flag per field. Pure Python, no torch. The ranges are declared on the fields (checked
while parsing); ``check`` holds the rules that tie two settings together.
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.schema import opt

DECODERS = ("greedy", "beam", "sample", "exhaustive")


@dataclass
class DecodeOptions:
    # no declared choices: ``eval`` takes a comma-separated list of decoders (greedy,beam); ``check`` names them
    decoder: str = opt("beam", "greedy, beam, sample (temperature, top-k, top-p) or exhaustive (over a shortlist)")
    beam: int = opt(5, "beam width (beam search)", low=1)
    length_penalty: float = opt(1.0, "rank beam and exhaustive outputs by log p / length ** this (0: raw log p)",
                               low=0.0)
    n_best: int = opt(1, "translations per sentence, best first, with their scores (beam, sample, exhaustive)",
                     low=1)
    temperature: float = opt(1.0, "sampling temperature: < 1 sharpens the distribution, > 1 flattens it",
                              above=0.0)
    top_k: int = opt(0, "sample only from the k most probable words (0: off)", low=0)
    top_p: float = opt(0.0, "sample only from the smallest set of words with probability >= p (0: off)",
                        low=0.0, high=1.0)
    seed: int = opt(0, "random seed of sampling", low=0)
    shortlist: int = opt(8, "exhaustive search: the words searched over (the most probable along the greedy output)",
                        low=1)
    max_candidates: int = opt(1_000_000, "exhaustive search: refuse when shortlist ** max-output exceeds this",
                             low=1)
    max_output: int = opt(0, "longest translation in words (0: twice the training length limit, plus 2)",
                         low=0)
    batch_size: int = opt(128, "sentences decoded together", low=1)
    ban: str = opt("", "words never to emit, comma-separated, e.g. '<unk>' (the model's distribution renormalised "
                   "over the others)")

    def check(self) -> None:
        """The one decoder named, and the settings that must agree with it."""
        from rnnkit.errors import RnnkitError, unknown_choice

        if self.decoder not in DECODERS:
            raise unknown_choice("decoder", self.decoder, DECODERS)
        if self.decoder == "beam" and self.n_best > self.beam:
            raise RnnkitError(f"--n-best {self.n_best} is more than the beam width {self.beam}; widen --beam")
        if self.decoder == "greedy" and self.n_best > 1:
            raise RnnkitError("greedy decoding gives one translation; use --decoder beam or sample for --n-best")


#: The flags each decoder reads; another decoder ignores them.
READS = {"beam": ("beam", "length_penalty"), "sample": ("temperature", "top_k", "top_p", "seed"),
         "exhaustive": ("shortlist", "max_candidates", "length_penalty")}


def ignored(options: DecodeOptions, named) -> list[str]:
    """A warning for each flag in ``named`` (the settings given) that none of the decoders asked for reads."""
    decoders = [d.strip() for d in options.decoder.split(",")]
    used = {name for d in decoders for name in READS.get(d, ())}
    return [f"--{name.replace('_', '-')} has no effect with --decoder {options.decoder} (only "
            f"{' and '.join(d for d, reads in READS.items() if name in reads)} reads it)"
            for name in named if name not in used and any(name in reads for reads in READS.values())]


def decode_options(args) -> DecodeOptions:
    """The decoding flags a command was given, over DecodeOptions' defaults; a flag the chosen decoder
    ignores (``--temperature`` with beam search) is warned of on stderr."""
    import sys

    from rnnkit.cli_args import given

    named = given(args, DecodeOptions)
    options = DecodeOptions(**named)
    for warning in ignored(options, named):
        print(f"warning: {warning}", file=sys.stderr)
    return options


def banned_ids(options: DecodeOptions, vocab, what: str = "target") -> list[int]:
    """The ids of ``--ban``'s words in ``vocab`` (a ``TokenVocab``); a word it lacks is refused in one line."""
    from rnnkit.errors import RnnkitError

    words = [w.strip() for w in options.ban.split(",") if w.strip()]
    missing = [w for w in words if w not in vocab.index]
    if missing:
        raise RnnkitError(f"--ban {', '.join(map(repr, missing))}: not in the {what} vocabulary of {len(vocab):,} "
                          f"words (it has <unk>, </s> and the training words)")
    return [vocab.index[w] for w in words]
