"""The model zoo: parametric ONNX builders for classic and transformer networks.

`parse_model_spec("mobilenetv2:width=0.5,resolution=160")` gives a complete, typed
`ModelSpec`; `build_model(spec)` gives an `onnx.ModelProto` with static shapes whose weights
are declared (external data) but never materialised; `zoo_models()` and `models_table()`
describe every family and its parameters; `compiler.zoo.validate.check_zoo_model` runs the
ONNX checker on a built model.
"""

from compiler.zoo.catalog import models_table
from compiler.zoo.params import ModelSpec, Param, Phase, ZooModel
from compiler.zoo.registry import build_model, parse_model_spec, zoo_model, zoo_models

__all__ = [
    "ModelSpec",
    "Param",
    "Phase",
    "ZooModel",
    "build_model",
    "models_table",
    "parse_model_spec",
    "zoo_model",
    "zoo_models",
]
