"""Checkpoints: a folder with ``model.safetensors`` (weights), ``config.json`` (configs, vocabulary,
version, step, metrics) and, for resuming, ``trainer.safetensors`` (optimiser state, RNG state, the
carried hidden state). Never pickle: loading a checkpoint runs no code.

Writes are atomic: everything goes to ``<dir>.tmp``, then ``<dir>`` is swapped for it with two renames
(``<dir>`` -> ``<dir>.old``, ``<dir>.tmp`` -> ``<dir>``). A run killed at any moment leaves either
the old or the new checkpoint complete; a reader falls back to ``<dir>.old`` if the kill fell between
the two renames.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from rnnkit import __version__
from rnnkit.errors import RnnkitError
from rnnkit.train.files import disk_error

MODEL_FILE, CONFIG_FILE, TRAINER_FILE = "model.safetensors", "config.json", "trainer.safetensors"


def _fsync_write(path: Path, write) -> None:
    write(path)
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def save_checkpoint(directory, weights: dict, meta: dict, trainer: dict | None = None) -> Path:
    """Atomically write a checkpoint folder. ``weights``/``trainer``: name -> tensor; ``meta``: JSON."""
    directory = Path(directory)
    tmp, old = directory.with_name(directory.name + ".tmp"), directory.with_name(directory.name + ".old")
    # clone: tied weights share memory, which safetensors refuses; contiguous CPU copies are plain data
    plain = lambda d: {k: v.detach().to("cpu").contiguous().clone() for k, v in d.items()}
    meta = {"rnnkit_version": __version__, **meta}
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        _fsync_write(tmp / MODEL_FILE, lambda p: save_file(plain(weights), str(p)))
        if trainer is not None:
            _fsync_write(tmp / TRAINER_FILE, lambda p: save_file(plain(trainer), str(p)))
        _fsync_write(tmp / CONFIG_FILE, lambda p: p.write_text(json.dumps(meta, indent=2)))
        if directory.exists():  # else <dir>.old may be the only complete copy (an earlier write failed)
            shutil.rmtree(old, ignore_errors=True)
            os.replace(directory, old)
        os.replace(tmp, directory)
    except (OSError, SafetensorError) as e:  # a full disk, a read-only folder: the previous checkpoint stays
        shutil.rmtree(tmp, ignore_errors=True)
        if not isinstance(e, OSError):
            e = OSError(errno.ENOSPC if "space" in str(e).lower() else errno.EIO, str(e))
        kept = "; the previous checkpoint is intact" if directory.exists() or old.exists() else ""
        raise RnnkitError(f"{disk_error(e, f'the checkpoint {directory}')}{kept}") from None
    shutil.rmtree(old, ignore_errors=True)
    return directory


def find_checkpoint(path) -> Path:
    """The checkpoint folder for ``path``: the folder itself, or a run folder's ``best`` (else
    ``checkpoint``), or the ``.old`` copy left by a write that was interrupted between renames."""
    path = Path(path)
    for candidate in (path, path / "best", path / "checkpoint"):
        for c in (candidate, candidate.with_name(candidate.name + ".old")):
            if (c / CONFIG_FILE).exists() or (c / MODEL_FILE).exists():
                return c
    if not path.exists():
        raise RnnkitError(f"checkpoint not found: {path}; pass a run folder or a checkpoint folder (with {MODEL_FILE})")
    raise RnnkitError(f"no checkpoint in {path}: expected {MODEL_FILE} and {CONFIG_FILE} there or in {path}/best")


def inside(directory: Path, name: str) -> Path:
    """``directory / name``, refused if it is a link that leads out of the checkpoint folder: a
    checkpoint is data, and cannot make rnnkit read another file of this machine."""
    path = directory / name
    if path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(directory.resolve()):
            raise RnnkitError(f"corrupt checkpoint {directory}: {name} is a link to {target}, outside the checkpoint "
                              "folder; copy the file into the folder instead")
    return path


def load_checkpoint(path, with_trainer: bool = False, task: str | None = None, what: str = ""):
    """Read a checkpoint: ``(weights, meta)`` or ``(weights, meta, trainer)``; clear errors if corrupt.
    With ``task``, a checkpoint of another task is refused: "checkpoint P is not <what>"."""
    directory = find_checkpoint(path)
    try:
        meta = json.loads(inside(directory, CONFIG_FILE).read_text())
        if not isinstance(meta, dict):
            raise ValueError("not a JSON object")
    except FileNotFoundError:
        raise RnnkitError(f"corrupt checkpoint {directory}: {CONFIG_FILE} is missing") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise RnnkitError(f"corrupt checkpoint {directory}: {CONFIG_FILE} is not valid JSON ({e})") from None
    except RecursionError:
        raise RnnkitError(f"corrupt checkpoint {directory}: {CONFIG_FILE} nests its values too deeply to be "
                          "a checkpoint's config") from None

    def read(name):
        try:
            return load_file(str(inside(directory, name)))
        except FileNotFoundError:
            raise RnnkitError(f"corrupt checkpoint {directory}: {name} is missing") from None
        except (SafetensorError, OSError, ValueError) as e:
            raise RnnkitError(f"corrupt checkpoint {directory}: {name} cannot be read ({e})") from None

    weights = read(MODEL_FILE)
    bad = [k for k, v in weights.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise RnnkitError(f"corrupt checkpoint {directory}: weights {', '.join(bad[:3])}{' ...' if len(bad) > 3 else ''} "
                          "hold NaN or infinite values")
    if task is not None and meta.get("task") != task:
        raise RnnkitError(f"checkpoint {path} is not {what} (its task is {meta.get('task')!r})")
    if not with_trainer:
        return weights, meta
    return weights, meta, read(TRAINER_FILE)


def load_weights(model: torch.nn.Module, weights: dict, where) -> None:
    """``model.load_state_dict(weights)``, with a one-line error naming what does not match."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    wrong = [k for k in expected if k in weights and weights[k].shape != expected[k].shape]
    # a float tensor may arrive in another float precision (it is cast); an integer or boolean tensor
    # where the model holds floats (or the reverse) is not a weight the model can use: copied, it is garbage
    kind = lambda t: "float" if t.is_floating_point() else str(t.dtype).removeprefix("torch.")  # noqa: E731
    dtype = [f"{k} ({kind(weights[k])}, the model uses {kind(expected[k])})" for k in expected
             if k in weights and kind(weights[k]) != kind(expected[k])]
    if missing or unexpected or wrong or dtype:
        detail = "; ".join(
            f"{what}: {', '.join(keys[:4])}{' ...' if len(keys) > 4 else ''}"
            for what, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong),
                               ("wrong dtype", dtype))
            if keys
        )
        raise RnnkitError(f"checkpoint {where} does not match the model its config describes ({detail})")
    model.load_state_dict(weights)


