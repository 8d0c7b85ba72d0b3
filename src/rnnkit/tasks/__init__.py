"""Tasks: one per problem shape of the course (§1), each a declaration (``spec.Task``) run by one
lifecycle (``runner``) and one set of generated commands (``cli``).

    >>> import rnnkit.tasks
    >>> summary = rnnkit.tasks.train("classify", train="reviews.tsv", hidden=64, time=60, out="runs/rev")
    >>> run = rnnkit.tasks.load("runs/rev")        # run.model: the trained torch.nn.Module
    >>> run.configs["model"], run.vocabs["classes"]
"""

from __future__ import annotations


def train(task: str, **settings) -> dict:
    """Train ``task`` from Python; each setting is one of its ``train`` flags with underscores
    (``rnnkit.tasks.cli.train``). Returns the run's summary (``run_dir``, scores)."""
    from rnnkit.tasks.cli import train as train_task

    return train_task(task, **settings)


def load(path, device: str = "cpu"):
    """Any task's trained model: ``Loaded`` with ``.model``, ``.configs``, ``.vocabs``, ``.meta``, ``.task``."""
    from rnnkit.tasks.runner import load as load_run

    return load_run(path, device)


__all__ = ["load", "train"]
