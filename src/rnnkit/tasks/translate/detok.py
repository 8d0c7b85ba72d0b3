"""A decoded translation as a person writes it: the model emits normalised words (lowercase, punctuation
split off, accents stripped unless the run kept them: ``l ' eau est froide .``), which BLEU counts as they
are; what is shown joins them back (``L'eau est froide.``).

The rules are language-neutral and reversible on the normalisation of ``rnnkit.data.pairs``: no space
before closing punctuation (``. , ! ? ; : ) » …``) or after an opening one (``( « ¿ ¡``), a word, an
apostrophe and a word become one (``l'eau``, ``don't``, ``aujourd'hui``), straight double quotes pair up,
and the first letter is capitalised when the source sentence starts with a capital (or is not given).
Accents stripped in training cannot be restored: a run trained with ``--accents keep`` writes them.
"""

from __future__ import annotations

CLOSING = set(".,!?;:)»…%")
OPENING = set("(«¿¡")
APOSTROPHES = {"'", "’"}


def detokenize(words: list[str], source: str = "") -> str:
    """``["l", "'", "eau", "est", "froide", "."]`` -> ``"L'eau est froide."``."""
    out, glue, quotes = "", True, 0  # glue: no space before the next word
    for i, w in enumerate(words):
        if w in APOSTROPHES and out and i + 1 < len(words):
            out, glue = out + w, True
            continue
        if w == '"':
            quotes += 1
            if quotes % 2:  # opening: a space before, none after
                out, glue = out + ("" if glue else " ") + w, True
            else:
                out, glue = out + w, False
            continue
        if w in CLOSING or (w in APOSTROPHES and not out):
            out, glue = out + w, False
            continue
        out = out + ("" if glue else " ") + w
        glue = w in OPENING
    start = source.lstrip()[:1]
    if out and (not start or start.isupper()):
        out = out[0].upper() + out[1:]
    return out
