"""The model-side metric of a design point: the variant's published top-1 accuracy.

It depends on the model variant only, never on the chip, so every evaluator (real or fake)
adds it the same way. ONNX files and variants without a published figure get NaN.
"""

from __future__ import annotations

import math

from compiler.models import looks_like_file
from compiler.zoo import parse_model_spec
from compiler.zoo.accuracy import published_accuracy

ACCURACY_COLUMN = "accuracy_top1"


def accuracy_top1(model: str) -> float:
    """Published ImageNet top-1 (percent) of a zoo variant; NaN when none was published."""
    if looks_like_file(model):
        return math.nan
    found = published_accuracy(parse_model_spec(model))
    return found.top1 if found is not None else math.nan
