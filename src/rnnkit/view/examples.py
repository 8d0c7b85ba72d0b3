"""Texts the page offers to pick, from the run's own data: the char-LM's validation text (the held-out
tail of its corpus), the first sentences of a classifier's, tagger's or translator's validation (or
training) file. Only files the run's checkpoint names are read, never a path from the browser; where
they are gone, there is nothing to pick (and the page says so)."""

from __future__ import annotations

from pathlib import Path

from rnnkit.errors import RnnkitError

CHARS = 3000  # of the char-LM's validation text
SENTENCES = 8


def examples_of(run) -> list[dict]:
    """``[{"name", "text"}]`` for the run (``rnnkit.tasks.runner.Loaded``); empty where its data is gone."""
    try:
        return _examples(run)
    except (RnnkitError, OSError):
        return []


def _examples(run) -> list[dict]:
    task, d = run.task.name, run.configs["data"]
    if task == "lm":
        from rnnkit.data.corpus import read_corpus
        from rnnkit.tasks.lm.data import tail

        text = tail(read_corpus(d.corpus, min_chars=2), d.val_fraction)[:CHARS]
        return [{"name": f"validation text ({len(text):,} characters)", "text": text}]
    if task == "classify":
        from rnnkit.data.text import read_labelled

        texts, _ = read_labelled(d.val or d.train, d.text_column, d.label_column, need_labels=False)
        return [{"name": t[:60], "text": t} for t in texts[:SENTENCES]]
    if task == "tag":
        from rnnkit.tasks.tag.data import read_tagged

        sentences = read_tagged(d.val or d.train, d.format, d.tag_column)[:SENTENCES]
        return [{"name": " ".join(s.words)[:60], "text": " ".join(s.words)} for s in sentences]
    if task == "translate":
        path = Path(run.path) / "test.tsv"
        if not path.exists():
            path = Path(run.path).parent / "test.tsv"  # a checkpoint folder inside its run folder
        lines = path.read_text().splitlines()[:SENTENCES] if path.exists() else []
        return [{"name": line.split("\t")[0][:60], "text": line.split("\t")[0]} for line in lines if line.strip()]
    return []
