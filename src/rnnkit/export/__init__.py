"""Export any task's checkpoint to ONNX (``rnnkit export RUN --out DIR``; ``rnnkit.export(run, out)``), run
by ``rnnkit.onnx_runtime`` with NumPy and onnxruntime only (docs/export.md). onnx is imported on first use."""


def export(path, out, **options):
    """``rnnkit.export.exporter.export``: the graphs, config.json, README.md and runtime.py of a checkpoint."""
    from rnnkit.export.exporter import export as run

    return run(path, out, **options)


__all__ = ["export"]
