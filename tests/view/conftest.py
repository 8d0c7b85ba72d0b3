"""The fixture of tests/view: one ``rnnkit view`` server over every task's fixture run."""

from __future__ import annotations

import pytest
from viewserver import FIXTURES, TASKS, Client, start_view, stop


@pytest.fixture(scope="module")
def view():
    """One server over every task's fixture run: a ``Client``."""
    proc, url = start_view([FIXTURES / t / "run" for t in TASKS])
    yield Client(url)
    stop(proc)
