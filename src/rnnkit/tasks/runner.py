"""The one lifecycle of every task, and the one loader of every task's checkpoints.

    train(task, configs):  validate -> own the run folder (lock first, check under it) -> seed
        -> prepare the data (fresh, or the vocabularies of the run being resumed) -> build the model
        within memory -> Trainer -> resume -> fit -> reload best -> report
    load(path):  any task's checkpoint -> Loaded(task, model, configs, vocabs, meta)

``configs_from_flags`` turns the flags a user gave (a command line or ``rnnkit.tasks.train``'s keyword
arguments) into the task's config objects: defaults, then a preset, then the flags; on ``--resume``
the run's saved configs, where only the resumable training settings may change.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from rnnkit.errors import RnnkitError, unknown_choice
from rnnkit.schema import check_config, check_fields, flat_fields, from_flat, to_flat
from rnnkit.tasks.spec import Task
from rnnkit.train.config import RESUMABLE

#: Every task, by the name of its command, and the module that declares it (``TASK = Task(...)``).
TASKS = {
    "lm": "rnnkit.tasks.lm.task",
    "classify": "rnnkit.tasks.classify.task",
    "forecast": "rnnkit.tasks.forecast.task",
    "translate": "rnnkit.tasks.translate.task",
    "tag": "rnnkit.tasks.tag.task",
    "caption": "rnnkit.tasks.caption.task",
    "speech": "rnnkit.tasks.speech.task",
    "music": "rnnkit.tasks.music.task",
}
#: Settings that name files: stored as absolute paths, so a run's checkpoint works from any folder.
PATH_FIELDS = ("corpus", "data", "train", "val", "test")


def get_task(name: str) -> Task:
    """The declaration of task ``name`` (a command name, or a checkpoint's ``task`` field)."""
    for key, module in TASKS.items():
        if name == key:
            return importlib.import_module(module).TASK
    for key, module in TASKS.items():  # a checkpoint's kind ("char-lm") where it differs from the command
        task = importlib.import_module(module).TASK
        if task.checkpoint_task == name:
            return task
    raise unknown_choice("task", name, TASKS)


# ---------------------------------------------------------------------------------------------- configs
def store_absolute_paths(values: dict) -> None:
    """Make the file names among ``values`` (flags given) absolute, in place: those that name a file or
    folder (``--corpus bach``, a name the task resolves itself, stays as given)."""
    for name in PATH_FIELDS:
        if isinstance(values.get(name), str) and os.path.exists(os.path.expanduser(values[name])):
            values[name] = os.path.abspath(os.path.expanduser(values[name]))


def configs_from_flags(task: Task, given: dict, preset: str | None = None) -> dict:
    """One config object per entry of ``task.configs``, from ``given`` (``{key: {flag name: value}}``,
    the flags the user set): defaults, then the preset's values, then the flags given. With
    ``resume``, the saved configs, where only the resumable training settings may change."""
    values = {key: dict(given.get(key, {})) for key in task.configs}
    for part in values.values():
        store_absolute_paths(part)
    train = values["train"]
    if train.get("resume"):
        if preset:
            raise RnnkitError("--preset cannot be combined with --resume (the run keeps its saved settings)")
        saved = saved_configs(task, saved_meta(train.get("out"), task))
        flags = {f.name for cls in task.configs.values() for f in flat_fields(cls)}
        may = sorted(RESUMABLE & flags)
        configs = {}
        for key, cls in task.configs.items():
            stored = to_flat(saved[key])
            for name, value in values[key].items():
                if not (key == "train" and name in RESUMABLE) and value != stored.get(name):
                    raise RnnkitError(
                        f"--{name.replace('_', '-')} cannot change when resuming (the run used {stored.get(name)!r});"
                        f" only these may: {', '.join('--' + n.replace('_', '-') for n in may)}")
            configs[key] = from_flat(cls, {**stored, **values[key]})
            for name in PATH_FIELDS:  # paths from the checkpoint are said before they are read
                if key != "train" and name not in values[key] and stored.get(name) is not None:
                    print(f"resuming: reading --{name} {stored[name]}, named in the checkpoint", file=sys.stderr)
        return configs
    named = {name for part in values.values() for name in part}
    if {"steps", "epochs"} <= named:
        raise RnnkitError("--steps and --epochs both set the length of training; give only one of them")
    chosen = {}
    if preset is not None:
        if preset not in task.presets:
            raise unknown_choice("preset", preset, task.presets)
        chosen = task.presets[preset]
    if "steps" in named:  # a --steps given beats the preset's epochs, as every flag given beats the preset
        chosen = {key: {k: v for k, v in part.items() if k != "epochs"} for key, part in chosen.items()}
    return {key: from_flat(cls, {**chosen.get(key, {}), **values[key]}) for key, cls in task.configs.items()}


def saved_meta(out, task: Task) -> dict:
    """The meta of the last checkpoint of the run in ``out`` (for ``--resume``)."""
    from rnnkit.train.checkpoint import load_checkpoint

    if out is None:
        raise RnnkitError("--resume needs --out DIR, the run folder to continue")
    directory = Path(out) / "checkpoint"
    if not directory.exists() and not directory.with_name("checkpoint.old").exists():
        raise RnnkitError(f"nothing to resume in {out}: it has no checkpoint; drop --resume to start a run")
    meta = task_meta(task, load_checkpoint(directory)[1])
    if meta.get("task") != task.checkpoint_task or "configs" not in meta:
        raise RnnkitError(f"{out} was not written by `rnnkit {task.name} train`; it cannot be resumed here")
    return meta


def saved_configs(task: Task, meta: dict, where="the checkpoint") -> dict:
    """A checkpoint's configs as the task's config objects, every setting checked (a checkpoint is data)."""
    stored = meta.get("configs")
    if not isinstance(stored, dict) or "model" not in stored:
        raise RnnkitError(f"corrupt checkpoint {where}: config.json lacks configs.model")
    return {key: check_config(cls, stored.get(key, {}), f"corrupt checkpoint {where}: configs.{key}")
            for key, cls in task.configs.items()}


def make_train_config(flags, steps_per_epoch: int, epochs: float = 0.0):
    """The trainer's ``TrainConfig``: ``--epochs`` (when > 0) sets the steps; ``--eval-every 0`` means
    once per epoch and ``--checkpoint-every 0`` at every evaluation."""
    from rnnkit.train.config import TrainConfig

    c = asdict(flags)
    if epochs > 0:
        c["steps"] = max(1, round(epochs * steps_per_epoch))
    c["eval_every"] = c["eval_every"] or steps_per_epoch
    c["checkpoint_every"] = c["checkpoint_every"] or c["eval_every"]
    known = {f for f in TrainConfig.__dataclass_fields__}
    extra = {k: v for k, v in c.items() if k in known}
    return TrainConfig(**{"sample_every": 0, **extra})


# ---------------------------------------------------------------------------------------------- train
def claim_run_folder(out: str | None, prefix: str, resume: bool) -> tuple[Path, list]:
    """The run folder, locked by this process before anything is checked or written in it: a new
    one (refusing a folder that holds a run) or, with ``resume``, one that holds a checkpoint.
    Returns ``(folder, made)``: ``made``, the folders this call created, the run folder first and then
    its missing parents (``runs/``); a refused run removes them again."""
    import time

    from rnnkit.train import distributed
    from rnnkit.train.files import lock_run

    run_dir = Path(out or time.strftime(f"runs/{prefix}-%Y%m%d-%H%M%S"))
    if run_dir.exists() and not run_dir.is_dir():
        raise RnnkitError(f"--out {run_dir} is a file, not a folder; choose a folder name")
    made = [p for p in (run_dir, *run_dir.parents) if not p.exists()]
    if distributed.world().writer:
        lock_run(run_dir)  # makes the folder; a second run on it is refused, naming the holder
    has_run = (run_dir / "checkpoint").exists() or (run_dir / "checkpoint.old").exists()
    try:
        if resume and not has_run:
            raise RnnkitError(f"nothing to resume in {run_dir}: it has no checkpoint; drop --resume to start a run")
        if not resume and has_run:
            raise RnnkitError(f"{run_dir} already holds a run; pass --resume to continue it or choose another --out")
    except RnnkitError:
        release_run_folder(run_dir, made)
        raise
    return run_dir, made


def release_run_folder(run_dir: Path, made: list) -> None:
    """Unlock a run folder that never held a run; remove it if this run made it and wrote nothing else,
    and the parents it made that are left empty."""
    from rnnkit.train.files import LOCK_FILE, unlock_run

    unlock_run(run_dir)
    if made and run_dir.is_dir() and {p.name for p in run_dir.iterdir()} <= {LOCK_FILE}:
        shutil.rmtree(run_dir, ignore_errors=True)
        for parent in made[1:]:
            try:
                parent.rmdir()  # only an empty folder: another run may have written there since
            except OSError:
                break


def train(task: Task, configs: dict, log=print) -> dict:
    """Train ``task`` as configured (``configs_from_flags``); returns the run's summary (``run_dir``, the
    best checkpoint's validation scores, the stopping reason)."""
    import torch

    from rnnkit.train.checkpoint import load_checkpoint, load_weights
    from rnnkit.train.memory import build_within_memory
    from rnnkit.train.trainer import Trainer, resolve_device

    flags = configs["train"]
    for config in configs.values():
        check_fields(config)
    if task.check is not None:
        task.check(configs)
    device = resolve_device(flags.device)
    run_dir, made = claim_run_folder(flags.out, task.run_prefix, flags.resume)
    try:
        torch.manual_seed(flags.seed)
        saved = task_meta(task, load_checkpoint(run_dir / "checkpoint")[1]) if flags.resume else None
        p = task.prepare(configs, saved, log, **({"run_dir": run_dir} if task.run_files else {}))
        train_config = make_train_config(flags, p.steps_per_epoch, getattr(configs["data"], "epochs", 0.0))
        model = build_within_memory(lambda: task.build(configs, p.vocabs), device, activations=p.activations)
    except BaseException:
        release_run_folder(run_dir, made)
        raise
    meta = {"task": task.checkpoint_task, "configs": {key: to_flat(c) for key, c in configs.items()}, **p.meta}
    trainer = Trainer(model, train_config, p.batches, p.evaluate, run_dir, meta, p.on_evaluate,
                      steps_per_epoch=p.steps_per_epoch, selected=p.selected)
    meta["engines"] = engines_used(trainer.model, train_config.batch_size, trainer.device)
    if flags.resume:
        trainer.resume()
        log(f"resuming {run_dir} at step {trainer.step}")
    for line in p.lines:
        log(line)
    log(task.describe(model, configs, trainer.device) + p.model_note)
    summary = trainer.fit()
    summary["run_dir"] = str(run_dir)
    if task.rescore_best:
        best, _ = load_checkpoint(run_dir / "best")
        load_weights(trainer.model, best, run_dir / "best")
    text = p.report(trainer.model, summary)
    if text:  # empty: nothing to add (a resumed run that was already complete)
        log(text)
    return summary


def engines_used(model, batch: int, device) -> list[str]:
    """The engines the model's recurrent layers run for a batch of ``batch`` rows on ``device`` (``auto``
    resolved: ``torch``, ``cpu``, ``scan``, ``fused-persistent``, ...), as stored in every checkpoint."""
    from rnnkit.layers.recurrent import Recurrent

    return sorted({m.pick_engine(batch, device) for m in model.modules() if isinstance(m, Recurrent)})


# ---------------------------------------------------------------------------------------------- load
@dataclass
class Loaded:
    """A trained model and everything needed to use it: ``model`` (a ``torch.nn.Module`` in eval mode),
    ``configs`` (config objects by key), ``vocabs`` (vocabularies, class names), ``meta`` (the
    checkpoint's ``config.json``), ``task`` (its declaration), ``path``."""

    task: Task
    model: object
    configs: dict
    vocabs: dict
    meta: dict
    path: str


def task_meta(task: Task, meta: dict) -> dict:
    """A checkpoint's meta in the current form (an older layout migrated by the task)."""
    return task.migrate(meta) if task.migrate is not None else meta


def load(path, device: str = "cpu", task: str | Task | None = None) -> Loaded:
    """Any task's checkpoint (a run folder or a checkpoint folder); with ``task``, a checkpoint of
    another task is refused in one line."""
    from rnnkit.train.checkpoint import load_checkpoint, load_weights
    from rnnkit.train.memory import build_within_memory
    from rnnkit.train.trainer import resolve_device

    expected = get_task(task) if isinstance(task, str) else task
    weights, meta = load_checkpoint(path)
    kind = meta.get("task")
    if expected is not None and kind != expected.checkpoint_task:
        raise RnnkitError(f"checkpoint {path} is not {expected.what} (its task is {kind!r})")
    if expected is None:
        if not isinstance(kind, str):
            raise RnnkitError(f"corrupt checkpoint {path}: config.json names no task")
        expected = get_task(kind)
    meta = task_meta(expected, meta)
    configs = saved_configs(expected, meta, where=path)
    vocabs = expected.vocabularies(meta, path)
    model = build_within_memory(lambda: expected.build(configs, vocabs), "cpu", training=False,
                                what=f"its sizes come from {path}'s config.json: load it on a machine with more memory")
    load_weights(model, weights, path)
    return Loaded(expected, model.to(resolve_device(device)).eval(), configs, vocabs, meta, str(path))
