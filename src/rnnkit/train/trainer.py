"""One training loop for every task model (``forward(inputs, targets, state) -> (outputs, loss, state)``).

It carries the recurrent state across batches when the data is stateful (truncated BPTT) and detaches
it, clips gradients, follows the learning-rate schedule, evaluates and early-stops, logs metrics, and
writes checkpoints from which ``--resume`` continues exactly (weights, optimiser, RNG, carried state
and data position, which is a function of the step). A NaN or infinite loss stops the run with a
clear message and leaves the last good checkpoint in place; Ctrl-C finishes the step and saves.
"""

from __future__ import annotations

import math
import signal
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import torch
from rnnkit.errors import RnnkitError
from rnnkit.layers.state import detach_state, flatten_state, map_state, unflatten_state
from rnnkit.train.checkpoint import (
    check_resume_meta, load_checkpoint, load_weights, optimizer_from_tensors, optimizer_to_tensors, save_checkpoint,
)
from rnnkit.train import distributed
from rnnkit.train.config import TrainConfig
from rnnkit.train.files import lock_run, unlock_run
from rnnkit.train.metrics import MetricsLog, metric_label, plot_losses
from rnnkit.train.optim import Schedule, clip_gradients, make_optimizer
from rnnkit.train.progress import Budget, TrainingBar


#: A validation loss above ``DIVERGENCE_FACTOR * L0`` (and above ``L0 + DIVERGENCE_MARGIN``), where ``L0`` is
#: the untrained model's first training loss, counts as divergence: a model that has learned nothing
#: scores about L0 (ln V nats for a uniform guess over V classes), so a loss ten times that means the
#: weights blew up even if every number is still finite. The margin keeps a tiny L0 (a forecaster's
#: MSE on scaled data) from making ordinary noise look like divergence.
DIVERGENCE_FACTOR, DIVERGENCE_MARGIN = 10.0, 10.0


def divergence_limit(initial_loss: float | None) -> float:
    if initial_loss is None or not math.isfinite(initial_loss):
        return math.inf
    return max(DIVERGENCE_FACTOR * initial_loss, initial_loss + DIVERGENCE_MARGIN)


class Diverged(RnnkitError):
    """The loss or the weights became NaN or infinite; ``step`` is where it was seen."""

    def __init__(self, message: str, step: int):
        super().__init__(message)
        self.step = step


def to_device(x, device):
    """A tensor, or a tuple/list of tensors (inputs such as ``(ids, lengths)``), moved to ``device``."""
    if hasattr(x, "_fields"):  # a task's named batch (NamedTuple)
        return type(x)(*(to_device(v, device) for v in x))
    if isinstance(x, (tuple, list)):
        return type(x)(to_device(v, device) for v in x)
    return x.to(device)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise RnnkitError(f"unknown device {name!r}; choose cpu, cuda, cuda:N or auto") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RnnkitError(f"device {name!r} asked for, but no CUDA GPU is available; use --device cpu")
    return device


