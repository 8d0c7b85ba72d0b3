"""``rnnkit summary RUN``: what a trained model of any task is made of: each module (indented by depth) with
its type, the shapes of its own parameters and its parameter count (its own and its children's), then the
total and the settings the run was trained with. ``summarize(model)`` is the same table from Python.
"""

from __future__ import annotations

#: How deep the table goes by default: down to the cells inside the layers of every model of rnnkit.
MAX_DEPTH_DEFAULT = 6


def rows(model, max_depth: int = MAX_DEPTH_DEFAULT) -> list[dict]:
    """One row per module down to ``max_depth``: ``name``, ``depth``, ``type``, ``shapes`` (its own
    parameters), ``params`` (its own and its descendants')."""
    out = []
    for name, module in model.named_modules():
        depth = 0 if not name else name.count(".") + 1
        if depth > max_depth:
            continue
        own = list(module.named_parameters(recurse=False))
        out.append({"name": name or "(model)", "depth": depth, "type": type(module).__name__,
                    "shapes": {n: list(p.shape) for n, p in own},
                    "params": sum(p.numel() for p in module.parameters())})
    return out


def summarize(model, max_depth: int = MAX_DEPTH_DEFAULT) -> str:
    """The table, as text."""
    table = rows(model, max_depth)
    width = max(len("  " * r["depth"] + r["name"].rsplit(".", 1)[-1]) for r in table) + 2
    kinds = max(len(r["type"]) for r in table) + 2
    lines = [f"{'module':<{width}}{'type':<{kinds}}{'parameters':>12}  own parameters (shape)"]
    for r in table:
        label = "  " * r["depth"] + (r["name"].rsplit(".", 1)[-1] if r["depth"] else r["name"])
        shapes = ", ".join(f"{n} {'x'.join(map(str, s)) or 'scalar'}" for n, s in r["shapes"].items())
        lines.append(f"{label:<{width}}{r['type']:<{kinds}}{r['params']:>12,}  {shapes}")
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    lines.append(f"total: {total:,} parameters ({trainable:,} trainable)")
    return "\n".join(lines)


def cmd_summary(args) -> int:
    from rnnkit.schema import to_flat
    from rnnkit.tasks.runner import load

    run = load(args.run, args.device)
    print(f"{run.path}: {run.task.what} (rnnkit {run.task.name}), step {run.meta.get('step', '?')}")
    print(summarize(run.model, args.depth))
    for key, config in run.configs.items():
        flat = to_flat(config)
        print(f"{key}: " + ", ".join(f"{k}={v}" for k, v in flat.items()))
    return 0


def register(sub) -> None:
    from rnnkit.cli_args import count

    p = sub.add_parser("summary", help="a trained model's modules, parameter shapes and counts, and its settings",
                       description="The modules of a trained model of any task (a run folder or a checkpoint "
                       "folder), each with its type, the shapes of its own parameters and its parameter count, "
                       "then the total and the settings it was trained with.")
    p.add_argument("run", help="a run folder (its best/ checkpoint is read) or a checkpoint folder")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (default: cpu)")
    p.add_argument("--depth", type=count, default=MAX_DEPTH_DEFAULT,
                   help=f"show modules down to this depth (default: {MAX_DEPTH_DEFAULT})")
    p.set_defaults(func=cmd_summary)
