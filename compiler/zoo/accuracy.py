"""Published ImageNet top-1 accuracy of zoo variants, so sweeps can trade accuracy for cost.

A co-design sweep over model variants with only latency, energy and area as objectives is
degenerate: the smallest network always wins. Real design decisions weigh those costs against
accuracy. Tessera does not train networks, so it only knows the accuracy that the networks'
authors published for exact variants; any other variant has no accuracy (None), and a sweep
that optimises accuracy over such a variant is refused before it runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.zoo.params import ModelSpec


@dataclass(frozen=True)
class PublishedAccuracy:
    """ImageNet-1k top-1 accuracy in percent, and where it was published."""

    top1: float
    source: str


# Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks", CVPR 2018; the
# per-variant figures are the authors' released checkpoint table (TF-slim
# research/slim/nets/mobilenet, reproduced in keras.applications.mobilenet_v2), float models,
# ImageNet validation top-1. Keyed by (width multiplier, input resolution).
_MOBILENETV2_SOURCE = "Sandler et al. CVPR 2018, TF-slim MobileNetV2 checkpoint table"
_MOBILENETV2_TOP1 = {
    (1.4, 224): 75.0, (1.3, 224): 74.4,
    (1.0, 224): 71.8, (1.0, 192): 70.7, (1.0, 160): 68.8, (1.0, 128): 65.3, (1.0, 96): 60.3,
    (0.75, 224): 69.8, (0.75, 192): 68.7, (0.75, 160): 66.4, (0.75, 128): 63.2, (0.75, 96): 58.8,
    (0.5, 224): 65.4, (0.5, 192): 63.9, (0.5, 160): 61.0, (0.5, 128): 57.7, (0.5, 96): 51.2,
    (0.35, 224): 60.3, (0.35, 192): 58.2, (0.35, 160): 55.7, (0.35, 128): 50.8, (0.35, 96): 45.5,
}

# He et al., "Deep Residual Learning for Image Recognition", CVPR 2016, as trained and published
# by torchvision (IMAGENET1K_V1 weights, 224x224 single crop), width 1.0, 1000 classes.
_RESNET_SOURCE = "He et al. CVPR 2016; torchvision IMAGENET1K_V1 weights"
_RESNET_TOP1 = {18: 69.758, 34: 73.314, 50: 76.130, 101: 77.374, 152: 78.312}


def published_accuracy(spec: ModelSpec) -> PublishedAccuracy | None:
    """The published top-1 accuracy of exactly this variant, or None if none was published."""
    params = spec.as_dict()
    if spec.name == "mobilenetv2" and params.get("classes") == 1000:
        top1 = _MOBILENETV2_TOP1.get((float(params["width"]), int(params["resolution"])))
        return PublishedAccuracy(top1, _MOBILENETV2_SOURCE) if top1 is not None else None
    if spec.name == "resnet" and params.get("classes") == 1000:
        if float(params["width"]) == 1.0 and int(params["resolution"]) == 224:
            return PublishedAccuracy(_RESNET_TOP1[int(params["depth"])], _RESNET_SOURCE)
    return None
