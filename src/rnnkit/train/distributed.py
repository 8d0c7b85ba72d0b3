"""Data-parallel training under ``torchrun``: the world (rank, size), the process group, the DDP
wrapper, each rank's share of a batch, and the few values the ranks must agree on.

In one process (no ``WORLD_SIZE`` in the environment, or 1) every function here is a no-op and the
trainer runs exactly as before. Under torchrun, every rank holds a full copy of the model; step k's
global batch of B rows (a pure function of k) is cut into W equal parts, rank r computes the loss of
its rows ``[rB/W, (r+1)B/W)``, and DDP averages the W gradients during the backward pass:

    g = (1/W) sum_r w_r g_r,   w_r = W m_r / m   (m_r of the batch's m rows are rank r's; w_r = 1 when even)

which is the gradient of the mean loss over all m rows, the one a single process computes (up to the
order of floating-point sums). Every copy takes the same optimiser step, so the weights and the
optimiser state stay replicas; what differs per rank is the carried recurrent state (its rows) and
the RNG state (dropout), which ``gather_rows`` and ``gather_rank_tensors`` collect for the checkpoint.

The process group: gloo on a CPU, NCCL on a GPU. Before it, every rank counts itself in on the
rendezvous store and waits at most ``RNNKIT_JOIN_TIMEOUT`` seconds (default 300) for the others, so a
rank that never comes gives one clear line instead of a hang.
"""

from __future__ import annotations

import os
import sys
import time
import weakref
from dataclasses import dataclass
from datetime import timedelta

import torch

from rnnkit.errors import RnnkitError


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def active(self) -> bool:
        """More than one process: the distributed code paths are on."""
        return self.size > 1

    @property
    def writer(self) -> bool:
        """Rank 0 alone writes metrics, plots, samples and checkpoints, and prints."""
        return self.rank == 0


class NullLog:
    """The metrics log of a rank other than 0: it writes and reads nothing (rank 0 keeps the log)."""

    def write(self, **record) -> None:
        pass

    def read(self) -> list:
        return []


def world() -> World:
    """The world torchrun describes in the environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``)."""
    try:
        size = int(os.environ.get("WORLD_SIZE", "1"))
        rank, local = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    except ValueError:
        raise RnnkitError("RANK, WORLD_SIZE and LOCAL_RANK must be integers (torchrun sets them)") from None
    if size < 1 or not 0 <= rank < size:
        raise RnnkitError(f"RANK {rank} is not in 0..WORLD_SIZE-1 (WORLD_SIZE {size})")
    return World(rank, size, local)


def restart_count() -> int:
    """How many times torchrun restarted the group (``--max-restarts``); 0 on the first attempt."""
    return int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") or 0)


def fail(message: str):
    """A setting every rank finds wrong alike: rank 0 says it in one line, the others leave quietly."""
    if world().writer:
        raise RnnkitError(message)
    raise SystemExit(2)


def check_batch(batch_size: int) -> None:
    w = world()
    if w.active and batch_size % w.size:
        lower, upper = batch_size // w.size * w.size, (batch_size // w.size + 1) * w.size
        fail(f"--batch-size {batch_size} is the global batch and must divide evenly across {w.size} ranks; "
             f"use a multiple of {w.size} such as {lower or upper} or {upper}")


def local_device(device: torch.device) -> torch.device:
    """This rank's device: ``cuda:LOCAL_RANK`` for a GPU run under torchrun, else ``device``."""
    w = world()
    if w.active and device.type == "cuda":
        device = torch.device("cuda", w.local_rank)
        torch.cuda.set_device(device)
    return device


