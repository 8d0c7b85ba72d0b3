"""``Task``: what one task declares, and nothing more. The lifecycle it plugs into (validate, seed, own
the run folder, prepare the data, check memory, train, resume, reload the best checkpoint, report) is
written once, in ``rnnkit.tasks.runner``; the ``train`` and ``eval`` commands are generated from the
declaration by ``rnnkit.tasks.cli``.

A task folder holds ``config.py`` (its data config, training defaults and presets), ``data.py``
(reading and encoding) and ``task.py`` (the declaration, ``TASK = Task(...)``), plus ``cli.py`` only
for verbs beyond ``train`` and ``eval``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Prepared:
    """A task's data, ready for the trainer (what ``Task.prepare`` returns).

    ``batches``: ``batch(step) -> (inputs, targets, reset)``, ``stateful``; ``steps_per_epoch``;
    ``vocabs``: what ``Task.build`` needs besides the configs (vocabularies, class names: objects);
    ``meta``: the same as JSON, stored in every checkpoint (``Task.vocabularies`` reads it back);
    ``evaluate(model) -> {"val_loss": ..., ...}``; ``report(model, summary) -> str``: the final line(s),
    after the best checkpoint is reloaded (it may add scores to ``summary``); ``lines``: what the data
    is, logged before training; ``activations``: floats of activations per step, for the memory check;
    ``on_evaluate(model, step) -> str``: text shown with each evaluation (a sample); ``model_note``: text
    appended to the model line (``Task.describe``) where it names what the data sets (steps per epoch);
    ``selected``: what ``val_loss`` is where a task selects its best checkpoint by a score ("1 - F1").
    """

    batches: object
    steps_per_epoch: int
    vocabs: dict
    meta: dict
    evaluate: Callable
    report: Callable
    lines: list = field(default_factory=list)
    activations: int = 0
    on_evaluate: Callable | None = None
    model_note: str = ""
    selected: str = ""  # what ``val_loss`` is where it is not the loss ("1 - F1"): the loss is then ``val_nll``


@dataclass(frozen=True)
class Task:
    """One task, declared.

    ``configs``: ``{"data": DataConfig, "model": ModelConfig, "train": TrainFlags}`` (dataclasses whose
    fields are the ``train`` command's flags); ``presets``: named partial settings per config key.
    ``check(configs)``: what the declared ranges cannot say (a required file, two settings that
    exclude each other); runs before anything is read. ``prepare(configs, saved, log) -> Prepared``:
    ``saved`` is the checkpoint's meta when resuming (its vocabularies are kept), else None.
    ``vocabularies(meta, where) -> dict``: a checkpoint's vocabularies, checked. ``build(configs, vocabs)``:
    the model. ``describe(model, configs, device) -> str``: the model line logged before training.
    ``eval_arguments(parser)`` and ``evaluate(loaded, args) -> dict``: the ``eval`` command's own flags,
    and its scores (printed by ``evaluate``, written by ``--json``). ``verbs``: the module whose
    ``register(subparsers)`` adds the verbs beyond ``train`` and ``eval`` (its ``cli.py``). ``kind``: the checkpoint's ``task`` field; ``what``: the model in
    words for errors ("a text classifier"); ``rescore_best``: reload ``best/`` before ``report``;
    ``hint(configs) -> str``: the flags the printed ``eval`` command needs beyond ``--checkpoint``;
    ``migrate(meta) -> meta``: an older checkpoint's ``config.json`` in the current layout. ``ensemble``:
    the help of an ``eval`` whose ``--checkpoint`` may be given again (an ensemble): ``evaluate`` then gets
    a list of ``Loaded``, one per checkpoint, and ``--json`` names them as ``checkpoints``.
    ``json_checkpoint``: ``eval``'s ``--json`` file names the checkpoint (False: the scores alone, as
    forecast's always were). ``run_files``: ``prepare`` also gets ``run_dir=``, the run folder (locked),
    for a task that keeps files there (translate's split, written once and read again on resume).

    ``task.py`` imports no torch at module level (the parsers of every command are built from the
    declarations, and ``rnnkit scratch`` runs without torch): the functions import what they use.
    """

    name: str
    help: str
    description: str
    configs: dict
    prepare: Callable
    vocabularies: Callable
    build: Callable
    describe: Callable
    evaluate: Callable
    what: str
    kind: str | None = None
    presets: dict = field(default_factory=dict)
    preset_help: str = "start from a named recipe; flags given override it"
    check: Callable | None = None
    eval_arguments: Callable | None = None
    eval_help: str = "score a trained model"
    verbs: str | None = None
    rescore_best: bool = True
    prefix: str | None = None
    hint: Callable | None = None
    migrate: Callable | None = None
    ensemble: str | None = None
    json_checkpoint: bool = True
    run_files: bool = False

    @property
    def checkpoint_task(self) -> str:
        return self.kind or self.name

    @property
    def run_prefix(self) -> str:
        return self.prefix or self.name


def score_validation_file(configs) -> str:
    """``Task.hint`` of the tasks whose ``eval`` scores a labelled file: the run's ``--val`` (else ``--train``)."""
    d = configs["data"]
    return f" --data {d.val or d.train}"
