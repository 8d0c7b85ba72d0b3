"""A small ONNX graph builder: nodes are added by op name, tensors are named strings, weights become
initializers (each torch tensor once, however often it is used). Subgraphs (the body of a ``Scan``)
share the root's initializers and name counter, so a body reads a weight of the outer graph by name.

    g = Graph("score", opset=17)
    ids = g.input("ids", INT64, ["batch", "time"])                          # (B, T)
    x = g.op("Gather", g.weight(model.embed.weight), ids)                  # (B, T, E)
    g.output(linear(g, x, model.head), "logits", FLOAT, ["batch", "time", "vocab"])
    model_proto = g.model()
"""

from __future__ import annotations

import itertools

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FLOAT, INT64, INT32, BOOL, UINT8 = TensorProto.FLOAT, TensorProto.INT64, TensorProto.INT32, TensorProto.BOOL, TensorProto.UINT8
#: The opsets the builder writes: from 14 (the recurrent operators' current form) to the installed onnx's newest.
MIN_OPSET = 14


class Graph:
    """Nodes, inputs, outputs and initializers of one graph (the root, or a subgraph of it)."""

    def __init__(self, name: str, opset: int = 17, parent: "Graph | None" = None):
        self.name, self.opset = name, opset
        self.nodes, self.inputs, self.outputs = [], [], []
        self.root = parent.root if parent is not None else self
        if parent is None:
            self.initializers, self.weights, self.counter = [], {}, itertools.count()

    # ---------------------------------------------------------------- names and tensors
    def fresh(self, hint: str = "t") -> str:
        return f"{hint}_{next(self.root.counter)}"

    def const(self, array, hint: str = "c") -> str:
        """A constant (an initializer of the root graph): ``array`` as given (float64 becomes float32)."""
        array = np.asarray(array)
        if array.dtype == np.float64:
            array = array.astype(np.float32)
        name = self.fresh(hint)
        self.root.initializers.append(numpy_helper.from_array(array, name))
        return name

    def ints(self, *values: int) -> str:
        return self.const(np.array(values, dtype=np.int64), "i")

    def scalar(self, value: float) -> str:
        return self.const(np.array(value, dtype=np.float32), "s")

    def weight(self, tensor, transform=None) -> str:
        """A torch parameter or buffer as float32 (``transform`` of its NumPy array first), once per tensor."""
        key = (id(tensor), transform)
        if key not in self.root.weights:  # the tensor is kept with its name, so its id is never reused
            array = tensor.detach().cpu().float().numpy()
            self.root.weights[key] = (tensor, self.const(transform(array) if transform else array, "w"))
        return self.root.weights[key][1]

    def input(self, name: str, elem_type=FLOAT, shape=None) -> str:
        self.inputs.append(helper.make_tensor_value_info(name, elem_type, shape))
        return name

    def output(self, value: str, name: str, elem_type=FLOAT, shape=None) -> str:
        """Expose ``value`` as the output ``name`` (through an Identity, so one value may be two outputs)."""
        self.nodes.append(helper.make_node("Identity", [value], [name]))
        self.outputs.append(helper.make_tensor_value_info(name, elem_type, shape))
        return name

    # ---------------------------------------------------------------- nodes
    def op(self, op_type: str, *inputs: str, outputs: int = 1, **attributes):
        """Add one node; returns its output name (or a tuple of ``outputs`` names). An input ``""`` is an
        omitted optional input."""
        names = [self.fresh(op_type.lower()) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), names, **attributes))
        return names[0] if outputs == 1 else tuple(names)

    def subgraph(self, name: str) -> "Graph":
        return Graph(name, self.opset, parent=self)

    def proto(self) -> onnx.GraphProto:
        initializers = self.initializers if self.root is self else []
        return helper.make_graph(self.nodes, self.name, self.inputs, self.outputs, initializers)

    def model(self) -> onnx.ModelProto:
        import rnnkit

        m = helper.make_model(self.proto(), opset_imports=[helper.make_opsetid("", self.opset)],
                              producer_name="rnnkit", producer_version=rnnkit.__version__)
        m.ir_version = min(m.ir_version, 8 if self.opset <= 17 else 9)  # what older runtimes still read
        return m


# -------------------------------------------------------------------- op helpers shared by the parts
def reduce(g: Graph, op: str, x: str, axes: list[int], keepdims: int = 1) -> str:
    """``Reduce*`` over ``axes``: an attribute before opset 18 (ReduceSum: 13), an input from then on."""
    since = 13 if op == "ReduceSum" else 18
    if g.opset >= since:
        return g.op(op, x, g.ints(*axes), keepdims=keepdims)
    return g.op(op, x, axes=axes, keepdims=keepdims)


def unsqueeze(g: Graph, x: str, *axes: int) -> str:
    return g.op("Unsqueeze", x, g.ints(*axes))


def squeeze(g: Graph, x: str, *axes: int) -> str:
    return g.op("Squeeze", x, g.ints(*axes))


def chunk(g: Graph, x: str, size: int, count: int) -> list[str]:
    """The ``count`` blocks of ``size`` along the last axis (the gates of stacked rows)."""
    return [g.op("Slice", x, g.ints(i * size), g.ints((i + 1) * size), g.ints(-1)) for i in range(count)]


def dim(g: Graph, x: str, axis: int) -> str:
    """The size of ``x`` along ``axis`` as a 1-element int64 tensor."""
    return g.op("Gather", g.op("Shape", x), g.ints(axis), axis=0)


def linear(g: Graph, x: str, layer, weight=None, bias=None) -> str:
    """``x W^T + b`` of a ``torch.nn.Linear`` (or the given weight and bias tensors), for any leading axes."""
    weight = layer.weight if layer is not None else weight
    bias = layer.bias if layer is not None else bias
    y = g.op("MatMul", x, g.weight(weight, np.transpose))
    return g.op("Add", y, g.weight(bias)) if bias is not None else y


def zeros_like_rows(g: Graph, rows_of: str, width: int, axis: int = 0) -> str:
    """Zeros ``(B, width)``, B the size of ``rows_of`` along ``axis``: a zero initial state."""
    shape = g.op("Concat", dim(g, rows_of, axis), g.ints(width), axis=0)
    return g.op("ConstantOfShape", shape, value=helper.make_tensor("zero", FLOAT, [1], [0.0]))
