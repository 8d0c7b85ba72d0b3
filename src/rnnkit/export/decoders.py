"""The translator's and the captioner's two graphs: ``encoder`` (a batch of sources -> the decoder's first
state) and ``decoder`` (one step: the previous words and the state -> log p of the next word and the new
state), so greedy and beam search run outside PyTorch (``rnnkit.onnx_runtime``) as ``rnnkit.decoding``
runs them: one step per word, the state carried, never re-running the prefix.

The decoder's state is ``h`` (and ``c``) ``(layers, N, H)``, plus what the encoder computed once per
source: ``memory (N, S, M)``, ``keys (N, S, K)`` (attention only) and ``mask (N, S)``.
"""

from __future__ import annotations

from onnx import helper

from rnnkit.export.graph import BOOL, FLOAT, INT64, UINT8, Graph, dim, linear, reduce, unsqueeze
from rnnkit.export.layers import alive_mask, run_stack, step_stack
from rnnkit.export.modules import attention, attention_keys, cnn_encoder, embed, log_probs
from rnnkit.export.parts import Part, part, state_inputs, state_outputs

MEMORY_DOC = {"memory": "(batch, positions, M) float32: the encoder's outputs",
              "keys": "(batch, positions, K) float32: attention keys, computed once",
              "mask": "(batch, positions) bool: real positions"}


def top(state: list[list[str]]) -> str:
    return state[-1][0]  # the last layer's h


def memory_inputs(g: Graph, M: int, K: int | None) -> tuple[str, str | None, str]:
    memory = g.input("memory", FLOAT, ["batch", "positions", M])
    keys = g.input("keys", FLOAT, ["batch", "positions", K]) if K is not None else None
    return memory, keys, g.input("mask", BOOL, ["batch", "positions"])


def memory_outputs(g: Graph, memory: str, keys: str | None, mask: str, M: int, K: int | None) -> dict:
    g.output(memory, "memory", FLOAT, ["batch", "positions", M])
    if keys is not None:
        g.output(keys, "keys", FLOAT, ["batch", "positions", K])
    g.output(mask, "mask", BOOL, ["batch", "positions"])
    return {k: v for k, v in MEMORY_DOC.items() if k != "keys" or keys is not None}


def key_size(att) -> int | None:
    return att.key.out_features if att is not None else None


# -------------------------------------------------------------------- translator
def translate_parts(model, opset: int, recurrence: str) -> list[Part]:
    c, H = model.config, model.config.rnn.hidden
    M, K = model.encoder.output_size, key_size(model.attention)
    g = Graph("encoder", opset)
    src, lengths = g.input("src", INT64, ["batch", "positions"]), g.input("lengths", INT64, ["batch"])
    memory, final = run_stack(g, model.encoder, embed(g, model.src_embed, src), lengths, None, recurrence)
    if model.bridge is not None:  # s_0 = tanh(W_b [s_fwd; s_bwd]) per layer and component
        merged = []
        for l, (fwd, bwd) in enumerate(final):
            merged.append([g.op("Tanh", linear(g, g.op("Concat", f, b, axis=-1), model.bridge[l * len(fwd) + i]))
                           for i, (f, b) in enumerate(zip(fwd, bwd))])
        final = merged
    mask = g.op("Squeeze", alive_mask(g, memory, lengths), g.ints(2))  # (B, S): real source positions
    keys = attention_keys(g, model.attention, memory) if model.attention is not None else None
    outs = {**state_outputs(g, final, model.decoder), **memory_outputs(g, memory, keys, mask, M, K)}
    encoder = part("encoder", g, "source sentences -> the decoder's first state",
                   {"src": "(batch, positions) int64: source word ids, 0 pads", "lengths": "(batch,) int64"}, outs)

    g = Graph("decoder", opset)
    tokens = g.input("tokens", INT64, ["batch"])
    state, state_doc = state_inputs(g, model.decoder)
    ins = {"tokens": "(batch,) int64: the previous word (<s> first)", **state_doc}
    if model.attention is not None:
        memory, keys, mask = memory_inputs(g, M, K)
        ins.update({k: v for k, v in MEMORY_DOC.items()})
    x = embed(g, model.tgt_embed, tokens)  # (N, E)
    if c.attention == "bahdanau":  # query s_{t-1}: the context is an input of the step
        context, _ = attention(g, model.attention, top(state), memory, keys, mask, True)
        x = g.op("Concat", x, context, axis=-1)
    h, new = step_stack(g, model.decoder, x, state)
    if c.attention == "luong":  # query h_t
        context, _ = attention(g, model.attention, h, memory, keys, mask, True)
    if model.attention is not None:
        h = g.op("Tanh", linear(g, g.op("Concat", context, h, axis=-1), model.combine))  # õ_t
    V = model.tgt_embed.num_embeddings
    g.output(log_probs(g, model.out, h), "log_probs", FLOAT, ["batch", V])
    decoder = part("decoder", g, "one decoding step", ins,
                   {"log_probs": f"(batch, {V}) float32: log p(next word)", **state_outputs(g, new, model.decoder)})
    return [encoder, decoder]


