"""Every task's ``train`` and ``eval`` commands, generated from its declaration (``rnnkit.tasks.spec.Task``):
one flag per config field, one set of ``--checkpoint``/``--device``/``--json`` flags, one printed hint
that runs as written; then the task's own verbs (``Task.verbs``). ``train(task, **settings)`` is the
same command from Python, validated by the same parser.
"""

from __future__ import annotations

import json

from rnnkit.cli_args import add_config_groups, output_file


def add_checkpoint_flags(parser, json_help: str = "also write the scores to this JSON file",
                         ensemble: str | None = None) -> None:
    """``--checkpoint`` (required), ``--device``, and ``--json`` when ``json_help``: every command that reads a run.
    ``ensemble``: ``--checkpoint`` may be given again (a list), with this help."""
    if ensemble:
        parser.add_argument("--checkpoint", required=True, action="append", help=ensemble)
    else:
        parser.add_argument("--checkpoint", required=True, help="run folder or checkpoint folder")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto (default: cpu)")
    if json_help:
        parser.add_argument("--json", type=output_file, default=None, help=json_help)


def add_train_parser(sub, task, name: str = "train", **kwargs):
    """The ``train`` command of ``task`` under ``sub`` (``rnnkit <task> train``, or ``rnnkit train`` for the LM)."""
    p = sub.add_parser(name, help=kwargs.pop("help", task.help), description=task.description, **kwargs)
    if task.presets:
        p.add_argument("--preset", default=None, help=task.preset_help)
    add_config_groups(p, task.configs)
    p.set_defaults(func=lambda args: cmd_train(task.name, args))
    return p


def add_eval_parser(sub, task, name: str = "eval", **kwargs):
    p = sub.add_parser(name, help=kwargs.pop("help", task.eval_help), **kwargs)
    add_checkpoint_flags(p, ensemble=task.ensemble)
    if task.eval_arguments is not None:
        task.eval_arguments(p)
    p.set_defaults(func=lambda args: cmd_eval(task.name, args))
    return p


def register_task(subparsers, task) -> None:
    """``rnnkit <task> train|eval|<the task's verbs>``."""
    parser = subparsers.add_parser(task.name, help=task.help)
    sub = parser.add_subparsers(dest=f"{task.name}_command", metavar="action", required=True)
    add_train_parser(sub, task, help=f"train: {task.help}")
    add_eval_parser(sub, task)
    if task.verbs is not None:
        import importlib

        importlib.import_module(task.verbs).register(sub)


def given_flags(task, args) -> dict:
    from rnnkit.cli_args import given

    return {key: given(args, cls) for key, cls in task.configs.items()}


def cmd_train(name: str, args) -> int:
    from rnnkit.tasks import runner

    task = runner.get_task(name)
    configs = runner.configs_from_flags(task, given_flags(task, args), getattr(args, "preset", None))
    summary = runner.train(task, configs)
    run = summary["run_dir"]
    extra = task.hint(configs) if task.hint is not None else ""
    verb = "rnnkit eval" if task.name == "lm" else f"rnnkit {task.name} eval"
    print(f"checkpoints in {run}/best and {run}/checkpoint, loss plot {run}/loss.png; "
          f"score it with: {verb} --checkpoint {run}{extra}")
    return 0


def cmd_eval(name: str, args) -> int:
    from rnnkit.tasks import runner

    task = runner.get_task(name)
    if task.ensemble:  # one Loaded per --checkpoint given
        loaded = [runner.load(path, args.device, task) for path in args.checkpoint]
    else:
        loaded = runner.load(args.checkpoint, args.device, task)
    scores = task.evaluate(loaded, args)
    if getattr(args, "json", None):
        from rnnkit.train.files import write_text

        named = {"checkpoints" if task.ensemble else "checkpoint": args.checkpoint} if task.json_checkpoint else {}
        write_text(args.json, json.dumps({**named, **scores}, indent=2))
    return 0


def settings_to_argv(task, settings: dict) -> list[str]:
    """``hidden=64, bidirectional=True, time=60`` -> ``--hidden 64 --bidirectional --time 60``; names
    that are not flags of the task's ``train`` command are refused with the valid ones."""
    from rnnkit.errors import unknown_choice
    from rnnkit.schema import flat_fields

    names = {f.name for cls in task.configs.values() for f in flat_fields(cls)} | ({"preset"} if task.presets else set())
    argv = []
    for name, value in settings.items():
        if name not in names:
            raise unknown_choice(f"setting of {task.name}", name, names)
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            argv.append(flag if value else "--no-" + name.replace("_", "-"))
        elif value is not None:
            argv += [flag, str(value)]
    return argv


def train(task: str, **settings) -> dict:
    """Train ``task`` from Python, each setting the name of one of its ``train`` flags with underscores:
    ``rnnkit.tasks.train("classify", train="reviews.tsv", hidden=64, time=60, out="runs/rev")``. Settings
    are validated exactly as the flags are (the same parser); a bad one raises ``RnnkitError`` with the
    flag's one-line message. Returns the summary: ``run_dir``, the best checkpoint's scores, ``stopped``."""
    from rnnkit.cli import build_parser
    from rnnkit.cli_args import RnnkitParser
    from rnnkit.runtime import cli_runtime
    from rnnkit.tasks import runner

    spec = runner.get_task(task)
    argv = ([] if spec.name == "lm" else [spec.name]) + ["train", *settings_to_argv(spec, settings)]
    with RnnkitParser.raising():
        args = build_parser().parse_args(argv)
    configs = runner.configs_from_flags(spec, given_flags(spec, args), getattr(args, "preset", None))
    with cli_runtime(getattr(args, "threads", None)):
        return runner.train(spec, configs)
