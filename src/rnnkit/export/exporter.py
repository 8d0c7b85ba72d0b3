"""``export(run, out)``: any task's checkpoint (``rnnkit.tasks.runner.load``) -> ONNX graphs, ``config.json``
(vocabularies, special ids, preprocessing and decoding settings), a README naming every input and output,
and ``runtime.py`` (``rnnkit.onnx_runtime``, NumPy and onnxruntime only) in one folder.

    PARTS[checkpoint task] -> the graphs of that task's model (rnnkit.export.parts, .decoders)
    SETTINGS[checkpoint task] -> what the runtime needs besides the graphs (tokenisers, scaler, CRF, ...)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from rnnkit.errors import RnnkitError

DEFAULT_OPSET = 17
RUNTIME_FILE = "runtime.py"
INSTALL = "pip install 'rnnkit[export]' (onnx, onnxruntime)"


def require_onnx():
    """``onnx`` and ``onnxruntime``, or one line saying how to install them."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as e:
        raise RnnkitError(f"exporting to ONNX needs onnx and onnxruntime ({e.name} is not installed): {INSTALL}") from None


def check_opset(opset: int) -> None:
    import onnx

    from rnnkit.export.graph import MIN_OPSET

    newest = onnx.defs.onnx_opset_version()
    if not isinstance(opset, int) or not MIN_OPSET <= opset <= newest:
        raise RnnkitError(f"--opset {opset} cannot be written: the installed onnx {onnx.__version__} writes opsets "
                          f"{MIN_OPSET} to {newest} (rnnkit's graphs need at least {MIN_OPSET})")


def check_finished(path: Path) -> None:
    """A run folder still being trained (its lock held by another process) or without any checkpoint yet."""
    from rnnkit.train.files import LOCK_FILE, _try_flock

    lock = path / LOCK_FILE
    if path.is_dir() and lock.exists():
        fd = os.open(lock, os.O_RDONLY)
        try:
            import fcntl

            if not _try_flock(fd):
                holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
                raise RnnkitError(f"{path} is still being trained (PID {holder}); export it when the run has ended")
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        if not any((path / n).exists() for n in ("best", "checkpoint", "checkpoint.old", "model.safetensors")):
            raise RnnkitError(f"{path} holds no checkpoint yet: the run never finished an evaluation; train it "
                              "longer (or --resume it) before exporting")


def prepare_out(out) -> Path:
    """The output folder, created; one line when it cannot be written."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RnnkitError(f"--out {out} is a file, not a folder; choose a folder name")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        from rnnkit.train.files import disk_reason

        raise RnnkitError(f"--out {out} cannot be written: {disk_reason(e)}; choose another folder") from None
    return out


def build_parts(loaded, opset: int, recurrence: str) -> list:
    from rnnkit.export.decoders import caption_parts, translate_parts
    from rnnkit.export.parts import classify_parts, forecast_parts, lm_parts, speech_parts, tag_parts

    table = {"char-lm": lm_parts, "classify": classify_parts, "forecast": forecast_parts, "tag": tag_parts,
             "translate": translate_parts, "caption": caption_parts, "speech": speech_parts}
    return table[loaded.task.checkpoint_task](loaded.model, opset, recurrence)


def export(path, out, opset: int = DEFAULT_OPSET, recurrence: str = "native", check: bool = True) -> dict:
    """Export the checkpoint at ``path`` (a run folder or a checkpoint folder of any task) into ``out``.
    ``recurrence``: ``native`` (ONNX's RNN/LSTM/GRU operators for the standard cells, Scan for the others) or
    ``scan`` (Scan for every cell). ``check``: run every graph once with onnxruntime on a small input and
    compare with PyTorch. Returns the summary written as ``config.json``."""
    require_onnx()
    import onnx

    from rnnkit.errors import unknown_choice
    from rnnkit.export.layers import RECURRENCES
    from rnnkit.export.settings import settings
    from rnnkit.tasks.runner import load
    from rnnkit.train.files import atomic_write, write_text

    if recurrence not in RECURRENCES:
        raise unknown_choice("recurrence", recurrence, RECURRENCES)
    check_opset(opset)
    path = Path(path)
    check_finished(path)
    loaded = load(path, "cpu")
    out = prepare_out(out)
    parts = build_parts(loaded, opset, recurrence)
    files = {}
    for p in parts:
        model = p.graph.model()
        onnx.checker.check_model(model)
        data = model.SerializeToString()
        atomic_write(out / p.file, lambda tmp, data=data: tmp.write_bytes(data), f"{out / p.file}")
        files[p.file.removesuffix(".onnx")] = {"file": p.file, **p.doc}
    import rnnkit

    config = {"format": "rnnkit-onnx", "version": 1, "rnnkit_version": rnnkit.__version__,
              "task": loaded.task.checkpoint_task, "checkpoint": str(Path(loaded.path).resolve()), "opset": opset,
              "recurrence": recurrence, "cell": loaded.configs["model"].rnn.cell if hasattr(loaded.configs["model"], "rnn")
              else None, "parts": files, **settings(loaded)}
    write_text(out / "config.json", json.dumps(config, indent=1) + "\n", f"{out / 'config.json'}")
    write_text(out / "README.md", readme(config), f"{out / 'README.md'}")
    runtime = Path(__file__).resolve().parent.parent / "onnx_runtime.py"
    write_text(out / RUNTIME_FILE, runtime.read_text(), f"{out / RUNTIME_FILE}")
    if check:
        from rnnkit.export.verify import verify

        config["check"] = verify(loaded, out)
        write_text(out / "config.json", json.dumps(config, indent=1) + "\n", f"{out / 'config.json'}")
    return config


def readme(config: dict) -> str:
    """``DIR/README.md``: what each graph computes, its inputs and outputs, and how to run it."""
    from rnnkit.export.settings import USAGE

    lines = [f"# rnnkit {config['task']} model, exported to ONNX", "",
             f"From `{config['checkpoint']}` (rnnkit {config['rnnkit_version']}, ONNX opset {config['opset']}, "
             f"recurrence: {config['recurrence']}). Vocabularies, special ids and the preprocessing and decoding "
             "settings are in `config.json`; `runtime.py` needs only numpy and onnxruntime.", "",
             "```python", "import runtime  # this folder's runtime.py (also rnnkit.onnx_runtime)",
             USAGE[config["task"]], "```", ""]
    for name, p in config["parts"].items():
        lines += [f"## `{p['file']}`: {p['what']}", "", "| input | shape and meaning |", "|---|---|"]
        lines += [f"| `{k}` | {v} |" for k, v in p["inputs"].items()]
        lines += ["", "| output | shape and meaning |", "|---|---|"]
        lines += [f"| `{k}` | {v} |" for k, v in p["outputs"].items()] + [""]
    lines += ["Batch and time axes are dynamic: any batch size and any length (the recurrence is a Scan or ONNX's "
              "RNN/LSTM/GRU operator, never a loop unrolled for one length).", ""]
    return "\n".join(lines)
