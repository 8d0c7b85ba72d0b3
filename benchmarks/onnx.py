"""onnxruntime against PyTorch eager on one CPU thread, for exported models (``rnnkit export``): the char-LM's
per-token latency (one step, batch 1), the tagger's sentences/s and the speech model's utterances/s, as ratios.

    python benchmarks/onnx.py                      # models of the benchmark's own sizes (random weights)
    python benchmarks/onnx.py --hidden 128 --repeat 200

The models are built at the given sizes with random weights (speed does not depend on the values), saved as
checkpoints in a temporary folder and exported with ``rnnkit.export``; both engines then run the same inputs.
"""

from __future__ import annotations

import os
import sys

# run as a script, this folder comes first on the path and this file would shadow the onnx package
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402


def timed(fn, repeat: int) -> float:
    fn()  # warm up
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        best = min(best, (time.perf_counter() - start) / repeat)
    return best


def checkpoint(task: str, configs: dict, vocabs_meta: dict, folder: Path):
    """A checkpoint of ``task`` with random weights: configs (flat) and the meta its vocabularies need."""
    from rnnkit.schema import to_flat
    from rnnkit.tasks.runner import get_task, saved_configs
    from rnnkit.train.checkpoint import save_checkpoint

    t = get_task(task)
    meta = {"task": t.checkpoint_task, "configs": configs, **vocabs_meta}
    c = saved_configs(t, meta)
    model = t.build(c, t.vocabularies(meta, folder))
    meta["configs"] = {k: to_flat(v) for k, v in c.items()}
    save_checkpoint(folder, model.state_dict(), meta)
    return folder


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--cell", default="lstm")
    p.add_argument("--repeat", type=int, default=100)
    a = p.parse_args()
    torch.set_num_threads(1)
    from rnnkit import onnx_runtime as rt
    from rnnkit.export import export
    from rnnkit.tasks.runner import load

    tmp = Path(tempfile.mkdtemp())
    chars = "".join(chr(c) for c in range(32, 127))
    lm = checkpoint("lm", {"model": {"cell": a.cell, "hidden": a.hidden, "embedding": 64, "layers": 2}},
                    {"vocab": chars}, tmp / "lm")
    words = ["<pad>", "<unk>"] + [f"w{i}" for i in range(5000)]
    tag = checkpoint("tag", {"model": {"cell": a.cell, "hidden": a.hidden // 2, "embedding": 100, "crf": True}},
                     {"words": words, "chars": ["<pad>", "<unk>"] + list("abcdefghijklmnopqrstuvwxyz0123456789"),
                      "tags": ["B-LOC", "B-PER", "I-LOC", "I-PER", "O"],
                      "shapes": __import__("rnnkit.tasks.tag.shape", fromlist=["SHAPES"]).SHAPES}, tmp / "tag")
    speech = checkpoint("speech", {"model": {"cell": a.cell, "hidden": a.hidden // 2, "layers": 2},
                                   "data": {"task": "connected"}}, {}, tmp / "speech")
    rows = []
    for name, path in (("lm", lm), ("tag", tag), ("speech", speech)):
        export(path, tmp / f"{name}-onnx", check=False)
        run, m = load(path), rt.load(tmp / f"{name}-onnx", threads=1)
        g = torch.Generator().manual_seed(0)
        if name == "lm":
            state, zeros = run.model.init_state(1), rt.lm_state(m, 1)
            token = torch.tensor([5])
            with torch.no_grad():
                t_torch = timed(lambda: run.model.step(token, state), a.repeat * 5)
            t_onnx = timed(lambda: m.run("step", ids=token.numpy(), **zeros), a.repeat * 5)
            rows.append(("char-LM step, batch 1", "ms/token", 1e3 * t_torch, 1e3 * t_onnx, t_torch / t_onnx))
        elif name == "tag":
            sentences = [[words[int(i)] for i in torch.randint(2, len(words), (n,), generator=g)] for n in
                         torch.randint(5, 40, (64,), generator=g).tolist()]
            from rnnkit.tasks.tag.data import Encoded

            d = run.configs["data"]
            inputs, _ = Encoded(sentences, run.vocabs["words"], run.vocabs["chars"], d.lowercase, d.max_word).read(range(64))
            with torch.no_grad():
                t_torch = timed(lambda: run.model.decode(inputs), max(1, a.repeat // 10))
            t_onnx = timed(lambda: rt.tag(m, sentences), max(1, a.repeat // 10))
            rows.append(("tagger, 64 sentences, CRF", "sentences/s", 64 / t_torch, 64 / t_onnx, t_torch / t_onnx))
        else:
            frames, lengths = torch.randn(16, 200, 40, generator=g), torch.randint(100, 201, (16,), generator=g)
            with torch.no_grad():
                t_torch = timed(lambda: run.model((frames, lengths)), max(1, a.repeat // 20))
            t_onnx = timed(lambda: m.run("model", frames=frames.numpy(), lengths=lengths.numpy()), max(1, a.repeat // 20))
            rows.append(("speech CTC, 16 utterances of 2 s", "utterances/s", 16 / t_torch, 16 / t_onnx, t_torch / t_onnx))
    print(f"cell {a.cell}, hidden {a.hidden}, one thread (torch {torch.__version__}, onnxruntime "
          f"{__import__('onnxruntime').__version__})")
    print(f"{'model':34} {'unit':13} {'torch':>9} {'onnxruntime':>12} {'speed-up':>9}")
    for what, unit, t, o, ratio in rows:
        print(f"{what:34} {unit:13} {t:9.3f} {o:12.3f} {ratio:8.2f}x")


if __name__ == "__main__":
    main()
