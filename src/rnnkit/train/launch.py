"""Scale-out from the command line: ``--nproc N`` on every training command starts torchrun itself
(PyTorch's elastic launcher, ``python -m torch.distributed.run``), and a process that torchrun started
is prepared before its command runs.

    rnnkit train --nproc 2 --out runs/lm2 ...                  # = torchrun --standalone --nproc-per-node 2 -m rnnkit train --out runs/lm2 ...
    torchrun --nproc-per-node 2 --max-restarts 3 -m rnnkit classify train --out runs/c ...
    torchrun --nnodes 2 --node-rank K --rdzv-backend c10d --rdzv-endpoint HOST:PORT --nproc-per-node G -m rnnkit ...

Under torchrun (``WORLD_SIZE`` > 1) every rank needs the same ``--out``; ranks other than 0 print
nothing on stdout (their errors still reach stderr); and after an elastic restart
(``TORCHELASTIC_RESTART_COUNT`` > 0) a run folder holding a checkpoint is resumed, as ``--resume`` would.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from rnnkit.cli_args import count
from rnnkit.errors import RnnkitError

#: The launcher's own flags, removed from the command that torchrun runs on every rank.
LAUNCH_FLAGS = ("--nproc", "--max-restarts")


def _training_parsers(parser: argparse.ArgumentParser):
    """Every (sub)command parser below ``parser`` that trains: the ones with ``--resume``."""
    if "--resume" in parser._option_string_actions:
        yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from _training_parsers(child)


def attach_launcher(parser: argparse.ArgumentParser) -> None:
    """Add ``--nproc`` and ``--max-restarts`` to every training command, and prepare its workers."""
    for p in _training_parsers(parser):
        group = p.add_argument_group("scale-out (torchrun)")
        group.add_argument("--nproc", type=count, default=0, metavar="N",
                           help="start N data-parallel training processes on this machine with torchrun; "
                           "--batch-size is then the global batch, split evenly across them (default: 0, one process)")
        group.add_argument("--max-restarts", type=count, default=0, metavar="K",
                           help="with --nproc: restart the group up to K times after a process fails; it resumes "
                           "from the last checkpoint (default: 0)")
        p.set_defaults(func=_entry(p.get_default("func")))


def _entry(func):
    def run(args) -> int:
        if args.nproc:
            return launch(args)
        prepare_worker(args)
        return func(args)

    return run


def prepare_worker(args) -> None:
    """Under torchrun: quiet stdout on ranks > 0, demand ``--out``, resume after an elastic restart."""
    if int(os.environ.get("WORLD_SIZE", "1") or 1) <= 1:
        return  # one process: torch is not even imported here (``rnnkit scratch`` stays NumPy-only)
    from rnnkit.train.distributed import fail, restart_count, world

    w = world()
    if not w.active:
        return
    follow_launcher(w.rank)
    if w.rank:
        sys.stdout = open(os.devnull, "w")
    out = getattr(args, "out", None)
    if out is None:
        fail("under torchrun, give --out DIR: every rank, and every restart, must find the same run folder")
    if restart_count() and not getattr(args, "resume", False) and _has_checkpoint(out):
        args.resume = True
        print(f"torchrun restart {restart_count()}: resuming {out} from its last checkpoint", flush=True)


def follow_launcher(rank: int, every: float = 0.5) -> None:
    """End this training process when its launcher (the torchrun agent: ``rnnkit --nproc`` itself, or
    ``torchrun``) is gone, even by ``kill -9``: a worker left running would go on holding the run
    folder's lock and writing into it. A daemon thread compares the parent's PID with the one the
    launcher recorded (``RNNKIT_LAUNCHER_PID``; else the parent at start) every ``every`` seconds; the
    last checkpoint stays as it was (its writes are atomic), so ``--resume`` continues the run."""
    import threading

    launcher = int(os.environ.get("RNNKIT_LAUNCHER_PID", "0") or 0) or os.getppid()

    def watch():
        while os.getppid() == launcher:
            time.sleep(every)
        print(f"error: the launcher of this training process (rank {rank}, PID {os.getpid()}) ended (its PID "
              f"{launcher}); stopping too: the last checkpoint is intact, continue with --resume", file=sys.stderr,
              flush=True)
        os._exit(2)  # at once, from this thread: the main thread may be inside a collective that never returns

    threading.Thread(target=watch, name="rnnkit-launcher-watch", daemon=True).start()


def _has_checkpoint(out) -> bool:
    from rnnkit.train.checkpoint import find_checkpoint

    try:
        find_checkpoint(Path(out) / "checkpoint")
        return True
    except RnnkitError:
        return False


def _without_launch_flags(argv: list[str]) -> list[str]:
    kept, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a in LAUNCH_FLAGS:
            skip = True
        elif not a.startswith(tuple(f + "=" for f in LAUNCH_FLAGS)):
            kept.append(a)
    return kept


def launch(args) -> int:
    """Run this command on ``--nproc`` ranks under torchrun (in this process, as torchrun's agent)."""
    from rnnkit.train.distributed import world

    n, restarts = args.nproc, args.max_restarts
    if world().active:
        raise RnnkitError("--nproc starts torchrun itself; a process that torchrun started must not pass it")
    if n < 1 or restarts < 0:
        raise RnnkitError(f"--nproc must be >= 1 and --max-restarts >= 0, got {n} and {restarts}")
    raw = sys.argv[1:]
    if not any(a == "--nproc" or a.startswith("--nproc=") for a in raw):
        raise RnnkitError("--nproc works from the command line; from Python, start torchrun")
    batch = getattr(args, "batch_size", None)
    if batch is not None and batch % n:
        raise RnnkitError(f"--batch-size {batch} is the global batch and must divide evenly across {n} "
                          f"processes; use a multiple of {n}")
    argv = _without_launch_flags(raw)
    if getattr(args, "out", None) is None:  # every rank and every restart must use one folder
        prefix = "lm" if argv[0] == "train" else argv[0]
        argv += ["--out", time.strftime(f"runs/{prefix}-%Y%m%d-%H%M%S")]
    os.environ["RNNKIT_LAUNCHER_PID"] = str(os.getpid())  # the workers end when this process does (follow_launcher)
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # torchrun's own choice, without its warning
    os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "ERROR")  # DDP's first-step note on find_unused_parameters
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    for name in list(logging.root.manager.loggerDict):  # the agent's own log lines; rnnkit says what failed
        if name.startswith("torch.distributed.elastic"):
            logging.getLogger(name).setLevel(logging.CRITICAL)

    torchrun = get_args_parser().parse_args(["--standalone", f"--nproc-per-node={n}", f"--max-restarts={restarts}",
                                             "--module", "rnnkit", *argv])
    try:
        run(torchrun)
    except ChildFailedError as e:
        rank, failure = e.get_first_failure()
        if failure.exitcode == 2:  # the process said what was wrong, in one line
            return 2
        how = f"signal {failure.signal_name()}" if failure.exitcode < 0 else f"exit code {failure.exitcode}"
        raise RnnkitError(f"training process rank {rank} failed ({how}) and no restart was left "
                          f"(--max-restarts {restarts}); its messages are above") from None
    return 0
