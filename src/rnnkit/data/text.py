"""Text-classification data: TSV/CSV files of (text, label) rows, word and character tokenisers, the
token vocabulary (id 0 = padding, 1 = unknown) and the label map. Pure Python, no torch.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

from rnnkit.errors import RnnkitError, unknown_choice

PAD, UNK = "<pad>", "<unk>"
BOS, EOS = "<s>", "</s>"  # start and end of a sequence (a decoder's first input and last output)
TOKENIZERS = ("word", "char")
TEXT_COLUMNS = ("text", "sentence")  # looked for, in this order, when --text-column is not given
_WORD = re.compile(r"[\w']+|[^\w\s]")  # words (with their apostrophes: "don't", "'s") and punctuation


def tokenize(text: str, kind: str) -> list[str]:
    """``word``: lowercased words and punctuation marks; ``char``: the characters, case kept."""
    if kind == "word":
        return _WORD.findall(text.lower())
    if kind == "char":
        return list(text)
    raise unknown_choice("tokeniser", kind, TOKENIZERS)


class TokenVocab:
    """Tokens <-> ids; id 0 pads, id 1 stands for any token not seen in training (or too rare)."""

    def __init__(self, tokens: list[str]):
        if tokens[:2] != [PAD, UNK]:
            raise RnnkitError("a token vocabulary starts with <pad> and <unk>")
        self.tokens = list(tokens)
        self.index = {t: i for i, t in enumerate(self.tokens)}

    @classmethod
    def build(cls, token_lists, min_freq: int = 1, max_size: int = 0, specials: tuple[str, ...] = ()) -> "TokenVocab":
        """The training tokens seen at least ``min_freq`` times, most frequent first (``max_size`` > 0
        keeps only that many, counting <pad>, <unk> and the ``specials``, which follow them: ids 2, 3...)."""
        counts = Counter(t for tokens in token_lists for t in tokens)
        ranked = sorted((t for t, n in counts.items() if n >= min_freq and t not in specials),
                        key=lambda t: (-counts[t], t))
        if max_size > 0:
            ranked = ranked[: max(0, max_size - 2 - len(specials))]
        return cls([PAD, UNK, *specials, *ranked])

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, tokens: list[str]) -> list[int]:
        return [self.index.get(t, 1) for t in tokens] or [1]  # an empty text reads as one <unk>


def sort_labels(labels) -> list[str]:
    """Distinct labels in a stable order: numerically if they are all integers, else alphabetically."""
    distinct = set(labels)
    if all(re.fullmatch(r"-?\d+", l) for l in distinct):
        return sorted(distinct, key=int)
    return sorted(distinct)


def encode_labels(labels: list[str], classes: list[str], where: str) -> list[int]:
    """Label strings -> class ids; a label that training never saw is an error naming the known ones."""
    index = {c: i for i, c in enumerate(classes)}
    unseen = sorted(set(labels) - set(index))
    if unseen:
        shown = ", ".join(repr(l) for l in unseen[:5]) + (" ..." if len(unseen) > 5 else "")
        raise RnnkitError(f"{where} has label(s) not seen in training: {shown}; the model knows: "
                          f"{', '.join(repr(c) for c in classes)}")
    return [index[l] for l in labels]


def _column(header: list[str], wanted: str | None, fallbacks, default: int, path, what: str) -> int | None:
    if wanted is not None:
        if wanted in header:
            return header.index(wanted)
        if wanted.isdigit() and int(wanted) < len(header):
            return int(wanted)
        raise RnnkitError(f"{path} has no {what} column {wanted!r}; its columns are: {', '.join(header)}")
    for name in fallbacks:
        if name in header:
            return header.index(name)
    return default if default < len(header) else None


def read_utf8(path, expected: str) -> str:
    """The text of ``path``; a missing file, a folder, non-UTF-8 bytes or a NUL byte (binary data) is a
    one-line error that says what was ``expected`` there: every task reads its text files here."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        if "\x00" in text:
            line = text.count("\n", 0, text.index("\x00")) + 1
            raise RnnkitError(f"{path} looks binary (a NUL byte on line {line}); expected {expected}, as UTF-8 text")
        return text
    except FileNotFoundError:
        raise RnnkitError(f"file not found: {path} (expected {expected})") from None
    except IsADirectoryError:
        raise RnnkitError(f"{path} is a folder; expected {expected}") from None
    except UnicodeDecodeError as e:
        raise RnnkitError(f"{path} is not UTF-8 text (byte {e.start}); save it as UTF-8") from None


def stdin_lines(what: str) -> list[str]:
    """The non-blank lines of standard input, which must be UTF-8 text: binary data (NUL bytes or
    bytes that are not UTF-8) is a one-line error rather than garbage in, garbage out."""
    import sys

    data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
    if b"\x00" in data:
        raise RnnkitError(f"standard input looks binary (it contains NUL bytes); expected {what}, one per line")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RnnkitError(f"standard input is not UTF-8 text (byte {e.start}); expected {what}, one per line") from None
    return [line for line in text.splitlines() if line.strip()]


def read_labelled(path, text_column: str | None = None, label_column: str | None = None,
                  need_labels: bool = True) -> tuple[list[str], list[str] | None]:
    """``(texts, labels)`` from a file with a header line: tab-separated for ``.tsv`` (or when the header
    has a tab), else comma-separated with CSV quoting. The text column is ``text_column``, else
    ``text`` or ``sentence``, else the first; the label column is ``label_column``, else ``label``,
    else the last. Without a label column and ``need_labels=False``, labels is None."""
    path = Path(path)
    lines = read_utf8(path, "a TSV or CSV file").splitlines()
    if not any(l.strip() for l in lines):
        raise RnnkitError(f"{path} is empty: expected a header line (e.g. text<TAB>label) and one row per example")
    tab = path.suffix.lower() == ".tsv" or "\t" in lines[0]
    csv.field_size_limit(2**31 - 1)  # a 5 MB text is data, not an error (the default limit is 128 kB)
    reader = csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE) if tab else csv.reader(lines)
    header = [h.strip() for h in next(reader)]
    t = _column(header, text_column, TEXT_COLUMNS, 0, path, "text")
    l = _column(header, label_column, ("label",), len(header) - 1, path, "label")
    if l == t or (label_column is None and "label" not in header and len(header) == 1):
        l = None
    if l is None and need_labels:
        raise RnnkitError(f"{path} has no label column: its header is {header}; expected e.g. text<TAB>label")
    texts, labels = [], []
    for line_no, row in enumerate(reader, start=2):
        if not row or not "".join(row).strip():
            continue
        if len(row) != len(header):
            raise RnnkitError(f"{path}, line {line_no}: {len(row)} column(s), but the header has {len(header)} "
                              f"({', '.join(header)})")
        texts.append(row[t].strip())
        if l is not None:
            label = row[l].strip()
            if not label:
                raise RnnkitError(f"{path}, line {line_no}: the label is empty")
            labels.append(label)
    if not texts:
        raise RnnkitError(f"{path} has a header but no rows")
    return texts, (labels if l is not None else None)
