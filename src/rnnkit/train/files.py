"""Files a run writes: atomic writes that leave the old file or the new one (never half of one, never
a stray ``*.tmp``), one-line errors for disk faults (read-only folder, full disk), and the run
folder's lock, so two runs never write into one folder.

The lock is ``fcntl.flock`` on ``<run>/.lock``: the kernel drops it when its process ends, even by
``kill -9``, so a stale lock never blocks ``--resume``; the file holds the holder's PID for the message.
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path
from typing import Callable

from rnnkit.errors import RnnkitError

LOCK_FILE = ".lock"
_held: dict[str, int] = {}  # resolved run folder -> open lock file descriptor, held until the process ends


DISK_ERRNOS = (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT, errno.EFBIG)


def disk_reason(e: OSError) -> str:
    """``no space left on device``, ``the file system is read-only``, ... in words."""
    return {errno.ENOSPC: "no space left on device", errno.EROFS: "the file system is read-only",
            errno.EACCES: "permission denied", errno.EPERM: "permission denied", errno.EDQUOT: "disk quota exceeded",
            errno.EFBIG: "the file is too large"}.get(e.errno, e.strerror or str(e))


def disk_error(e: OSError, what: str) -> RnnkitError:
    """``cannot write <what>: no space left on device`` (one line, for any OSError)."""
    return RnnkitError(f"cannot write {what}: {disk_reason(e)}")


def atomic_write(path, write: Callable[[Path], None], what: str | None = None) -> Path:
    """``write(tmp)`` into ``<path>.tmp``, flushed to disk, then renamed over ``path``. On any error
    the temporary file is removed, ``path`` keeps its previous content, and a one-line
    ``RnnkitError`` is raised."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise disk_error(e, what or str(path)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_text(path, text: str, what: str | None = None) -> Path:
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"), what)


def save_figure(fig, path, dpi: int = 100) -> Path:
    """``fig.savefig(path)`` atomically (no truncated PNG on a full disk); closes the figure."""
    import matplotlib.pyplot as plt

    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    try:
        return atomic_write(path, lambda p: fig.savefig(p, dpi=dpi, format=fmt), f"the figure {path}")
    finally:
        plt.close(fig)


def make_folder(path, flag: str = "--out") -> Path:
    """``mkdir -p``, with one line if ``path`` is a file or cannot be created."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise RnnkitError(f"{flag} {path} is a file, not a folder; choose a folder name")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise disk_error(e, f"the folder {path}") from None
    return path


def lock_run(run_dir) -> None:
    """Hold an exclusive lock on ``run_dir`` until this process ends (again: a no-op). Another process
    holding it: a one-line refusal naming its PID."""
    run_dir = make_folder(run_dir)
    if int(os.environ.get("RANK", "0") or 0) > 0:  # under torchrun only rank 0, the writer, holds it
        return
    key = str(run_dir.resolve())
    if key in _held:
        return
    lock = run_dir / LOCK_FILE
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise disk_error(e, f"the lock file {lock}") from None
    # After a torchrun restart the previous group's rank 0 may still be exiting: give it a minute.
    patience = 60.0 if int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") or 0) > 0 else 0.0
    deadline = time.monotonic() + patience
    while not _try_flock(fd):
        if time.monotonic() >= deadline:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise RnnkitError(f"{run_dir} is in use by another rnnkit run (PID {holder}); wait for it to end or "
                              "choose another --out")
        time.sleep(0.2)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
    except OSError as e:
        os.close(fd)
        raise disk_error(e, f"the lock file {lock}") from None
    _held[key] = fd


def _try_flock(fd: int) -> bool:
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def unlock_run(run_dir) -> None:
    """Release the lock (tests; a process's locks are released when it ends anyway)."""
    fd = _held.pop(str(Path(run_dir).resolve()), None)
    if fd is not None:
        os.close(fd)
