"""A character vocabulary: the sorted set of characters of a corpus, and the maps to and from ids.

Pure Python, shared by the torch models and the NumPy scratch engine.
"""

from __future__ import annotations

from rnnkit.errors import RnnkitError


class CharVocab:
    """Characters <-> integer ids. ``chars[i]`` is the character of id ``i``."""

    def __init__(self, chars: str | list[str]):
        chars = list(chars)
        if len(set(chars)) != len(chars):
            raise RnnkitError("vocabulary has repeated characters")
        self.chars = chars
        self.index = {ch: i for i, ch in enumerate(chars)}

    @classmethod
    def from_text(cls, text: str) -> "CharVocab":
        return cls(sorted(set(text)))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str, what: str = "text") -> list[int]:
        """Ids of ``text``; a RnnkitError names the characters the vocabulary lacks."""
        try:
            return [self.index[ch] for ch in text]
        except KeyError:
            unknown = sorted({ch for ch in text if ch not in self.index})
            shown = ", ".join(repr(ch) for ch in unknown[:10])
            raise RnnkitError(
                f"{what} has {len(unknown)} character(s) outside the model's vocabulary: {shown}; "
                f"the vocabulary has {len(self)} characters: {''.join(self.chars)!r}"
            ) from None

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)
