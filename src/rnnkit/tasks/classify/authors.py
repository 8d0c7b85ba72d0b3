"""Author attribution, the course's example of many-to-one: which character speaks a line of a play.

tinyshakespeare is a sequence of speeches, each a speaker line (``First Citizen:``) followed by the
lines spoken and a blank line. Every spoken line becomes one example labelled with its speaker; the
N speakers with the most lines are kept. The split is by speech (80/10/10, seeded), so two lines of
one speech never sit on both sides of it.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

from rnnkit.errors import RnnkitError
from rnnkit.train.files import make_folder, write_text

SPEAKER = re.compile(r"^([A-Z][A-Za-z .,'&-]*):$")  # a whole line: a capitalised name and a colon
SPLITS = {"train": 0.8, "val": 0.1, "test": 0.1}


def speeches(text: str) -> list[tuple[str, list[str]]]:
    """``[(speaker, [line, ...]), ...]`` in the order of the text."""
    found, current = [], None
    for line in text.splitlines():
        m = SPEAKER.match(line.strip())
        if m:
            current = (m.group(1), [])
            found.append(current)
        elif not line.strip():
            current = None
        elif current is not None:
            current[1].append(line.strip().replace("\t", " "))
    return [s for s in found if s[1]]


def top_speakers(found: list[tuple[str, list[str]]], top: int) -> dict[str, int]:
    """The ``top`` speakers by number of spoken lines, with their counts (most first)."""
    counts = Counter()
    for speaker, lines in found:
        counts[speaker] += len(lines)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top])


def author_splits(text: str, top: int = 10, seed: int = 0) -> tuple[dict[str, list[tuple[str, str]]], dict]:
    """``({"train": [(line, speaker), ...], "val": ..., "test": ...}, speaker line counts)``."""
    if top < 2:
        raise RnnkitError(f"--top must be at least 2 (a classifier needs two speakers), got {top}")
    found = speeches(text)
    if not found:
        raise RnnkitError("no speeches found: expected speaker lines such as 'First Citizen:' followed by their lines")
    counts = top_speakers(found, top)
    if len(counts) < 2:
        raise RnnkitError(f"only {len(counts)} speaker(s) found; need at least 2")
    kept = [s for s in found if s[0] in counts]
    random.Random(seed).shuffle(kept)
    splits, start = {}, 0
    for i, (name, fraction) in enumerate(SPLITS.items()):
        end = len(kept) if i == len(SPLITS) - 1 else start + round(fraction * len(kept))
        splits[name] = [(line, speaker) for speaker, lines in kept[start:end] for line in lines]
        start = end
    return splits, counts


def write_author_splits(corpus, out, top: int = 10, seed: int = 0) -> dict:
    """Write ``train.tsv``, ``val.tsv`` and ``test.tsv`` (``text<TAB>label``) into ``out``."""
    try:
        text = Path(corpus).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise RnnkitError(f"cannot read {corpus}: {getattr(e, 'strerror', None) or e}") from None
    splits, counts = author_splits(text, top, seed)
    out = Path(out)
    make_folder(out)
    for name, rows in splits.items():
        write_text(out / f"{name}.tsv", "text\tlabel\n" + "".join(f"{t}\t{s}\n" for t, s in rows))
    return {"splits": {k: len(v) for k, v in splits.items()}, "speakers": counts}
