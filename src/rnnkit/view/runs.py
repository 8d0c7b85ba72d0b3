"""The run folders the view was given: each one's model (``rnnkit.tasks.runner.load``, read again when
its checkpoint changes, as a run still training writes a new ``best/``) and its ``metrics.jsonl``
(read again when the file grows, so the curves follow a live run).

Only these folders are read, plus the data files their own checkpoints name (the examples of the
page); a request names a run by its number in the list, never by a path.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from rnnkit.errors import RnnkitError

METRICS = "metrics.jsonl"


def check_run_folder(path: str) -> Path:
    """``path`` as a run folder (or a checkpoint folder), refused in one line when it is missing or
    holds neither a checkpoint nor the metrics of a run that has started."""
    from rnnkit.train.checkpoint import find_checkpoint

    p = Path(path)
    if not p.exists():
        raise RnnkitError(f"run folder not found: {path}; give folders written by `rnnkit <task> train` (--out)")
    if not p.is_dir():
        raise RnnkitError(f"{path} is a file, not a run folder; give folders written by `rnnkit <task> train`")
    if (p / METRICS).exists() or (p / ".lock").exists():
        return p  # a run (perhaps still starting): its curves are there before its first checkpoint
    find_checkpoint(p)  # one line: "no checkpoint in ..." for a folder of something else
    return p


class Run:
    """One run folder: ``loaded()`` (its model, cached until its checkpoint changes), ``metrics(after)``."""

    def __init__(self, index: int, path: Path):
        self.index, self.path, self.name = index, path, str(path)
        self._loaded, self._stamp, self._lock = None, None, threading.Lock()
        self._records, self._metrics_stamp = [], None
        self.cache: dict = {}  # what the server computed from this model (states of a text), keyed by request

    def checkpoint_stamp(self):
        from rnnkit.train.checkpoint import CONFIG_FILE, MODEL_FILE, find_checkpoint

        directory = find_checkpoint(self.path)
        files = [directory / CONFIG_FILE, directory / MODEL_FILE]
        return tuple(f.stat().st_mtime_ns if f.exists() else 0 for f in files) + (str(directory),)

    def loaded(self):
        """The run's model (``Loaded``); a one-line error for a run with no checkpoint yet, a checkpoint of a
        task the view does not know, or a corrupt one."""
        from rnnkit.tasks.runner import load

        with self._lock:
            stamp = self.checkpoint_stamp()
            if self._loaded is None or stamp != self._stamp:
                self._loaded, self._stamp = load(self.path, "cpu"), stamp
                self.cache.clear()
            return self._loaded

    def metrics(self, after: int = 0) -> dict:
        """The records of ``metrics.jsonl`` from number ``after`` on; ``reset``: the file was rewritten
        shorter (a resumed run drops the steps it redoes), so the page starts its curves again."""
        path = self.path / METRICS
        with self._lock:
            stamp = (path.stat().st_size, path.stat().st_mtime_ns) if path.exists() else None
            if stamp != self._metrics_stamp:
                self._records, self._metrics_stamp = read_records(path), stamp
            records = self._records
        reset = after > len(records)
        return {"records": records[0 if reset else after:], "total": len(records), "reset": reset}

    def summary(self) -> dict:
        """The run's task, settings and the views its model offers (none before its first checkpoint)."""
        from rnnkit.view.readers import TEXT_READERS

        out = {"index": self.index, "name": self.name}
        try:
            run = self.loaded()
        except RnnkitError as e:
            return {**out, "error": str(e), "views": ["runs"]}
        task = run.task.name
        views = ["runs"] + (["cells"] if task in TEXT_READERS and TEXT_READERS[task].stack(run.model) is not None else [])
        views += ["generate"] if task in ("lm", "translate", "caption") else []
        views += ["alignments"] if task in ("translate", "caption", "speech", "tag") else []
        model = {k: v for k, v in run.meta.get("configs", {}).get("model", {}).items()}
        return {**out, "task": task, "what": run.task.what, "model": model, "step": run.meta.get("step"),
                "views": views, "unit": TEXT_READERS[task].unit(run) if task in TEXT_READERS else None}


def read_records(path: Path) -> list[dict]:
    """The JSON lines of ``path``, a half-written last line (a run writing it now) left for the next read."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records