def optimizer_to_tensors(state: dict) -> tuple[dict, dict]:
    """Split an optimiser's state_dict into tensors (for safetensors) and JSON (everything else)."""
    tensors, scalars = {}, {}
    for idx, per_param in state["state"].items():
        for k, v in per_param.items():
            if isinstance(v, torch.Tensor):
                tensors[f"optim.{idx}.{k}"] = v
            else:
                scalars[f"{idx}.{k}"] = v
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def optimizer_from_tensors(tensors: dict, meta: dict) -> dict:
    state: dict = {}
    for key, v in tensors.items():
        if key.startswith("optim."):
            _, idx, k = key.split(".", 2)
            state.setdefault(int(idx), {})[k] = v
    for key, v in meta["scalars"].items():
        idx, k = key.split(".", 1)
        state.setdefault(int(idx), {})[k] = v
    return {"state": state, "param_groups": meta["param_groups"]}


def check_resume_meta(meta: dict, trainer: dict, directory) -> None:
    """The training state of a checkpoint, checked before ``--resume`` uses it: one line per problem."""

    def bad(what: str):
        return RnnkitError(f"corrupt checkpoint {directory}: {what}; it cannot be resumed")

    step = meta.get("step")
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise bad(f"'step' must be an integer >= 0, got {step!r}")
    t = meta.get("trainer")
    if not isinstance(t, dict):
        raise bad("config.json has no 'trainer' object (was it written by a finished evaluation, not a run?)")
    kinds = {"optimizer": dict, "best": (int, float), "bad_evals": int, "elapsed": (int, float), "clipped": int}
    for key, kind in kinds.items():
        if not isinstance(t.get(key), kind) or isinstance(t.get(key), bool):
            raise bad(f"trainer.{key} is {t.get(key)!r}")
    if not isinstance(t["optimizer"].get("param_groups"), list) or not isinstance(t["optimizer"].get("scalars"), dict):
        raise bad("trainer.optimizer lacks its param_groups or scalars")
    if "state_structure" not in t or "rng.torch" not in trainer:
        raise bad("the carried state or the random-number state is missing")


def saved_config(cls, meta: dict, *keys: str, where):
    """The config ``meta[keys[0]][keys[1]]...`` of a loaded checkpoint as a ``cls``, every field checked
    against its declared type and range (``rnnkit.schema.check_config``): a checkpoint is data."""
    from rnnkit.schema import check_config

    value = meta
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            raise RnnkitError(f"corrupt checkpoint {where}: config.json lacks {'.'.join(keys)}")
        value = value[key]
    return check_config(cls, value, f"corrupt checkpoint {where}: {'.'.join(keys)}")


def saved_vocab(meta: dict, key: str, where, chars: bool = False) -> list[str]:
    """A vocabulary (or the class names) of a loaded checkpoint: distinct strings, single characters
    for a character model."""
    value = meta.get(key)
    if chars and isinstance(value, str):
        value = list(value)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise RnnkitError(f"corrupt checkpoint {where}: {key} must be a non-empty list of strings")
    if chars and (bad := [v for v in value if len(v) != 1]):
        raise RnnkitError(f"corrupt checkpoint {where}: {key} entry {bad[0]!r} is not a single character")
    if len(set(value)) != len(value):
        raise RnnkitError(f"corrupt checkpoint {where}: {key} has repeated entries")
    return value
