"""Raw text into words the way the taggers' training data is tokenised (Universal Dependencies English EWT,
WNUT-17: Penn-Treebank style), so ``rnnkit tag predict "I saw her duck."`` tags ``duck`` and ``.``.

    punctuation split off a word's ends   "duck."  -> duck .      "(see"  -> ( see      "Yes!!" -> Yes ! !
    ... stays one token                   "wait..." -> wait ...
    clitics split off (as EWT does)       "don't" -> do n't   "can't" -> ca n't   "I'm" -> I 'm   "John's" -> John 's
    kept whole                            abbreviations (Mr. e.g. U.S.), initials (J.), numbers (3.5, 1,000),
                                          URLs, e-mail addresses, @user and #tag, hyphenated words (well-known)

Text that is already one token per space (a CoNLL file's words, joined) stays as it was: ``--pretokenized``
turns this off altogether.
"""

from __future__ import annotations

import re

ABBREVIATIONS = {"mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "jr.", "sr.", "vs.", "etc.", "e.g.", "i.e.", "inc.",
                 "ltd.", "co.", "corp.", "no.", "mt.", "jan.", "feb.", "mar.", "apr.", "jun.", "jul.", "aug.",
                 "sep.", "sept.", "oct.", "nov.", "dec.", "a.m.", "p.m."}
LEADING = "\"'“‘([{`«¿¡"
TRAILING = "\"'”’)]}.,!?;:»%…"
WHOLE = re.compile(r"^(\w+://\S*\w/?|www\.\S*\w/?|[\w.+-]+@[\w-]+\.[\w.]*\w|[@#]\w+|([A-Za-z]\.){2,}|[A-Z]\.)$")
CLITIC = re.compile(r"^(.+?)(n['’]t|['’](?:s|re|ve|ll|d|m))$", re.IGNORECASE)


def split_word(chunk: str) -> list[str]:
    """One whitespace-separated chunk -> its tokens."""
    head, tail = [], []
    while chunk and chunk[0] in LEADING and len(chunk) > 1:
        head.append(chunk[0])
        chunk = chunk[1:]
    while chunk and not WHOLE.match(chunk) and chunk.lower() not in ABBREVIATIONS:
        if chunk.endswith("...") and len(chunk) > 3:
            tail.insert(0, "...")
            chunk = chunk[:-3]
        elif chunk[-1] in TRAILING and len(chunk) > 1:
            tail.insert(0, chunk[-1])
            chunk = chunk[:-1]
        else:
            break
    m = CLITIC.match(chunk) if not WHOLE.match(chunk) else None
    middle = [m.group(1), m.group(2)] if m else [chunk]
    return [t for t in (*head, *middle, *tail) if t]


def tokenize(text: str) -> list[str]:
    """``"Don't stop, Mr. Smith!"`` -> ``["Do", "n't", "stop", ",", "Mr.", "Smith", "!"]``."""
    return [t for chunk in text.split() for t in split_word(chunk)]
