"""Report helpers shared by the tasks: tables printed at the end of a run or by ``eval``."""

from __future__ import annotations


def format_confusion(classes: list[str], confusion: list[list[int]]) -> str:
    """A confusion matrix as text: rows the true class, columns the predicted one."""
    width = max(8, *(len(c) + 1 for c in classes))
    head = "true \\ predicted".ljust(width + 8) + "".join(c[:width].rjust(width) for c in classes)
    rows = [c[:width + 7].ljust(width + 8) + "".join(str(n).rjust(width) for n in row) for c, row in zip(classes, confusion)]
    return "\n".join([head, *rows])


def model_size(model) -> int:
    """The number of trainable parameters."""
    return sum(p.numel() for p in model.parameters())
