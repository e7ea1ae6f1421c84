"""ONNX -> Graph: static shapes for every tensor, shape subgraphs folded, weights never read.

`load_onnx` reads a file (structure only; external weight data is never opened);
`graph_from_model` converts an in-memory ModelProto, as the zoo builders produce.
"""

from compiler.frontend.build import graph_from_model
from compiler.frontend.loader import load_onnx

__all__ = ["graph_from_model", "load_onnx"]
