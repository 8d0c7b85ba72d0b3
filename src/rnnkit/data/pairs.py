"""Sentence pairs for translation (course-notes §8, encoder-decoder): reading, normalising, length
filters and a deterministic train/validation/test split. Pure Python, no torch.

The file format is the Tatoeba/manythings one: ``English<TAB>French`` per line (extra columns, such as
an attribution, are ignored). Lines that are empty or have no tab are skipped and counted, never fatal.

Normalisation (the PyTorch tutorial's): Unicode NFD, lowercase, combining accents dropped (``--accents
strip``, the default) or kept (``keep``, re-composed to NFC), and a space on both sides of punctuation,
so ``"Va-t'en !"`` becomes the tokens ``va-t ' en !``.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from rnnkit.data.text import read_utf8
from rnnkit.errors import RnnkitError, unknown_choice

ACCENTS = ("strip", "keep")
_PUNCT = re.compile(r"([.!?,;:\"«»()¿¡'’…])")
_SPACE = re.compile(r"\s+")


def normalize(text: str, accents: str = "strip") -> str:
    """``"J'ai  froid."`` -> ``"j ' ai froid ."``: NFD, lowercase, accents, spaced punctuation."""
    if accents not in ACCENTS:
        raise unknown_choice("accents", accents, ACCENTS)
    text = unicodedata.normalize("NFD", text.lower().strip())
    if accents == "strip":
        text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    else:
        text = unicodedata.normalize("NFC", text)
    text = text.replace("\u202f", " ").replace("\xa0", " ")  # French thin / no-break spaces before ! ? :
    return _SPACE.sub(" ", _PUNCT.sub(r" \1 ", text)).strip()


def words(text: str) -> list[str]:
    """The tokens of a normalised text."""
    return text.split()


def tokenized(pairs: list[tuple[str, str]], accents: str) -> list[tuple[list[str], list[str]]]:
    """Each pair's normalised words, source and target."""
    return [(words(normalize(s, accents)), words(normalize(t, accents))) for s, t in pairs]


@dataclass
class PairFile:
    """What ``read_pairs`` found: the pairs ``(source, target)`` as written, and what it skipped."""

    pairs: list[tuple[str, str]]
    lines: int = 0
    empty: int = 0
    no_tab: int = 0
    empty_side: int = 0
    skipped_lines: list[int] = field(default_factory=list)  # line numbers of the first few skipped lines

    @property
    def skipped(self) -> int:
        return self.empty + self.no_tab + self.empty_side

    def report(self, path) -> str:
        if not self.skipped:
            return f"{path}: {len(self.pairs):,} pairs"
        first = ", ".join(map(str, self.skipped_lines))
        return (f"{path}: {len(self.pairs):,} pairs; skipped {self.skipped:,} line(s): {self.empty} empty, "
                f"{self.no_tab} without a tab, {self.empty_side} with an empty side (first at line(s) {first})")


def read_pairs(path, reverse: bool = False) -> PairFile:
    """Tab-separated pairs from ``path``; ``reverse`` swaps the columns (French -> English)."""
    content = read_utf8(path, "sentence pairs, one 'source<TAB>target' per line")
    found = PairFile([])
    for number, line in enumerate(content.splitlines(), start=1):
        found.lines += 1
        if not line.strip():
            found.empty += 1
        elif "\t" not in line:
            found.no_tab += 1
        else:
            source, target = line.split("\t")[:2]
            if not source.strip() or not target.strip():
                found.empty_side += 1
            else:
                found.pairs.append((target, source) if reverse else (source, target))
                continue
        if len(found.skipped_lines) < 5:
            found.skipped_lines.append(number)
    if not found.pairs:
        raise RnnkitError(f"{path} holds no sentence pairs ({found.lines} line(s), {found.skipped} skipped); "
                          "expected one 'source<TAB>target' per line")
    return found


def within_length(pair: tuple[str, str], max_words: int, min_words: int = 1, accents: str = "strip") -> bool:
    """Both sides have between ``min_words`` and ``max_words`` tokens once normalised."""
    return all(min_words <= len(words(normalize(s, accents))) <= max_words for s in pair)


def split_by_source(pairs: list[tuple[str, str]], val_fraction: float, test_fraction: float, seed: int,
                    accents: str = "strip") -> dict[str, list[tuple[str, str]]]:
    """``{"train", "val", "test"}`` lists of pairs, split by distinct normalised source sentence.

    All translations of one source sentence land in the same split, so no test sentence was seen in
    training. The split depends only on the pairs and ``seed``: the same file gives the same split.
    """
    for name, f in (("--val-fraction", val_fraction), ("--test-fraction", test_fraction)):
        if not 0.0 <= f < 1.0:
            raise RnnkitError(f"{name} must be in [0, 1), got {f}")
    if val_fraction + test_fraction >= 1.0:
        raise RnnkitError("--val-fraction plus --test-fraction must leave some pairs for training")
    groups: dict[str, list[tuple[str, str]]] = {}
    for pair in pairs:
        groups.setdefault(normalize(pair[0], accents), []).append(pair)
    sources = sorted(groups)
    random.Random(seed).shuffle(sources)
    n_val = round(len(sources) * val_fraction) if val_fraction else 0
    n_test = round(len(sources) * test_fraction) if test_fraction else 0
    if val_fraction and n_val == 0 or test_fraction and n_test == 0 or len(sources) - n_val - n_test < 1:
        raise RnnkitError(f"{len(sources)} distinct source sentence(s) are too few to split into training, "
                          f"validation ({val_fraction}) and test ({test_fraction}); give more pairs")
    parts = {"val": sources[:n_val], "test": sources[n_val:n_val + n_test], "train": sources[n_val + n_test:]}
    return {name: [p for s in chosen for p in groups[s]] for name, chosen in parts.items()}


def write_pairs(path, pairs: list[tuple[str, str]]) -> None:
    """``source<TAB>target`` lines, as read; written whole then renamed, so never half a file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(f"{s}\t{t}\n" for s, t in pairs), encoding="utf-8")
    tmp.replace(path)


def references_by_source(pairs: list[tuple[str, str]], accents: str = "strip") -> tuple[list[str], list[list[str]]]:
    """Distinct normalised sources in first-seen order, and the normalised targets of each (its references)."""
    refs: dict[str, list[str]] = {}
    for s, t in pairs:
        refs.setdefault(normalize(s, accents), []).append(normalize(t, accents))
    return list(refs), list(refs.values())
