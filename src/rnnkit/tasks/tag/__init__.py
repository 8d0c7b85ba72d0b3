"""``rnnkit tag``: sequence labelling, one tag per word (part-of-speech tagging, named entities)."""
