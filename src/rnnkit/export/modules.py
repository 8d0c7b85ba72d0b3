"""The non-recurrent pieces of rnnkit's models as ONNX: embeddings, pooling over time, attention, the
adaptive softmax's log-probabilities and the captioner's convolutional encoder (batch norm in its
inference form). Each mirrors the torch module it names, in the same order of operations."""

from __future__ import annotations

import numpy as np

from rnnkit.export.graph import Graph, dim, linear, reduce, squeeze, unsqueeze
from rnnkit.export.layers import alive_mask


def embed(g: Graph, embedding, ids: str) -> str:
    """``nn.Embedding``: rows of the table, ``ids (...) -> (..., E)``."""
    return g.op("Gather", g.weight(embedding.weight), ids, axis=0)


def one_hot(g: Graph, ids: str, size: int) -> str:
    """``F.one_hot(ids, size)`` as float32 rows of an identity matrix."""
    return g.op("Gather", g.const(np.eye(size, dtype=np.float32), "eye"), ids, axis=0)


def last_valid(g: Graph, outputs: str, lengths: str) -> str:
    """``outputs[b, lengths[b] - 1]`` of ``outputs (B, T, H)``: ``(B, H)``."""
    index = unsqueeze(g, unsqueeze(g, g.op("Sub", lengths, g.const(np.array(1, np.int64))), 1), 2)  # (B, 1, 1)
    index = g.op("Expand", index, g.op("Concat", dim(g, outputs, 0), g.ints(1), dim(g, outputs, 2), axis=0))
    return squeeze(g, g.op("GatherElements", outputs, index, axis=1), 1)


def pool(g: Graph, outputs: str, lengths: str, how: str, bidirectional: bool, size: int) -> str:
    """``rnnkit.models.classifier.pool``: ``outputs (B, T, H')`` -> ``(B, H')`` over each row's own steps."""
    if how == "last":
        last = last_valid(g, outputs, lengths)
        if not bidirectional:
            return last
        first = g.op("Gather", outputs, g.const(np.array(0, np.int64)), axis=1)  # (B, H'): where bwd read it all
        half = size // 2
        fwd = g.op("Slice", last, g.ints(0), g.ints(half), g.ints(-1))
        bwd = g.op("Slice", first, g.ints(half), g.ints(size), g.ints(-1))
        return g.op("Concat", fwd, bwd, axis=-1)
    valid = alive_mask(g, outputs, lengths)  # (B, T, 1)
    if how == "mean":
        total = reduce(g, "ReduceSum", g.op("Mul", outputs, g.op("Cast", valid, to=1)), [1], keepdims=0)
        return g.op("Div", total, unsqueeze(g, g.op("Cast", lengths, to=1), 1))
    if how == "max":
        return reduce(g, "ReduceMax", g.op("Where", valid, outputs, g.scalar(-np.inf)), [1], keepdims=0)
    raise ValueError(f"unknown pooling {how!r}")


def masked_softmax(g: Graph, scores: str, mask: str) -> str:
    """``softmax`` over the last axis where ``mask`` is True (broadcast), 0 elsewhere."""
    return g.op("Softmax", g.op("Where", mask, scores, g.scalar(-np.inf)), axis=-1)


def attention_keys(g: Graph, attention, memory: str) -> str:
    return linear(g, memory, attention.key)  # (B, S, K)


def attention(g: Graph, attention, query: str, memory: str, keys: str, mask: str, single: bool) -> tuple[str, str]:
    """``rnnkit.models.attention.Attention``: ``(context, α)`` for one query per row ``(B, Q)`` (``single``) or
    ``(B, T, Q)``; ``mask (B, S)`` bool."""
    q = unsqueeze(g, query, 1) if single else query  # (B, T, Q)
    if attention.kind == "bahdanau":
        summed = g.op("Add", unsqueeze(g, linear(g, q, attention.query), 2), unsqueeze(g, keys, 1))  # (B, T, S, K)
        e = squeeze(g, linear(g, g.op("Tanh", summed), attention.v), -1)  # (B, T, S)
    else:
        e = g.op("MatMul", q, g.op("Transpose", keys, perm=[0, 2, 1]))  # (B, T, S)
    alpha = masked_softmax(g, e, unsqueeze(g, mask, 1))  # (B, T, S)
    context = g.op("MatMul", alpha, memory)  # (B, T, M)
    if single:
        return squeeze(g, context, 1), squeeze(g, alpha, 1)
    return context, alpha


def log_probs(g: Graph, out, x: str) -> str:
    """The output layer's log-probabilities: ``log_softmax(W x + b)``, or an ``nn.AdaptiveLogSoftmaxWithLoss``'s
    ``log_prob`` (the head's shortlist, then each cluster's words: log p(cluster) + log p(word | cluster))."""
    if not hasattr(out, "cutoffs"):
        return g.op("LogSoftmax", linear(g, x, out), axis=-1)
    head = g.op("LogSoftmax", linear(g, x, out.head), axis=-1)  # (..., shortlist + clusters)
    short = out.shortlist_size
    parts = [g.op("Slice", head, g.ints(0), g.ints(short), g.ints(-1))]
    for i, tail in enumerate(out.tail):
        h = x
        for layer in tail:  # Linear(no bias) -> Linear(no bias)
            h = linear(g, h, layer)
        cluster = g.op("Slice", head, g.ints(short + i), g.ints(short + i + 1), g.ints(-1))
        parts.append(g.op("Add", g.op("LogSoftmax", h, axis=-1), cluster))
    return g.op("Concat", *parts, axis=-1)


def cnn_encoder(g: Graph, encoder, images: str) -> str:
    """``rnnkit.models.cnn_encoder.CNNEncoder``: uint8 ``(B, H, W, 3)`` -> features ``(B, L, C)``."""
    x = g.op("Cast", g.op("Transpose", images, perm=[0, 3, 1, 2]), to=1)  # (B, 3, H, W) float
    x = g.op("Div", g.op("Sub", g.op("Div", x, g.scalar(255.0)), g.scalar(0.5)), g.scalar(0.25))
    for stage in encoder.stages:
        x = conv_bn_relu(g, stage[0], x)
        for block in stage[1:]:
            x = g.op("Add", conv_bn_relu(g, block, x), x)
    B_C = g.op("Reshape", x, g.ints(0, 0, -1))  # (B, C, L)
    return g.op("Transpose", B_C, perm=[0, 2, 1])


def conv_bn_relu(g: Graph, block, x: str) -> str:
    conv, bn = block[0], block[1]
    y = g.op("Conv", x, g.weight(conv.weight), kernel_shape=list(conv.kernel_size), strides=list(conv.stride),
             pads=[*conv.padding, *conv.padding])
    y = g.op("BatchNormalization", y, g.weight(bn.weight), g.weight(bn.bias), g.weight(bn.running_mean),
             g.weight(bn.running_var), epsilon=float(bn.eps))
    return g.op("Relu", y)
