"""``rnnkit lab ...``: the course's experiments on long dependencies, each writing JSON and a figure."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from rnnkit.cli_args import (
    RnnkitParser, count, fraction, non_negative_float, number, output_file, positive_float, positive_int, seed,
)
from rnnkit.errors import RnnkitError
from rnnkit.train.files import make_folder, write_text
from rnnkit.train.progress import clock

# `lab task` defaults, chosen by the measurements in docs/lab.md
TASK_MODELS = "tanh,irnn:lr=1e-4,lstm:default:fb=1,lstm,gru,mingru"
TASK_LENGTHS = {"adding": "100,200,400", "copy": "100"}
TASK_STEPS, TASK_HIDDEN, TASK_BATCH, TASK_LR = 4000, 64, 32, 1e-2
DIGITS_MODELS, DIGITS_STEPS = "tanh,irnn:lr=1e-4,lstm:default:fb=1,gru", 1000


def _out(args, name: str) -> Path:
    out = Path(args.out or time.strftime(f"runs/lab-{name}-%Y%m%d-%H%M%S"))
    make_folder(out)
    return out


def _ints(text: str, what: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise RnnkitError(f"{what} must be comma-separated integers, got {text!r}") from None
    if any(v < 1 for v in values):
        raise RnnkitError(f"{what} must be positive, got {text!r}")
    return values


def cmd_gradient_flow(args) -> int:
    import torch

    from rnnkit.lab.gradient_flow import ModelSpec, decay_per_step, gradient_norms, recurrent_spectrum
    from rnnkit.lab.models import SequenceTaskModel
    from rnnkit.lab.plots import plot_gradient_flow
    from rnnkit.lab.sequence_tasks import make_task, train_on_task

    out = _out(args, "gradient-flow")
    curves, table = {}, []
    print(f"{'model':26s} {'network':8s} {'max|eig|':>9s} {'max sv':>7s} {'k=0':>9s} {'k=T/10':>9s} {'k=T':>9s} {'decay/step':>10s}")
    for text in args.models.split(","):
        spec = ModelSpec.parse(text)
        cell = spec.build(args.input_size, args.hidden, args.seed)
        curves[text] = {"random": gradient_norms(cell, args.T, seed=args.seed)}
        networks = [("random", cell)]
        if args.trained_steps:  # the same model after training on the adding problem
            generate, _, kwargs = make_task("adding")
            torch.manual_seed(args.seed)
            model = SequenceTaskModel(spec.cell, hidden=args.hidden, init=spec.init, spectral_radius=spec.radius,
                                      forget_bias=spec.forget_bias, **kwargs)
            train_on_task(model, generate, args.train_T, out / f"trained-{text.replace(':', '_')}", {"task": "lab-adding"},
                          steps=args.trained_steps, lr=1e-3)
            trained = model.rnn.layers[0].cell
            curves[text]["trained"] = gradient_norms(trained, args.T, seed=args.seed)
            networks.append(("trained", trained))
        for kind, c in networks:
            norms = curves[text][kind]
            row = {"model": text, "network": kind, **recurrent_spectrum(c), "norms": norms,
                   "decay_per_step": decay_per_step(norms)}
            table.append(row)
            print(f"{text:26s} {kind:8s} {row['max_abs_eigenvalue']:9.3f} {row['max_singular_value']:7.3f} "
                  f"{norms[0]:9.2e} {norms[len(norms) // 10]:9.2e} {norms[-1]:9.2e} {row['decay_per_step']:10.4f}")
    write_text(out / "gradient_flow.json", json.dumps({"T": args.T, "hidden": args.hidden, "results": table}))
    plot_gradient_flow(curves, out / "gradient_flow.png", args.T)
    print(f"wrote {out / 'gradient_flow.json'} and {out / 'gradient_flow.png'}")
    return 0


def cmd_exploding(args) -> int:
    from rnnkit.lab.exploding import clipping_demo, plot_clipping

    out = _out(args, "exploding")
    results = clipping_demo(args.corpus, str(out), radius=args.spectral_radius, lr=args.lr, clip=args.clip,
                            steps=args.steps, hidden=args.hidden, seed=args.seed)
    write_text(out / "exploding.json", json.dumps(results))
    plot_clipping(results, out / "exploding.png")
    print(f"wrote {out / 'exploding.json'} and {out / 'exploding.png'}")
    return 0


def _task_line(r: dict) -> str:
    name = r["name"] + (" (interrupted: Ctrl-C)" if r.get("stopped") == "interrupted" else "")
    return (f"| {name} | {'1 step (SRN)' if r['truncate'] else 'full'} | {r['T']} | {r['lr']:g} | {r['steps']} | "
            f"{r['solved_at'] or '-'} | {r['test_loss']:.4f} | {r['baseline']:.4f} | {r['ratio']:.3f} | "
            f"{r['seconds']:.0f} / {r['cpu_seconds']:.0f} | {r['engine']} |")


def _task_report(rows: list[dict], task: str, out: Path, figure, solved: float, wall: float) -> None:
    """results.md (the table, with the wall and CPU time), results.json and the figure of the curves."""
    from rnnkit.lab.plots import plot_curves

    metric = "MSE" if task == "adding" else "cross-entropy"
    lines = [f"| model | BPTT | T | lr | steps | solved at | test {metric} | baseline | ratio | wall / CPU s | engine |",
             "|---|---|---|---|---|---|---|---|---|---|---|"] + [_task_line(r) for r in rows]
    cpu = sum(r["cpu_seconds"] for r in rows)
    lines.append(f"\nwall time {wall / 60:.1f} min for the table (training CPU time {cpu / 60:.1f} min)")
    write_text(out / "results.json", json.dumps({"task": task, "wall_seconds": wall, "solved": solved, "runs": rows}))
    write_text(out / "results.md", "\n".join(lines) + "\n")
    figure = Path(figure) if figure else out / f"{task}.png"
    plot_curves(rows, figure, f"test {metric}", "baseline (memoryless)", solved)
    print(lines[-1].strip())
    print(f"wrote {out / 'results.md'} and {figure}")


def cmd_task(args) -> int:
    from rnnkit.lab.sequence_tasks import run_task

    out = _out(args, f"task-{args.task}")
    rows = []
    metric = "MSE" if args.task == "adding" else "cross-entropy"
    lengths, models = _ints(args.T or TASK_LENGTHS[args.task], "--T"), args.models.split(",")
    total = len(lengths) * len(models)
    print(f"{total} trainings ({len(models)} models x {len(lengths)} lengths, each up to {args.steps} steps); a row "
          "appears as each ends, with the time left; Ctrl-C ends the table at the row being trained",
          file=sys.stderr, flush=True)
    print(f"| model | BPTT | T | lr | steps | solved at | test {metric} | baseline | ratio | wall / CPU s | engine |")
    started = time.perf_counter()
    for T in lengths:
        for name in models:
            spec, truncate = ("elman", 1) if name == "srn" else (name, 0)
            r = run_task(args.task, spec, T, hidden=args.hidden, truncate=truncate, seed=args.seed, out=out,
                         steps=args.steps, batch_size=args.batch_size, lr=args.lr, clip=args.clip,
                         eval_every=args.eval_every, solved_fraction=args.solved or None)
            rows.append({**r.__dict__, "ratio": r.ratio, "name": name})
            print(_task_line(rows[-1]), flush=True)
            done, spent = len(rows), time.perf_counter() - started
            if done < total and r.stopped != "interrupted":
                print(f"  {done} of {total} trainings done in {clock(spent)}; about {clock(spent / done * (total - done))}"
                      " left", file=sys.stderr, flush=True)
            if r.stopped == "interrupted":  # Ctrl-C: the table ends here, with what was done
                break
        if rows and rows[-1]["stopped"] == "interrupted":
            break
    _task_report(rows, args.task, out, args.figure, args.solved, time.perf_counter() - started)
    return 0


def cmd_merge(args) -> int:
    """One table and one figure from several ``lab task`` (or ``lab digits``) folders, e.g. one process per
    length T; a model and length (or variant) found twice keeps its longest run."""
    out = _out(args, "merge")
    runs, tasks, wall = [], set(), 0.0
    for folder in args.folders:
        path = Path(folder) / "results.json"
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            raise RnnkitError(f"cannot read {path} (a `rnnkit lab task` or `lab digits` output folder holds "
                              f"one): {e}") from None
        for r in data["runs"]:  # a model and length run twice (a re-run, an interrupted table): the longest run
            key = (r["name"], r["T"], r.get("variant"))
            same = [i for i, q in enumerate(runs) if (q["name"], q["T"], q.get("variant")) == key]
            if not same:
                runs.append(r)
            elif r["steps"] > runs[same[0]]["steps"]:
                runs[same[0]] = r
        tasks.add(data.get("task", "digits"))
        wall = max(wall, data["wall_seconds"])  # the folders ran side by side
    if len(tasks) != 1:
        raise RnnkitError(f"the folders hold results of different tasks ({', '.join(sorted(tasks))}); merge one task")
    task = tasks.pop()
    models = list(dict.fromkeys(TASK_MODELS.split(",") + DIGITS_MODELS.split(",") + [r["name"] for r in runs]))
    variants = ["pixel", "permuted", "row", None]
    runs.sort(key=lambda r: (variants.index(r.get("variant")), r["T"], models.index(r["name"])))  # the default order
    if task == "digits":
        _digits_report(runs, out, args.figure, wall)
    else:
        _task_report(runs, task, out, args.figure, args.solved, wall)
    return 0


def _digits_line(r: dict) -> str:
    if r["test_loss"] is None:
        scores = f"diverged at step {r['diverged_at']} | - "
    else:
        late = f" (best before divergence at step {r['diverged_at']})" if r["diverged_at"] is not None else ""
        scores = f"{r['test_accuracy']:.3f}{late} | {r['test_loss']:.3f} "
    return (f"| {r['variant']} | {r['T']} | {r['name']} | {r['lr']:g} | {r['steps']} | {scores}| "
            f"{r['seconds']:.0f} / {r['cpu_seconds']:.0f} | {r['engine']} |")


DIGITS_HEADER = "| variant | T | model | lr | steps | test accuracy | test cross-entropy | wall / CPU s | engine |"


def _digits_report(rows: list[dict], out: Path, figure, wall: float) -> None:
    """results.md, results.json and the figure of the validation-accuracy curves, one panel per variant."""
    from rnnkit.lab.plots import plot_curves

    lines = [DIGITS_HEADER, "|---|---|---|---|---|---|---|---|---|"] + [_digits_line(r) for r in rows]
    cpu = sum(r["cpu_seconds"] for r in rows)
    lines.append(f"\nwall time {wall / 60:.1f} min for the table (training CPU time {cpu / 60:.1f} min)")
    write_text(out / "results.json", json.dumps({"task": "digits", "wall_seconds": wall, "runs": rows}))
    write_text(out / "results.md", "\n".join(lines) + "\n")
    figure = Path(figure) if figure else out / "digits.png"
    plot_curves([{**r, "T": r["variant"]} for r in rows], figure, "validation accuracy", "chance (10 classes)",
                log=False, panel="")
    print(lines[-1].strip())
    print(f"wrote {out / 'results.md'} and {figure}")


def cmd_digits(args) -> int:
    from rnnkit.lab.digits import run_digits

    out = _out(args, "digits")
    rows = []
    print(DIGITS_HEADER)
    started = time.perf_counter()
    for variant in args.variants.split(","):
        for name in args.models.split(","):
            r = run_digits(variant, name, out, hidden=args.hidden, steps=args.steps, batch_size=args.batch_size,
                           lr=args.lr, clip=args.clip, eval_every=args.eval_every, seed=args.seed)
            rows.append({**r, "name": name, "baseline": 0.1})
            print(_digits_line(rows[-1]), flush=True)
    _digits_report(rows, out, args.figure, time.perf_counter() - started)
    diverged = [f"{r['variant']} {r['name']}" for r in rows if r["diverged_at"] is not None]
    if diverged:  # the table is written, but a diverged run is not a result: exit 2, as training does
        raise RnnkitError(f"{len(diverged)} of {len(rows)} runs diverged ({', '.join(diverged[:4])}"
                          f"{' ...' if len(diverged) > 4 else ''}); their rows say so; lower --lr or clip the "
                          "gradient (--clip)")
    return 0


def cmd_esn(args) -> int:
    from rnnkit.lab.esn import mackey_glass
    from rnnkit.data.series import read_series
    from rnnkit.lab.esn_eval import echo_state_distance, evaluate_series
    from rnnkit.lab.plots import plot_series

    out = _out(args, "esn")
    options = dict(reservoir_size=args.reservoir, spectral_radius=args.spectral_radius, leak_rate=args.leak_rate,
                   input_scaling=args.input_scaling, ridge=args.ridge, seed=args.seed)
    series = {"mackey-glass": mackey_glass(3000)}
    for path in args.series:
        series[Path(path).stem] = read_series(path).values
    results = {}
    for name, values in series.items():
        r = evaluate_series(values, horizon=args.horizon, **options)
        results[name] = r
        multi = next(k for k in r if k.startswith("multi_step_nrmse"))
        print(f"{name:24s} one-step NRMSE {r['one_step_nrmse']:.4f} (naive {r['naive_one_step_nrmse']:.4f}), "
              f"{multi.rsplit('_', 1)[1]}-step closed-loop NRMSE {r[multi]:.4f}, {r['test_points']} test points")
        plot_series(r["multi_step_truth"], r["multi_step_prediction"], out / f"esn-{name}.png",
                    f"ESN on {name}: {len(r['multi_step_truth'])} steps closed loop")
    distance = echo_state_distance(**{k: v for k, v in options.items() if k != "ridge"})
    results["echo_state_distance"] = distance
    print(f"echo-state property: two initial states, same input: distance {distance[0]:.3g} at t=1, "
          f"{distance[-1]:.3g} at t={len(distance)}")
    write_text(out / "esn.json", json.dumps(results))
    print(f"wrote {out / 'esn.json'} and the esn-*.png figures")
    return 0


def cmd_mtrnn(args) -> int:
    from rnnkit.lab.mtrnn import compare_timescales

    out = _out(args, "mtrnn")
    print(f"training two models of {args.steps} steps each (the MTRNN, then the one-timescale RNN); each says when it "
          "starts and its progress", file=sys.stderr, flush=True)
    results = compare_timescales(steps=args.steps, horizon=args.horizon, tau_slow=args.tau_slow, seed=args.seed, out=out)
    for name, value in results.items():
        print(f"{name:28s} test MSE {value:.4f}")
    write_text(out / "mtrnn.json", json.dumps(results))
    return 0


def register(subparsers) -> None:
    lab = subparsers.add_parser("lab", help="the course's experiments on long dependencies")
    sub = lab.add_subparsers(dest="lab_command", metavar="experiment", required=True)
    common = RnnkitParser(add_help=False)
    common.add_argument("--out", default=None, help="folder for the results (default: runs/lab-<experiment>-<time>)")
    common.add_argument("--seed", type=seed, default=0, help="random seed (default: 0)")
    common.add_argument("--threads", type=number(int, low=0, high=4096), default=None,
                        help="CPU threads for torch (default: 1; 0: torch's default, one per core)")

    p = sub.add_parser("gradient-flow", parents=[common], help="norm of dL/dh_{T-k} for k = 0..T, per cell and init")
    p.add_argument("--models", default="elman,elman-relu:spectral=2,irnn,lstm:default:fb=5,gru:default:fb=5,lstm",
                   help="comma-separated cell[:init[=radius]][:fb=forget_bias]; irnn = elman-relu:identity")
    p.add_argument("--T", type=positive_int, default=1000, help="sequence length (default: 1000)")
    p.add_argument("--hidden", type=positive_int, default=64, help="hidden units (default: 64)")
    p.add_argument("--input-size", type=positive_int, default=2, help="input features of the random input (default: 2)")
    p.add_argument("--trained-steps", type=count, default=300,
                   help="also measure each model after this many steps on the adding problem (0: random only)")
    p.add_argument("--train-T", type=positive_int, default=50, help="sequence length of that training (default: 50)")
    p.set_defaults(func=cmd_gradient_flow)

    p = sub.add_parser("exploding", parents=[common], help="a run that diverges without clipping and trains with it")
    p.add_argument("--corpus", default=None, help="text to train on (default: the embedded corpus)")
    p.add_argument("--steps", type=positive_int, default=300, help="training steps per run (default: 300)")
    p.add_argument("--lr", type=positive_float, default=1.0, help="SGD learning rate (default: 1.0)")
    p.add_argument("--spectral-radius", type=positive_float, default=1.5, help="initial spectral radius of W_hh (default: 1.5)")
    p.add_argument("--clip", type=positive_float, default=1.0, help="gradient-norm threshold of the clipped run (default: 1)")
    p.add_argument("--hidden", type=positive_int, default=128, help="hidden units (default: 128)")
    p.set_defaults(func=cmd_exploding)

    p = sub.add_parser("task", parents=[common], help="train models on the adding or copy-memory task")
    p.add_argument("task", choices=["adding", "copy"], help="adding (MSE, baseline 0.167) or copy (cross-entropy)")
    p.add_argument("--models", default=TASK_MODELS,
                   help="comma-separated models: any cell spec (see gradient-flow) with an optional :lr=<its own "
                        f"learning rate>, or srn (tanh, BPTT truncated to 1 step) (default: {TASK_MODELS})")
    p.add_argument("--T", default=None, help="comma-separated sequence lengths (default: 100,200,400 for adding, "
                                            "100 for copy)")
    p.add_argument("--steps", type=positive_int, default=TASK_STEPS,
                   help=f"most training steps per run; a solved run stops earlier (default: {TASK_STEPS})")
    p.add_argument("--hidden", type=positive_int, default=TASK_HIDDEN, help=f"hidden units (default: {TASK_HIDDEN})")
    p.add_argument("--batch-size", type=positive_int, default=TASK_BATCH, help=f"sequences per batch (default: {TASK_BATCH})")
    p.add_argument("--lr", type=positive_float, default=TASK_LR, help=f"Adam learning rate (default: {TASK_LR:g})")
    p.add_argument("--clip", type=non_negative_float, default=1.0, help="gradient-norm clipping (default: 1)")
    p.add_argument("--eval-every", type=positive_int, default=100, help="test-set evaluation every N steps (default: 100)")
    p.add_argument("--solved", type=non_negative_float, default=0.01,
                   help="stop a run once its test loss is below this fraction of the baseline (0: never; default: 0.01)")
    p.add_argument("--figure", type=output_file, default=None, help="where to draw the test-loss curves (default: <out>/<task>.png)")
    p.set_defaults(func=cmd_task)

    p = sub.add_parser("merge", parents=[common],
                       help="one table and figure from several `lab task` or `lab digits` folders (runs made side by side)")
    p.add_argument("folders", nargs="+", help="output folders of `rnnkit lab task` or `lab digits` (each holds results.json)")
    p.add_argument("--solved", type=non_negative_float, default=0.01, help="the solved level drawn (default: 0.01)")
    p.add_argument("--figure", type=output_file, default=None, help="where to draw the curves (default: <out>/<task>.png)")
    p.set_defaults(func=cmd_merge)

    p = sub.add_parser("digits", parents=[common],
                       help="classify scikit-learn's 8x8 digits read one pixel (or row) per step, also permuted")
    p.add_argument("--variants", default="pixel,permuted",
                   help="comma-separated: pixel (T = 64), permuted (T = 64, pixel order fixed by --seed), "
                        "row (T = 8) (default: pixel,permuted)")
    p.add_argument("--models", default=DIGITS_MODELS,
                   help=f"comma-separated model specs, as for `lab task` (default: {DIGITS_MODELS})")
    p.add_argument("--steps", type=positive_int, default=DIGITS_STEPS, help=f"training steps per run (default: {DIGITS_STEPS})")
    p.add_argument("--hidden", type=positive_int, default=64, help="hidden units (default: 64)")
    p.add_argument("--batch-size", type=positive_int, default=32, help="images per batch (default: 32)")
    p.add_argument("--lr", type=positive_float, default=TASK_LR, help=f"Adam learning rate (default: {TASK_LR:g})")
    p.add_argument("--clip", type=non_negative_float, default=1.0, help="gradient-norm clipping (default: 1)")
    p.add_argument("--eval-every", type=positive_int, default=100, help="validation every N steps (default: 100)")
    p.add_argument("--figure", type=output_file, default=None, help="where to draw the accuracy curves (default: <out>/digits.png)")
    p.set_defaults(func=cmd_digits)

    p = sub.add_parser("esn", parents=[common], help="echo-state network on Mackey-Glass and real series")
    p.add_argument("--series", nargs="*", default=[], help="CSV files (date,value) to evaluate besides Mackey-Glass")
    p.add_argument("--reservoir", type=positive_int, default=200, help="reservoir units (default: 200)")
    p.add_argument("--spectral-radius", type=positive_float, default=0.9, help="spectral radius of the reservoir (default: 0.9)")
    p.add_argument("--leak-rate", type=fraction, default=0.5, help="leak rate a in (0, 1] (default: 0.5)")
    p.add_argument("--input-scaling", type=positive_float, default=1.0, help="scale of the input weights (default: 1)")
    p.add_argument("--ridge", type=non_negative_float, default=1e-2, help="ridge regularisation of the readout (default: 0.01)")
    p.add_argument("--horizon", type=positive_int, default=50, help="closed-loop prediction steps (default: 50)")
    p.set_defaults(func=cmd_esn)

    p = sub.add_parser("mtrnn", parents=[common], help="fast and slow leaky layers against one timescale")
    p.add_argument("--steps", type=positive_int, default=600, help="training steps per model (default: 600)")
    p.add_argument("--horizon", type=positive_int, default=20, help="steps ahead to forecast (default: 20)")
    p.add_argument("--tau-slow", type=number(float, low=1.0), default=30.0, help="time constant of the slow layer (default: 30)")
    p.set_defaults(func=cmd_mtrnn)