def _seconds(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        raise RnnkitError(f"{name} must be a number of seconds, got {os.environ[name]!r}") from None
    if value <= 0:
        raise RnnkitError(f"{name} must be > 0 seconds, got {value}")
    return value


def _join(w: World) -> "torch.distributed.Store":
    """Connect to the rendezvous store and wait until all ``w.size`` ranks have counted themselves in."""
    import torch.distributed as dist

    host, port = os.environ.get("MASTER_ADDR", "127.0.0.1"), int(os.environ.get("MASTER_PORT", "29500"))
    timeout = _seconds("RNNKIT_JOIN_TIMEOUT", 300.0)
    hosts_store = w.rank == 0 and os.environ.get("TORCHELASTIC_USE_AGENT_STORE") != "True"  # torchrun hosts it
    try:
        store = dist.TCPStore(host, port, w.size, is_master=hosts_store, timeout=timedelta(seconds=timeout),
                              wait_for_workers=False)
    except (RuntimeError, OSError) as e:  # DistStoreError and DistNetworkError are RuntimeErrors
        raise RnnkitError(f"rank {w.rank} of {w.size} could not reach the rendezvous at {host}:{port} within "
                          f"{timeout:.0f} s ({str(e).splitlines()[0]}); start rank 0 (torchrun starts them all) or "
                          "raise RNNKIT_JOIN_TIMEOUT") from None
    key = f"rnnkit/joined/{restart_count()}"
    store.add(key, 1)
    deadline = time.monotonic() + timeout
    while (joined := store.add(key, 0)) < w.size:
        if time.monotonic() > deadline:
            raise RnnkitError(f"only {joined} of {w.size} ranks joined within {timeout:.0f} s at {host}:{port}; "
                              "start every rank (every node's torchrun) or raise RNNKIT_JOIN_TIMEOUT")
        time.sleep(0.05)
    return dist.PrefixStore(f"rnnkit/{restart_count()}/", store)


def init(device: torch.device) -> World:
    """Join the group (once): gloo for a CPU, NCCL for a GPU. Ranks other than 0 reseed their RNG
    (``seed + rank``) so that their dropout masks differ; rank 0 keeps the one-process stream."""
    import torch.distributed as dist

    w = world()
    if not w.active or dist.is_initialized():
        return w
    store = _join(w)
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend, store=store, rank=w.rank, world_size=w.size,
                            timeout=timedelta(seconds=_seconds("RNNKIT_DIST_TIMEOUT", 1800.0)))
    if w.rank:
        torch.manual_seed(torch.initial_seed() + w.rank)
    return w


_wrapped: "weakref.WeakSet[torch.nn.Module]" = weakref.WeakSet()  # the DDP wrappers of this process


def wrap(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``model`` in DistributedDataParallel under torchrun, else ``model`` itself.

    With ``find_unused_parameters``: some parameters get no gradient from some batches (an adaptive
    softmax's tail clusters without their words, a tagger's parts); DDP then reduces zeros for a
    parameter some rank did not use and leaves alone one that no rank used, as one process would. It
    costs a walk over the autograd graph per step (DDP warns once about it at the first step of a model
    that happened to use everything; ``rnnkit --nproc`` hides C++ warnings below errors). Buffers are
    not re-sent at each step (they are constants here)."""
    if not world().active:
        return model
    import inspect

    from torch.nn.parallel import DistributedDataParallel

    new_api = "forward_sync_buffers" in inspect.signature(DistributedDataParallel).parameters
    buffers = {"forward_sync_buffers" if new_api else "broadcast_buffers": False}
    replica = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None,
                                      find_unused_parameters=True, **buffers)
    _wrapped.add(replica)  # its reducer is dropped before the process group (finish)
    return replica


def _rows(x, lo: int, hi: int, m: int):
    if hasattr(x, "_fields"):  # a task's named batch (NamedTuple)
        return type(x)(*(_rows(v, lo, hi, m) for v in x))
    if isinstance(x, (tuple, list)):
        return type(x)(_rows(v, lo, hi, m) for v in x)
    if x.dim() == 0 or x.shape[0] != m:
        raise RnnkitError(f"cannot split a batch of {m} rows across ranks: one of its tensors has shape "
                          f"{tuple(x.shape)}; the task's data must give batch-first tensors or a share() method")
    return x[lo:hi]


def share(inputs, targets, reset, custom=None):
    """This rank's rows of a global batch: ``(inputs, targets, reset, weight)``; ``weight`` (w_r
    above) scales its loss so that DDP's average is the mean over the whole batch. A rank with no row
    (a last batch smaller than W) keeps one row at weight 0.

    Every tensor of the batch must be batch-first. A task whose batches are not (several captions
    per image, say) gives its data ``share(inputs, targets, rank, size) -> (inputs, targets, weight)``,
    passed here as ``custom``."""
    w = world()
    if not w.active:
        return inputs, targets, reset, 1.0
    if custom is not None:
        inputs, targets, weight = custom(inputs, targets, w.rank, w.size)
        return inputs, targets, reset, weight
    first = targets
    while isinstance(first, (tuple, list)):
        first = first[0]
    m = first.shape[0]
    lo, hi, own = span(m, w.rank, w.size)
    weight = own * (hi - lo) * w.size / m
    if isinstance(reset, torch.Tensor):
        reset = reset[lo:hi]
    return _rows(inputs, lo, hi, m), _rows(targets, lo, hi, m), reset, weight


def span(m: int, rank: int, size: int) -> tuple[int, int, bool]:
    """Rank ``rank``'s rows ``[lo, hi)`` of ``m``, and whether they are its own: a rank left with none
    (``m`` < ``size``) gets one row to compute at weight 0, so that every rank runs the same graph."""
    lo, hi = m * rank // size, m * (rank + 1) // size
    if hi > lo:
        return lo, hi, True
    return min(lo, m - 1), min(lo, m - 1) + 1, False


def _collective_device(t: torch.Tensor) -> torch.device:
    import torch.distributed as dist

    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def mean_loss(weighted: float) -> float:
    """The mean over ranks of ``w_r * loss_r``: the whole batch's mean loss (one process: ``weighted``)."""
    if not world().active:
        return weighted
    import torch.distributed as dist

    t = torch.tensor([weighted], dtype=torch.float64)
    t = t.to(_collective_device(t))
    dist.all_reduce(t)
    return float(t) / world().size


