"""Word shapes: a small class for each word from its spelling as written (capitals, digits, ``@user``,
``#tag``, URLs), the standard extra input of named-entity taggers (Lample et al. 2016's capitalisation
feature, Chiu and Nichols 2016's character types). The tagger embeds it (``--shape D``) beside the word
and character vectors, so a name never seen in training still reads as ``Capital`` or ``ALLCAPS``.

The classes, first match wins (``word_shape``); id 0 pads:

    url       http://..., https://..., www.x, or containing ://
    mention   @ followed by something (@user)
    hashtag   # followed by something (#tag)
    number    digits, with only . , : / - between them (3.5, 12:30, 1/2, 2017-06-01)
    digits    any other word with a digit (4th, mp3, B2B)
    lower     cased letters, none upper (cat, don't)
    Capital   the first letter upper, no other (London, I, Mr.)
    ALLCAPS   at least two cased letters, all upper (USA, AT&T, U.S.)
    miXed     other case mixes (iPhone, McDonald)
    punct     no letter and no digit (., !!, :-), an emoji)
    other     letters without case (most non-Latin scripts)
"""

from __future__ import annotations

SHAPES = ("<pad>", "url", "mention", "hashtag", "number", "digits", "lower", "Capital", "ALLCAPS", "miXed", "punct",
          "other")
_ID = {name: i for i, name in enumerate(SHAPES)}
_NUMBER_MARKS = set(".,:/-")


def word_shape(word: str) -> int:
    """The id in ``SHAPES`` of a word, as written (not lowercased)."""
    low = word.lower()
    if low.startswith(("http://", "https://", "www.")) or "://" in low:
        return _ID["url"]
    if len(word) > 1 and word[0] == "@":
        return _ID["mention"]
    if len(word) > 1 and word[0] == "#":
        return _ID["hashtag"]
    if any(c.isdigit() for c in word):
        number = word[0].isdigit() and word[-1].isdigit() and all(c.isdigit() or c in _NUMBER_MARKS for c in word)
        return _ID["number" if number else "digits"]
    cased = [c for c in word if c.isupper() or c.islower()]
    if not cased:
        return _ID["other" if any(c.isalpha() for c in word) else "punct"]
    upper = [c.isupper() for c in cased]
    if not any(upper):
        return _ID["lower"]
    if upper[0] and not any(upper[1:]):
        return _ID["Capital"]
    if all(upper) and len(cased) > 1:
        return _ID["ALLCAPS"]
    return _ID["miXed"]
