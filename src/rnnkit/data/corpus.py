"""Reading a text corpus, with clear errors for files that cannot be one.

The embedded default corpus is the source of Python's own standard library, present on every machine
with Python, so ``rnnkit train`` with no arguments has something to learn: it learns to write code.
Pure Python (no torch), so the NumPy scratch engine uses it too.
"""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path

from rnnkit.errors import RnnkitError

#: Cap on the embedded corpus, in characters: enough to learn from, quick to read.
DEFAULT_CORPUS_CHARS = 4_000_000


def stdlib_corpus(max_chars: int = DEFAULT_CORPUS_CHARS) -> str:
    """The top-level ``*.py`` modules of Python's standard library, in sorted order, up to ``max_chars``.

    Deterministic for a given Python version. Files that are not valid UTF-8 are skipped.
    """
    root = Path(sysconfig.get_paths()["stdlib"])
    parts: list[str] = []
    total = 0
    for path in sorted(root.glob("*.py")):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        parts.append(text)
        total += len(text)
        if total >= max_chars:
            break
    if not parts:
        raise RnnkitError(f"no Python sources found under {root}; pass a text file with --corpus FILE")
    return "".join(parts)[:max_chars]


def read_corpus(path: str | os.PathLike | None, min_chars: int = 2) -> str:
    """Read a UTF-8 text file (or the embedded corpus when ``path`` is None) and validate it.

    Raises RnnkitError when the file is missing, is a directory, is empty, is binary (NUL bytes or not
    UTF-8), or holds fewer than ``min_chars`` characters (say, shorter than one training sequence).
    """
    if path is None:
        text, name = stdlib_corpus(), "the embedded corpus"
    else:
        p = Path(path)
        name = str(p)
        if not p.exists():
            raise RnnkitError(f"corpus file not found: {name}; pass an existing text file with --corpus")
        if p.is_dir():
            raise RnnkitError(f"corpus path is a directory: {name}; pass a text file with --corpus")
        raw = p.read_bytes()
        if not raw:
            raise RnnkitError(f"corpus file is empty: {name}; it needs at least {min_chars} characters of text")
        if b"\x00" in raw[:1_000_000]:
            raise RnnkitError(f"corpus file looks binary (it contains NUL bytes): {name}; pass a UTF-8 text file")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise RnnkitError(
                f"corpus file is not UTF-8 text (bad byte at offset {e.start}): {name}; pass a UTF-8 text file"
            ) from None
    if len(text) < min_chars:
        raise RnnkitError(
            f"corpus {name} has {len(text)} characters, fewer than the {min_chars} needed "
            f"(one sequence plus its target); use a longer text or a smaller --seq-len"
        )
    return text