def agree_max(*values: float) -> tuple[float, ...]:
    """The largest value of each across ranks (elapsed time, stop flags), so all ranks decide alike."""
    if not world().active:
        return values
    import torch.distributed as dist

    t = torch.tensor(values, dtype=torch.float64)
    t = t.to(_collective_device(t))
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return tuple(float(v) for v in t.cpu())


def broadcast(value: float) -> float:
    """Rank 0's ``value`` on every rank (a validation loss evaluated by rank 0 alone)."""
    if not world().active:
        return value
    import torch.distributed as dist

    t = torch.tensor([value], dtype=torch.float64)
    t = t.to(_collective_device(t))
    dist.broadcast(t, src=0)
    return float(t)


def _all_gather(t: torch.Tensor) -> list[torch.Tensor]:
    import torch.distributed as dist

    t = t.contiguous().to(_collective_device(t))
    parts = [torch.empty_like(t) for _ in range(world().size)]
    dist.all_gather(parts, t)
    return parts


def gather_rows(t: torch.Tensor) -> torch.Tensor:
    """The global ``(B, ...)`` tensor from each rank's rows ``(B / W, ...)``, in rank order."""
    if not world().active:
        return t
    return torch.cat(_all_gather(t), dim=0).to(t.device)


def rows_of(t: torch.Tensor) -> torch.Tensor:
    """This rank's rows of a global ``(B, ...)`` tensor (inverse of ``gather_rows``)."""
    w = world()
    b = t.shape[0] // w.size
    return t[w.rank * b : (w.rank + 1) * b] if w.active else t


def gather_rank_tensors(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Every other rank's ``tensors`` as ``rank{r}.<name>`` (rank 0's keep their plain names, so a
    one-process checkpoint reads the same); an empty dict in one process."""
    w = world()
    out: dict[str, torch.Tensor] = {}
    if not w.active:
        return out
    for name, t in sorted(tensors.items()):
        for r, part in enumerate(_all_gather(t)):
            if r:
                out[f"rank{r}.{name}"] = part.cpu()
    return out


def rank_tensor(saved: dict[str, torch.Tensor], name: str) -> torch.Tensor | None:
    """This rank's ``name`` from a checkpoint's trainer tensors (None if that rank was not saved)."""
    r = world().rank
    return saved.get(name if r == 0 else f"rank{r}.{name}")


def finish() -> None:
    """End of training: the group is left, and ranks other than 0 exit; what follows (the final
    scores, plots and summary) is rank 0's alone, as in one process.

    DDP's reducer (and its logger) hold a reference to the process group. Were theirs the last one
    (the trainer's DDP wrapper freed after ``destroy_process_group``, at the latest as the process
    exits), the group's destructor would run inside the reducer's, which holds the GIL, and join
    gloo's worker threads while one of them waits for the GIL to free a tensor of a finished
    collective: a deadlock, about 1 run in 7 at the end of a short run (pytorch/pytorch#56297). So the
    reducers of every wrapper ``wrap`` made are dropped here, with the group still registered, and
    only drop their reference; ``destroy_process_group`` then drops the last one through a binding
    that releases the GIL, and the worker threads finish and are joined."""
    w = world()
    if not w.active:
        return
    import gc

    import torch.distributed as dist

    if dist.is_initialized():
        dist.barrier()
        for replica in list(_wrapped):  # after training a wrapper is never run again
            for name in ("reducer", "logger"):
                if hasattr(replica, name):
                    setattr(replica, name, None)
        gc.collect()  # the reducers go now, before the group (see above)
        dist.destroy_process_group()
    if not w.writer:
        sys.stdout.flush()
        raise SystemExit(0)
