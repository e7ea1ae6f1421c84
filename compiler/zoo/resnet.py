"""ResNet (He et al., 2016, Table 1) as torchvision builds it ("ResNet v1.5").

Stem 7×7/2 conv + 3×3/2 max pool, four stages of basic (18, 34) or bottleneck (50, 101, 152)
blocks at 64·w, 128·w, 256·w, 512·w channels (bottlenecks expand ×4), the stride-2 of a stage
on the first block's 3×3 conv (v1.5, as torchvision), a 1×1 projection shortcut where shape
changes, global average pool and a fully connected classifier. Batch norm is folded into the
convolutions. At width=1, resolution=224 the MACs equal torchvision's resnet18/50 exactly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.zoo.params import BATCH, AtLeast, OneOf, Param, Params, Positive, ZooModel

if TYPE_CHECKING:  # onnx is imported by the build functions only (see compiler.zoo.registry)
    import onnx

    from compiler.zoo.graph_builder import GraphBuilder

# depth -> (bottleneck?, blocks per stage)
_LAYOUT = {
    18: (False, (2, 2, 2, 2)),
    34: (False, (3, 4, 6, 3)),
    50: (True, (3, 4, 6, 3)),
    101: (True, (3, 4, 23, 3)),
    152: (True, (3, 8, 36, 3)),
}
_STAGE_PLANES = (64, 128, 256, 512)
_EXPANSION = 4


def _scaled(channels: int, width: float) -> int:
    return max(1, round(channels * width))


def _basic(b: GraphBuilder, x: str, planes: int, stride: int) -> str:
    y = b.relu(b.conv(x, planes, 3, stride, name="conv1"))
    y = b.conv(y, planes, 3, name="conv2")
    shortcut = x
    if stride != 1 or b.shape(x)[1] != planes:
        shortcut = b.conv(x, planes, 1, stride, name="downsample")
    return b.relu(b.add(y, shortcut))


def _bottleneck(b: GraphBuilder, x: str, planes: int, stride: int) -> str:
    y = b.relu(b.conv(x, planes, 1, name="conv1"))
    y = b.relu(b.conv(y, planes, 3, stride, name="conv2"))
    y = b.conv(y, planes * _EXPANSION, 1, name="conv3")
    shortcut = x
    if stride != 1 or b.shape(x)[1] != planes * _EXPANSION:
        shortcut = b.conv(x, planes * _EXPANSION, 1, stride, name="downsample")
    return b.relu(b.add(y, shortcut))


def build_resnet(p: Params) -> onnx.ModelProto:
    """ResNet-`depth` at `width`×channels on `resolution`² RGB images, `classes` outputs."""
    from compiler.zoo.graph_builder import GraphBuilder

    bottleneck, blocks = _LAYOUT[p["depth"]]
    block = _bottleneck if bottleneck else _basic
    b = GraphBuilder(f"resnet{p['depth']}")
    x = b.input("input", (p["batch"], 3, p["resolution"], p["resolution"]))
    x = b.relu(b.conv(x, _scaled(64, p["width"]), 7, stride=2, name="conv1"))
    x = b.maxpool(x, kernel=3, stride=2, pad=1)
    for stage, (planes, count) in enumerate(zip(_STAGE_PLANES, blocks, strict=True)):
        for i in range(count):
            with b.scope(f"layer{stage + 1}.{i}"):
                x = block(b, x, _scaled(planes, p["width"]), 2 if i == 0 and stage > 0 else 1)
    x = b.flatten(b.global_avg_pool(x))
    b.output(b.gemm(x, p["classes"], name="logits"))
    return b.build()


RESNET = ZooModel(
    name="resnet",
    description="ResNet-18/34/50/101/152 image classifier (torchvision v1.5 layout)",
    params=(
        Param("depth", int, 50, "number of weighted layers", OneOf(tuple(_LAYOUT))),
        Param("width", float, 1.0, "channel multiplier for every conv", Positive()),
        Param("resolution", int, 224, "input height and width in pixels", AtLeast(32)),
        Param("classes", int, 1000, "classifier outputs", AtLeast(1)),
        BATCH,
    ),
    build=build_resnet,
    aliases={f"resnet{depth}": {"depth": depth} for depth in _LAYOUT},
)
