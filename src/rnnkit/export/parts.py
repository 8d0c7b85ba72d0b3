"""The graphs of each task's model (its parts), built from a loaded checkpoint: the whole model where it is
one pass (classifier, forecaster, tagger's emissions, speech), a step and a scorer for the char-LM, an
encoder and a decoder step for the translator and the captioner (so greedy and beam search run outside).

Every part is ``Part(file, graph, doc)``: ``doc`` names each input and output with its shape, for the
README and ``config.json``. A recurrent state crosses a graph's boundary as ``h`` (and ``c`` for the LSTM
family), ``(layers, B, H)`` like ``torch.nn.LSTM``'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnkit.export.graph import BOOL, FLOAT, INT64, UINT8, Graph, linear, reduce, squeeze, unsqueeze
from rnnkit.export.layers import run_stack, step_stack
from rnnkit.export.modules import (attention, attention_keys, cnn_encoder, embed, log_probs, one_hot, pool)


@dataclass
class Part:
    file: str
    graph: Graph
    doc: dict  # {"inputs": {name: "shape and meaning"}, "outputs": {...}, "what": "..."}


# -------------------------------------------------------------------- states across a graph's boundary
def state_inputs(g: Graph, stack, batch: str = "batch") -> tuple[list[list[str]], dict]:
    """Inputs ``h`` (and ``c``) ``(layers, B, H)`` unpacked to one state per layer."""
    cell = stack.layers[0].cell
    L, H = len(stack.layers), cell.hidden_size
    names = ["h", "c"] if cell.has_cell_state else ["h"]
    packed = [g.input(n, FLOAT, [L, batch, H]) for n in names]
    per_layer = [[g.op("Gather", p, g.const(np.array(l, np.int64)), axis=0) for p in packed] for l in range(L)]
    return per_layer, {n: f"(layers={L}, {batch}, {H}) float32: the recurrent state" for n in names}


def state_outputs(g: Graph, state: list[list[str]], stack, batch: str = "batch") -> dict:
    """Outputs ``h_out`` (and ``c_out``) ``(layers, B, H)`` of one state per layer."""
    cell = stack.layers[0].cell
    L, H = len(stack.layers), cell.hidden_size
    docs = {}
    for k, n in enumerate(["h", "c"][: len(state[0])]):
        g.output(g.op("Concat", *[unsqueeze(g, s[k], 0) for s in state], axis=0), f"{n}_out", FLOAT, [L, batch, H])
        docs[f"{n}_out"] = f"(layers={L}, {batch}, {H}) float32: the state after the input"
    return docs


def part(name: str, g: Graph, what: str, inputs: dict, outputs: dict) -> Part:
    return Part(f"{name}.onnx", g, {"what": what, "inputs": inputs, "outputs": outputs})


# -------------------------------------------------------------------- char-LM
def lm_parts(model, opset: int, recurrence: str) -> list[Part]:
    V = model.vocab_size

    def read(g, ids):
        return embed(g, model.embed, ids) if model.embed is not None else one_hot(g, ids, V)

    g = Graph("score", opset)
    ids = g.input("ids", INT64, ["batch", "time"])
    state, state_doc = state_inputs(g, model.rnn)
    h, final = run_stack(g, model.rnn, read(g, ids), None, state, recurrence)
    g.output(log_probs(g, model.head, h), "log_probs", FLOAT, ["batch", "time", V])
    out_doc = state_outputs(g, final, model.rnn)
    score = part("score", g, "a whole sequence: log p of the character after each position, and the state after it",
                 {"ids": "(batch, time) int64: character ids", **state_doc},
                 {"log_probs": f"(batch, time, {V}) float32: log p(next character)", **out_doc})
    g = Graph("step", opset)
    ids = g.input("ids", INT64, ["batch"])
    state, state_doc = state_inputs(g, model.rnn)
    h, new = step_stack(g, model.rnn, read(g, ids), state)
    g.output(log_probs(g, model.head, h), "log_probs", FLOAT, ["batch", V])
    out_doc = state_outputs(g, new, model.rnn)
    step = part("step", g, "one character per row (streaming generation): log p of the next one and the new state",
                {"ids": "(batch,) int64: the last character of each row", **state_doc},
                {"log_probs": f"(batch, {V}) float32: log p(next character)", **out_doc})
    return [step, score]


# -------------------------------------------------------------------- classifier, forecaster
def classify_parts(model, opset: int, recurrence: str) -> list[Part]:
    g = Graph("classify", opset)
    ids, lengths = g.input("ids", INT64, ["batch", "time"]), g.input("lengths", INT64, ["batch"])
    if hasattr(model, "rnn"):
        c = model.config
        out, _ = run_stack(g, model.rnn, embed(g, model.embed, ids), lengths, None, recurrence)
        h = pool(g, out, lengths, c.pooling, c.rnn.bidirectional, model.rnn.output_size)
        if model.dense is not None:
            h = g.op("Relu", linear(g, h, model.dense))
        logits = linear(g, h, model.head)
    else:  # the bag-of-tokens baseline: token frequencies, padding not counted
        counts = reduce(g, "ReduceSum", one_hot(g, ids, model.vocab_size), [1], keepdims=0)  # (B, V)
        keep = np.ones(model.vocab_size, np.float32)
        keep[0] = 0.0
        f = g.op("Div", g.op("Mul", counts, g.const(keep)), unsqueeze(g, g.op("Cast", lengths, to=1), 1))
        logits = linear(g, f, model.linear)
    binary = model.head.out_features == 1 if hasattr(model, "head") else model.linear.out_features == 1
    if binary:
        logits = squeeze(g, logits, 1)  # (B,): one logit, sigmoid
        p = g.op("Sigmoid", logits)
        probs = g.op("Concat", unsqueeze(g, g.op("Sub", g.scalar(1.0), p), 1), unsqueeze(g, p, 1), axis=1)
    else:
        probs = g.op("Softmax", logits, axis=-1)
    C = 2 if binary else model.head.out_features if hasattr(model, "head") else model.linear.out_features
    g.output(logits, "logits", FLOAT, ["batch"] if binary else ["batch", C])
    g.output(probs, "probabilities", FLOAT, ["batch", C])
    return [part("model", g, "texts -> class scores", {"ids": "(batch, time) int64: token ids, 0 pads",
                                                        "lengths": "(batch,) int64: tokens per text (>= 1)"},
                 {"logits": "(batch,) float32 for two classes (sigmoid), else (batch, classes)",
                  "probabilities": f"(batch, {C}) float32"})]


def forecast_parts(model, opset: int, recurrence: str) -> list[Part]:
    g = Graph("forecast", opset)
    window = g.input("window", FLOAT, ["batch", "time"])
    name = type(model).__name__
    K = model.head.out_features
    if name == "RNNForecaster":
        h, _ = run_stack(g, model.rnn, unsqueeze(g, window, 2), None, None, recurrence)  # (B, W, H)
        if model.config.mode == "many-to-one":
            h = g.op("Gather", h, g.const(np.array(-1, np.int64)), axis=1)  # (B, H): after the whole window
        preds = linear(g, h, model.head)
    elif name == "WindowMLP":
        h = window
        for layer in model.body:
            h = g.op("Relu", linear(g, h, layer))
        preds = linear(g, h, model.head)
    else:  # WindowConv
        h = unsqueeze(g, window, 1)  # (B, 1, W)
        for conv in model.convs:
            h = g.op("Relu", g.op("Conv", h, g.weight(conv.weight), g.weight(conv.bias), kernel_shape=list(conv.kernel_size)))
        preds = linear(g, g.op("Flatten", h, axis=1), model.head)
    many = name == "RNNForecaster" and model.config.mode == "many-to-many"
    g.output(preds, "forecast", FLOAT, ["batch", "time", K] if many else ["batch", K])
    return [part("model", g, "scaled windows -> scaled forecasts",
                 {"window": "(batch, time) float32: the scaled values read (any length for the rnn; the trained "
                            "window for the baselines)"},
                 {"forecast": f"(batch, {K}) float32" + (", (batch, time, K) many-to-many" if many else "")})]


# -------------------------------------------------------------------- tagger
def tag_parts(model, opset: int, recurrence: str) -> list[Part]:
    g = Graph("tag", opset)
    words, lengths = g.input("words", INT64, ["batch", "time"]), g.input("lengths", INT64, ["batch"])
    inputs = {"words": "(batch, time) int64: word ids, 0 pads", "lengths": "(batch,) int64: words per sentence"}
    x = embed(g, model.embed, words)  # (B, T, E)
    if model.chars is not None:
        chars, char_lengths = g.input("chars", INT64, ["words", "letters"]), g.input("char_lengths", INT64, ["words"])
        slots = g.input("slots", INT64, ["batch", "time"])
        inputs.update(chars="(words, letters) int64: the characters of the batch's distinct words",
                      char_lengths="(words,) int64", slots="(batch, time) int64: which distinct word each position holds")
        _, (last,) = run_stack(g, model.chars.rnn, embed(g, model.chars.embed, chars), char_lengths, None, recurrence)
        per_word = g.op("Concat", last[0][0], last[1][0], axis=-1)  # (U, 2C): h of each direction
        x = g.op("Concat", x, g.op("Gather", per_word, slots, axis=0), axis=-1)
    if model.shape is not None:
        shapes = g.input("shapes", INT64, ["batch", "time"])
        inputs["shapes"] = "(batch, time) int64: each word's shape class (rnnkit.tasks.tag.shape), 0 pads"
        x = g.op("Concat", x, embed(g, model.shape, shapes), axis=-1)
    out, _ = run_stack(g, model.rnn, x, lengths, None, recurrence)  # (B, T, 2H)
    features = out
    if model.attention is not None:
        from rnnkit.export.layers import alive_mask

        valid = squeeze(g, alive_mask(g, out, lengths), 2)  # (B, T)
        context, _ = attention(g, model.attention, out, out, attention_keys(g, model.attention, out), valid, False)
        features = g.op("Concat", out, context, axis=-1)
    K = len(model.tags)
    g.output(linear(g, features, model.head), "emissions", FLOAT, ["batch", "time", K])
    return [part("model", g, "sentences -> per-word tag scores (Viterbi over them with a CRF: the runtime)", inputs,
                 {"emissions": f"(batch, time, {K}) float32"})]


# -------------------------------------------------------------------- speech
def speech_parts(model, opset: int, recurrence: str) -> list[Part]:
    g = Graph("speech", opset)
    frames, lengths = g.input("frames", FLOAT, ["batch", "time", None]), g.input("lengths", INT64, ["batch"])
    enc = model.encoder
    x, k = frames, enc.stack
    if k > 1:  # rnnkit.models.speech.stack_frames: padding zeroed, T padded to a multiple of k, k frames side by side
        from rnnkit.export.graph import dim
        from rnnkit.export.layers import alive_mask

        x = g.op("Where", alive_mask(g, x, lengths), x, g.scalar(0.0))
        T = dim(g, x, 1)
        extra = g.op("Mod", g.op("Sub", g.ints(k), g.op("Mod", T, g.ints(k))), g.ints(k))  # (-T) mod k
        x = g.op("Pad", x, g.op("Concat", g.ints(0, 0, 0, 0), extra, g.ints(0), axis=0))
        first = enc.rnn.layers[0]
        width = (first.fwd.cell if hasattr(first, "fwd") else first.cell).input_size  # k * features
        x = g.op("Reshape", x, g.ints(0, -1, width))  # (B, T', k F)
        lengths = g.op("Div", g.op("Add", lengths, g.const(np.array(k - 1, np.int64))), g.const(np.array(k, np.int64)))
    out, _ = run_stack(g, enc.rnn, x, lengths, None, recurrence)  # (B, T', H')
    C = model.head.out_features
    if type(model).__name__ == "CTCRecognizer":
        g.output(g.op("LogSoftmax", linear(g, out, model.head), axis=-1), "log_probs", FLOAT, ["batch", "frames", C])
        g.output(lengths, "out_lengths", INT64, ["batch"])
        outputs = {"log_probs": f"(batch, frames, {C}) float32: CTC log-probabilities, 0 is the blank",
                   "out_lengths": "(batch,) int64: valid output frames per row"}
    else:
        logits = linear(g, pool(g, out, lengths, model.pooling, enc.bidirectional, enc.output_size), model.head)
        g.output(logits, "logits", FLOAT, ["batch", C])
        g.output(g.op("Softmax", logits, axis=-1), "probabilities", FLOAT, ["batch", C])
        outputs = {"logits": f"(batch, {C}) float32", "probabilities": f"(batch, {C}) float32"}
    return [part("model", g, "normalised acoustic features -> " + ("CTC log-probabilities" if "log_probs" in outputs
                                                                   else "the word's scores"),
                 {"frames": "(batch, time, features) float32: per-utterance normalised features (the runtime's "
                            "features())", "lengths": "(batch,) int64: frames per utterance"}, outputs)]