# -------------------------------------------------------------------- captioner
def caption_parts(model, opset: int, recurrence: str) -> list[Part]:
    H = model.config.rnn.hidden
    g = Graph("encoder", opset)
    images = g.input("images", UINT8, ["batch", "height", "width", 3])
    if model.encoder is not None:
        memory = cnn_encoder(g, model.encoder, images)  # (B, L, C)
        M = model.encoder.size
    else:  # blind: one zero feature
        memory = g.op("ConstantOfShape", g.op("Concat", dim(g, images, 0), g.ints(1, 1), axis=0),
                      value=helper.make_tensor("zero", FLOAT, [1], [0.0]))
        M = 1
    mean = reduce(g, "ReduceMean", memory, [1], keepdims=0)  # (B, C)  ā
    h0 = g.op("Tanh", linear(g, mean, model.init_h))
    state = [[h0, g.op("Tanh", linear(g, mean, model.init_c))]] if model.has_cell else [[h0]]
    K = key_size(model.attention) if model.attend else None
    keys = attention_keys(g, model.attention, memory) if model.attend else None
    grid = g.op("Slice", g.op("Shape", memory), g.ints(0), g.ints(2), g.ints(0))  # (B, L)
    mask = g.op("ConstantOfShape", grid, value=helper.make_tensor("real", BOOL, [1], [True]))  # every position is real
    outs = {**state_outputs(g, state, model.decoder), **memory_outputs(g, memory, keys, mask, M, K)}
    encoder = part("encoder", g, "images -> the decoder's first state",
                   {"images": "(batch, height, width, 3) uint8 RGB, the trained size"}, outs)

    g = Graph("decoder", opset)
    tokens = g.input("tokens", INT64, ["batch"])
    state, state_doc = state_inputs(g, model.decoder)
    ins = {"tokens": "(batch,) int64: the previous word (<s> first)", **state_doc}
    embedded = embed(g, model.embed, tokens)  # (N, E)
    x = embedded
    if model.attend:
        memory, keys, mask = memory_inputs(g, M, K)
        ins.update(MEMORY_DOC)
        query = top(state)  # h_{t-1}
        context, _ = attention(g, model.attention, query, memory, keys, mask, True)
        z = g.op("Mul", g.op("Sigmoid", linear(g, query, model.gate)), context)  # ẑ_t = β_t Σ_i α_ti a_i
        x = g.op("Concat", embedded, z, axis=-1)
    h, new = step_stack(g, model.decoder, x, state)
    if model.attend:  # the deep output tanh(E y + L_h h + L_z ẑ)
        h = g.op("Tanh", g.op("Add", g.op("Add", embedded, linear(g, h, model.out_h)), linear(g, z, model.out_z)))
    V = model.embed.num_embeddings
    g.output(log_probs(g, model.out, h), "log_probs", FLOAT, ["batch", V])
    decoder = part("decoder", g, "one decoding step", ins,
                   {"log_probs": f"(batch, {V}) float32: log p(next word)", **state_outputs(g, new, model.decoder)})
    return [encoder, decoder]