class Trainer:
    """Trains ``model`` on ``data`` (``batch(step) -> (inputs, targets, reset)``, ``stateful``).

    ``evaluate(model) -> dict`` gives the validation metrics, ``val_loss`` (which early stopping and
    the ``best`` checkpoint follow) and any others; ``on_evaluate(model, step) -> str`` returns text to
    show (a generated sample) every ``sample_every`` steps and at the end, whatever ``eval_every`` is.
    ``meta`` (JSON) goes into every checkpoint's config. ``steps_per_epoch`` (> 0) shows the epoch in the
    progress; ``selected`` names ``val_loss`` where it is not the loss (a tagger's ``1 - F1``: its loss is
    then ``val_nll``), for the lines and the figure.
    """

    def __init__(self, model: torch.nn.Module, config: TrainConfig, data, evaluate: Callable, run_dir,
                 meta: dict, on_evaluate: Callable | None = None, steps_per_epoch: int = 0, selected: str = ""):
        self.config, self.data, self.evaluate, self.on_evaluate = config, data, evaluate, on_evaluate
        self.steps_per_epoch, self.selected = steps_per_epoch, selected
        self.run_dir, self.meta = Path(run_dir), meta
        self.device = distributed.local_device(resolve_device(config.device))
        self.model = model.to(self.device)
        distributed.check_batch(config.batch_size)
        self.world = distributed.init(self.device)  # one process: World(0, 1), nothing else happens
        self.replica = distributed.wrap(self.model, self.device)  # DDP under torchrun, else the model
        self.optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr, config.momentum,
                                        config.weight_decay)
        self.step, self.best, self.bad_evals, self.elapsed, self.clipped = 0, math.inf, 0, 0.0, 0
        self.state = None  # the recurrent state carried across batches (truncated BPTT)
        self.last_saved: int | None = None
        self.validated: int | None = None  # the step of the last validation that passed the divergence rule
        self.best_step: int | None = None  # the step of the weights in best/ (None: unknown, a resumed run)
        self.verbose = self.world.writer  # progress bar and evaluation lines
        if self.world.writer:
            lock_run(self.run_dir)  # one run per folder: a second one is refused, naming this PID
        self.initial_loss: float | None = None  # the untrained model's training loss (divergence rule)
        self.stop_requested = False
        self.schedule = self.schedule_for(config)

    @staticmethod
    def schedule_for(config: TrainConfig, anchor=None) -> Schedule:
        return Schedule(config.lr, config.schedule, config.warmup, config.steps, config.time,
                        None if anchor is None else tuple(anchor))

    # ---------------------------------------------------------------- checkpoints
    def checkpoint_meta(self, **metrics) -> dict:
        return {**self.meta, "train_config": asdict(self.config), "step": self.step, "metrics": metrics}

    def diverged(self, what: str):
        # only a checkpoint whose validation passed is good: one saved between evaluations never was
        best = self.run_dir / "best"
        if self.last_saved is not None and self.last_saved == self.validated:
            where = f"the last good checkpoint (step {self.last_saved}) is in {self.run_dir / 'checkpoint'}"
        elif best.exists() or self.best_step is not None:
            when = f"step {self.best_step}, " if self.best_step is not None else ""
            where = (f"the last checkpoint whose validation was good is {best} ({when}validation loss {self.best:.4g})"
                     + (f"; {self.run_dir / 'checkpoint'} (step {self.last_saved}) was saved after the last validation "
                        "and is not" if self.last_saved is not None else ""))
        elif self.last_saved is None:
            where = "no checkpoint had been written yet"
        else:
            where = (f"no validated checkpoint had been written yet ({self.run_dir / 'checkpoint'}, step "
                     f"{self.last_saved}, was saved before any validation)")
        raise Diverged(f"{what}; training stopped and {where}; try a lower --lr or gradient clipping (--clip)",
                       self.step)

    def save(self, name: str, **metrics) -> None:
        """Write checkpoint ``name`` (``checkpoint`` or ``best``); never one with NaN or inf weights."""
        if not all(bool(torch.isfinite(p).all()) for p in self.model.parameters()):
            self.diverged(f"the weights became NaN or infinite at step {self.step}")
        opt_tensors, opt_meta = optimizer_to_tensors(self.optimizer.state_dict())
        structure, state_tensors = flatten_state(self.state) if self.state is not None else (None, [])
        trainer = {**opt_tensors, "rng.torch": torch.get_rng_state()}
        # the carried state of all B streams (each rank holds its rows), as one process would save it
        trainer.update({f"state.{i}": distributed.gather_rows(t) for i, t in enumerate(state_tensors)})
        if self.device.type == "cuda":
            trainer.update({f"rng.cuda.{i}": s for i, s in enumerate(torch.cuda.get_rng_state_all())})
        own = {"rng.torch": torch.get_rng_state(), **({"rng.cuda": torch.cuda.get_rng_state(self.device)}
                                                      if self.device.type == "cuda" else {})}
        trainer.update(distributed.gather_rank_tensors(own))  # rank{r}.rng.* of ranks r > 0; none in one process
        meta = self.checkpoint_meta(**metrics)
        meta["trainer"] = {"optimizer": opt_meta, "state_structure": structure, "best": self.best,
                           "bad_evals": self.bad_evals, "elapsed": self.elapsed, "clipped": self.clipped,
                           "initial_loss": self.initial_loss, "schedule_anchor": self.schedule.anchor}
        if self.world.writer:
            save_checkpoint(self.run_dir / name, self.model.state_dict(), meta, trainer)
        if name == "checkpoint":
            self.last_saved = self.step

    def resume(self) -> None:
        directory = self.run_dir / "checkpoint"
        weights, meta, trainer = load_checkpoint(directory, with_trainer=True)
        check_resume_meta(meta, trainer, directory)
        load_weights(self.model, weights, directory)
        t = meta["trainer"]
        try:
            self.optimizer.load_state_dict(optimizer_from_tensors(trainer, t["optimizer"]))
        except (KeyError, ValueError, TypeError, IndexError, RuntimeError) as e:
            raise RnnkitError(f"corrupt checkpoint {directory}: the optimiser state does not fit the model ({e})") from None
        rng = distributed.rank_tensor(trainer, "rng.torch")
        if rng is not None:  # None: more ranks now than when it was saved; that rank keeps its own seed
            torch.set_rng_state(rng)
        cuda_states = [trainer[k] for k in sorted(trainer) if k.startswith("rng.cuda.")]
        if cuda_states and self.device.type == "cuda":
            torch.cuda.set_rng_state_all(cuda_states)
        own_cuda = distributed.rank_tensor(trainer, "rng.cuda")  # a rank r > 0's own GPU
        if own_cuda is not None and self.device.type == "cuda":
            torch.cuda.set_rng_state(own_cuda, self.device)
        if t["state_structure"] is not None:  # the saved state is all B streams; this rank takes its rows
            tensors = [distributed.rows_of(trainer[f"state.{i}"]).to(self.device)
                       for i in range(len(trainer)) if f"state.{i}" in trainer]
            self.state = unflatten_state(t["state_structure"], tensors)
        self.step, self.last_saved = meta["step"], meta["step"]
        self.best, self.bad_evals = t["best"], t["bad_evals"]
        self.elapsed, self.clipped = t["elapsed"], t["clipped"]
        self.initial_loss = t.get("initial_loss")
        self.resume_schedule(meta.get("train_config") or {}, t.get("schedule_anchor"))

    def resume_schedule(self, saved: dict, anchor) -> None:
        """The saved run's schedule; where the resume changes its budget (``--steps``, ``--time``), the
        learning rate goes on from where it was to the end of the new budget (``Schedule.anchor``)."""
        c = self.config
        budget = {k: saved.get(k, getattr(c, k)) for k in ("steps", "time")}
        old = self.schedule_for(TrainConfig(**{**asdict(c), **budget}), anchor)
        if (budget["steps"], budget["time"]) != (c.steps, c.time):
            anchor = (self.step, self.elapsed, old.position(self.step, self.elapsed))
        self.schedule = self.schedule_for(c, anchor)

    # ---------------------------------------------------------------- the loop
    def train_step(self, autocast) -> float:
        inputs, targets, reset = self.data.batch(self.step)  # the global batch, a function of the step
        # a task's named batch says how many tokens it holds (padding excluded); else the first tensor's size
        self.tokens = inputs.tokens if hasattr(inputs, "tokens") else (
            inputs[0] if isinstance(inputs, (tuple, list)) else inputs).numel()
        inputs, targets, reset, weight = distributed.share(inputs, targets, reset, getattr(self.data, "share", None))
        inputs, targets = to_device(inputs, self.device), to_device(targets, self.device)
        if not self.data.stateful or (isinstance(reset, bool) and reset):
            self.state = None
        elif self.state is not None and isinstance(reset, torch.Tensor) and bool(reset.any()):
            keep = (~reset).to(self.device).unsqueeze(1)  # (B, 1): rows that carry their state on
            self.state = map_state(lambda s: s * keep, self.state)
        self.replica.train()
        with autocast:
            _, loss, state = self.replica(inputs, targets, self.state)
        if weight != 1.0:
            loss = loss * weight
        value = distributed.mean_loss(loss.item())  # the whole batch's loss, the same on every rank
        if not math.isfinite(value):
            self.diverged(f"the training loss became {value} at step {self.step + 1}")
        if self.initial_loss is None:
            self.initial_loss = value
        for group in self.optimizer.param_groups:
            group["lr"] = self.schedule.lr(self.step, self.elapsed)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.grad_norm, clipped = clip_gradients(self.model.parameters(), self.config.clip, self.config.clip_value)
        self.clipped += clipped
        self.optimizer.step()
        self.state = detach_state(state) if self.data.stateful else None  # truncate BPTT here
        self.step += 1
        return value

    def run_evaluation(self, bar) -> tuple[float, bool]:
        results = {}
        if self.world.writer:  # rank 0 evaluates alone, as one process does; the others take its loss
            self.model.eval()
            with torch.no_grad():
                results = {k: float(v) for k, v in self.evaluate(self.model).items()}
        val = distributed.broadcast(results.get("val_loss", math.nan))
        limit = divergence_limit(self.initial_loss)
        if not math.isfinite(val) or val > limit:  # checked before anything is saved: the last checkpoint stays good
            self.metrics.write(step=self.step, **results)
            self.diverged(f"the validation loss became {val:.6g} at step {self.step}"
                          + (f", above {limit:.4g} (10 times the initial loss {self.initial_loss:.4g}, at least "
                             f"it plus 10)" if math.isfinite(val) else ""))
        self.validated = self.step
        improved = val < self.best
        if improved:
            self.best, self.bad_evals = val, 0
        else:
            self.bad_evals += 1
        self.metrics.write(step=self.step, **results, best_val_loss=self.best)
        order = sorted(results, key=lambda k: k not in ("val_loss", "val_nll"))  # the loss first
        shown = ", ".join(f"{metric_label(k, self.selected)} {results[k]:.4f}" for k in order
                          if not (self.selected and k == "val_loss"))
        if self.selected:
            shown += f" (the best checkpoint follows {self.selected}: {val:.4f})"
        if self.verbose:
            bar.write(f"step {self.step}: validation {shown}"
                      + ("  best" if improved else f"  (no improvement for {self.bad_evals})")
                      + ("" if bar.drawn else f"  [{bar.status()}]"))
        if improved:
            self.best_step = self.step
            self.save("best", val_loss=val)
        return val, improved

    def show_sample(self, bar) -> None:
        """Print ``on_evaluate(model, step)`` (a generated sample), on the ``--sample-every`` schedule."""
        if self.on_evaluate is None or not self.world.writer:
            return
        self.model.eval()
        with torch.no_grad():
            bar.write(self.on_evaluate(self.model, self.step))

    def already_complete(self) -> dict | None:
        """A resumed run with nothing left to do says so, and how to extend it; else ``None``."""
        c = self.config
        if self.step >= c.steps:
            why, how = f"--steps {c.steps}", f"a larger --steps, e.g. --steps {2 * c.steps}"
        elif c.time > 0 and self.elapsed >= c.time:
            why, how = f"--time {c.time:g} s", f"a larger --time, e.g. --time {2 * c.time:g}"
        else:
            return None
        print(f"the run in {self.run_dir} is complete at step {self.step} (its {why} is reached); to train further, "
              f"resume it with {how}", file=sys.stderr)
        return {"step": self.step, "stopped": "complete", "val_loss": None, "best_val_loss": self.best,
                "elapsed": self.elapsed, "clipped_steps": self.clipped}

    def fit(self) -> dict:
        c = self.config
        complete = self.already_complete()
        if complete is not None:
            return complete
        self.metrics = (MetricsLog(self.run_dir / "metrics.jsonl", truncate_after_step=self.step)
                        if self.world.writer else distributed.NullLog())  # one writer: rank 0
        use_amp = c.amp and self.device.type == "cuda"
        autocast = torch.autocast("cuda", dtype=torch.bfloat16) if use_amp else nullcontext()
        previous = signal.signal(signal.SIGINT, self._request_stop)
        bar = TrainingBar(Budget(c.steps, c.time, self.steps_per_epoch), self.step, self.elapsed, self.verbose)
        start, stopped, window, val = time.perf_counter() - self.elapsed, "steps", [], None
        tick, tokens = time.perf_counter(), 0
        try:
            while self.step < c.steps:
                window.append(self.train_step(autocast))
                tokens += self.tokens
                self.elapsed, stop = distributed.agree_max(time.perf_counter() - start, float(self.stop_requested))
                self.stop_requested = bool(stop)  # every rank stops (time limit, Ctrl-C) at the same step
                bar.update(self.step, self.elapsed)
                if self.step % c.log_every == 0 or self.step == c.steps:
                    now = time.perf_counter()
                    rate = tokens / max(now - tick, 1e-9)
                    loss = sum(window) / len(window)
                    self.metrics.write(step=self.step, train_loss=loss, lr=self.optimizer.param_groups[0]["lr"],
                                       grad_norm=self.grad_norm, tokens_per_s=rate, elapsed=self.elapsed)
                    bar.show(loss=f"{loss:.3f}", **{"tok/s": f"{rate:,.0f}"})
                    window, tick, tokens = [], now, 0
                timed_out = c.time > 0 and self.elapsed >= c.time
                if self.step % c.eval_every == 0 or self.step == c.steps or timed_out or self.stop_requested:
                    val, _ = self.run_evaluation(bar)
                    if c.patience and self.bad_evals >= c.patience:
                        stopped = "early stopping"
                if self.step % c.checkpoint_every == 0 or stopped != "steps" or timed_out or self.stop_requested:
                    self.save("checkpoint", val_loss=val)
                if timed_out:
                    stopped = "time limit"
                if self.stop_requested:
                    stopped = "interrupted"
                last = stopped != "steps" or self.step == c.steps
                if c.sample_every and (self.step % c.sample_every == 0 or last):  # and one at the end
                    self.show_sample(bar)
                if stopped != "steps":
                    break
            if self.last_saved != self.step:
                self.save("checkpoint", val_loss=val)
        finally:
            bar.close()
            signal.signal(signal.SIGINT, previous)
            stopping_error = sys.exc_info()[0] is not None  # the error that stopped the run is the one to report
            try:
                records = self.metrics.read()
                if records:
                    plot_losses(records, self.run_dir / "loss.png", selected=self.selected)
            except RnnkitError:
                if not stopping_error:
                    raise
            finally:
                unlock_run(self.run_dir)  # the folder is free for the next run (a process's exit frees it too)
        if stopped == "interrupted" and self.verbose:
            print(f"interrupted at step {self.step}: saved {self.run_dir / 'checkpoint'}; continue with --resume "
                  f"--out {self.run_dir}", file=sys.stderr)
        distributed.finish()  # under torchrun, ranks other than 0 leave here
        return {"step": self.step, "stopped": stopped, "val_loss": val, "best_val_loss": self.best,
                "elapsed": self.elapsed, "clipped_steps": self.clipped}

    def _request_stop(self, *_):
        if self.stop_requested:  # a second Ctrl-C stops at once
            raise KeyboardInterrupt
        self.stop_requested = True
