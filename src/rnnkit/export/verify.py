"""The check ``rnnkit export`` runs after writing: each graph once with onnxruntime on a small random input
(two rows of different lengths) against the PyTorch model it came from. A difference above ``LIMIT`` is an
error: the folder would compute something else than the checkpoint."""

from __future__ import annotations

import numpy as np
import torch

from rnnkit.errors import RnnkitError

LIMIT = 1e-4  # float32 through a few hundred operations stays far below this; the tests hold 1e-5


def lengths_of(T: int) -> torch.Tensor:
    return torch.tensor([T, max(1, T // 2)])


def ids(vocab: int, T: int, g) -> tuple[torch.Tensor, torch.Tensor]:
    x, n = torch.randint(min(2, vocab - 1), vocab, (2, T), generator=g), lengths_of(T)
    return x.masked_fill(torch.arange(T) >= n[:, None], 0), n


@torch.no_grad()
def pairs(loaded, m) -> list[tuple[np.ndarray, torch.Tensor]]:
    """``(onnxruntime's output, torch's)`` for the task's parts."""
    from rnnkit import onnx_runtime as rt

    task, model, g = loaded.task.checkpoint_task, loaded.model, torch.Generator().manual_seed(0)
    if task == "char-lm":
        x = torch.randint(0, model.vocab_size, (2, 7), generator=g)
        state = model.init_state(2)
        zeros = rt.lm_state(m, 2)
        return [(m.run("score", ids=x.numpy(), **zeros)["log_probs"], torch.log_softmax(model(x, state=state)[0], -1)),
                (m.run("step", ids=x[:, 0].numpy(), **zeros)["log_probs"], model.step(x[:, 0], state)[0])]
    if task == "classify":
        x, n = ids(len(loaded.vocabs["vocab"]), 9, g)
        return [(m.run("model", ids=x.numpy(), lengths=n.numpy())["logits"], model((x, n))[0])]
    if task == "forecast":
        x = torch.randn(2, loaded.configs["data"].window, generator=g)
        return [(m.run("model", window=x.numpy())["forecast"], model(x)[0])]
    if task == "tag":
        from rnnkit.tasks.tag.data import Encoded

        words = loaded.vocabs["words"].tokens[2:] or ["x"]
        sentences = [[words[i % len(words)] for i in range(k, k + n)] for k, n in ((0, 6), (3, 2))]
        d = loaded.configs["data"]
        inputs, _ = Encoded(sentences, loaded.vocabs["words"], loaded.vocabs["chars"], d.lowercase, d.max_word).read([0, 1])
        return [(m.run("model", **rt.tag_inputs(m.config, sentences))["emissions"], model.emissions(inputs))]
    if task in ("translate", "caption"):
        if task == "translate":
            src, n = ids(len(loaded.vocabs["source"]), 6, g)
            state, out = model.encode(src, n), m.run("encoder", src=src.numpy(), lengths=n.numpy())
        else:
            size = loaded.configs["data"].image_size
            images = torch.randint(0, 256, (2, size, size, 3), generator=g, dtype=torch.uint8)
            state, out = model.encode(images), m.run("encoder", images=images.numpy())
        tokens = torch.full((2,), 2)
        feeds = rt.first_state(m, out)
        return [(out["memory"], state.memory),
                (m.run("decoder", tokens=tokens.numpy(), **feeds)["log_probs"], model.step(tokens, state)[0])]
    if task == "speech":
        F = m.config["features"]["n_mels" if m.config["features"]["kind"] == "logmel" else "n_mfcc"]
        x, n = torch.randn(2, 21, F, generator=g), lengths_of(21)
        outputs, _, _ = model((x, n))
        got = m.run("model", frames=x.numpy(), lengths=n.numpy())
        if "log_probs" in got:
            valid = torch.arange(outputs[0].shape[1]) < outputs[1][:, None]  # past a row's frames: padding
            return [(got["log_probs"] * valid.numpy()[..., None], outputs[0] * valid[..., None])]
        return [(got["logits"], outputs)]
    raise RnnkitError(f"no check for task {task!r}")


def verify(loaded, folder) -> dict:
    from rnnkit import onnx_runtime as rt

    m = rt.load(folder)
    worst = max(float(np.abs(a - b.float().numpy()).max()) for a, b in pairs(loaded, m))
    if not worst <= LIMIT:
        raise RnnkitError(f"the exported graphs in {folder} differ from the PyTorch model by {worst:.2e} (more than "
                          f"{LIMIT:g}); please report it with the checkpoint")
    return {"max_abs_difference": worst, "inputs": "two rows of different lengths, random inputs"}
