"""Run the ONNX checker on a zoo model whose weights exist only as external-data declarations.

`onnx.checker.check_model` (onnx ≥ 1.16, with or without `full_check`) insists that the file
named by every external tensor's ``location`` is a regular file, so a model built by the zoo,
which on purpose writes no weights, fails it for that reason alone. Declaring weights as
graph inputs instead would pass, but would misrepresent the network to every consumer (a
weight would look like an activation). So the check is run as the checker means it: the
model is saved next to a *sparse* weights file of exactly the declared length (zero bytes on
disk, no data written), and `check_model` runs on that path with `full_check=True`, which
also runs strict shape inference. Everything the checker validates is validated on the
model as built; only the weight values, which the zoo does not have, are zeros.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import onnx

from compiler.zoo.graph_builder import WEIGHTS_FILE


def external_bytes(model: onnx.ModelProto) -> int:
    """End of the furthest external-data extent declared by the model's initializers."""
    end = 0
    for tensor in model.graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            info = {entry.key: entry.value for entry in tensor.external_data}
            end = max(end, int(info.get("offset", 0)) + int(info["length"]))
    return end


def check_zoo_model(model: onnx.ModelProto) -> None:
    """`onnx.checker.check_model(full_check=True)` on `model`; raises onnx's ValidationError
    (or InferenceError) if it is not a valid ONNX model."""
    with tempfile.TemporaryDirectory(prefix="tessera-zoo-check-") as folder:
        path = Path(folder) / "model.onnx"
        path.write_bytes(model.SerializeToString())
        with open(Path(folder) / WEIGHTS_FILE, "wb") as weights:
            weights.truncate(external_bytes(model))
        onnx.checker.check_model(str(path), full_check=True)
