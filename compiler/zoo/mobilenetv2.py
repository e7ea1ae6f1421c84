"""MobileNetV2 (Sandler et al., 2018, Table 2) as torchvision builds it.

A 3×3/2 stem conv, seventeen inverted residual blocks (1×1 expansion by t, 3×3 depthwise,
linear 1×1 projection; a residual add when stride is 1 and channels match), a 1×1 conv to
1280 channels, global average pool and a linear classifier. Every channel count is rounded
by `make_divisible` (multiples of 8, never more than 10 % below the exact value), and the
last conv keeps 1280 channels when width < 1, both as in the paper's reference code and in
torchvision. At width=1, resolution=224 the MACs equal torchvision's mobilenet_v2 exactly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.zoo.params import BATCH, AtLeast, Param, Params, Positive, ZooModel

if TYPE_CHECKING:  # onnx is imported by the build functions only (see compiler.zoo.registry)
    import onnx

    from compiler.zoo.graph_builder import GraphBuilder

# expansion t, output channels c, repeats n, first stride s (paper Table 2)
_BLOCKS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
_STEM = 32
_LAST = 1280


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round to the nearest multiple of `divisor` (at least `divisor`), and round up once more
    if that lost over 10 % of `value` — the channel rounding of MobileNet's reference code."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def _inverted_residual(b: GraphBuilder, x: str, out: int, stride: int, expansion: int) -> str:
    inp = b.shape(x)[1]
    hidden = round(inp * expansion)
    y = x
    if expansion != 1:
        y = b.relu6(b.conv(y, hidden, 1, name="expand"))
    y = b.relu6(b.conv(y, hidden, 3, stride, groups=hidden, name="depthwise"))
    y = b.conv(y, out, 1, name="project")
    return b.add(x, y) if stride == 1 and inp == out else y


def build_mobilenetv2(p: Params) -> onnx.ModelProto:
    """MobileNetV2 at channel multiplier `width` on `resolution`² images, `classes` outputs."""
    from compiler.zoo.graph_builder import GraphBuilder

    width = p["width"]
    b = GraphBuilder("mobilenetv2")
    x = b.input("input", (p["batch"], 3, p["resolution"], p["resolution"]))
    x = b.relu6(b.conv(x, make_divisible(_STEM * width), 3, stride=2, name="stem"))
    index = 0
    for t, c, n, s in _BLOCKS:
        for i in range(n):
            with b.scope(f"block{index}"):
                x = _inverted_residual(b, x, make_divisible(c * width), s if i == 0 else 1, t)
            index += 1
    x = b.relu6(b.conv(x, make_divisible(_LAST * max(1.0, width)), 1, name="last_conv"))
    x = b.flatten(b.global_avg_pool(x))
    b.output(b.gemm(x, p["classes"], name="logits"))
    return b.build()


MOBILENETV2 = ZooModel(
    name="mobilenetv2",
    description="MobileNetV2 image classifier (inverted residuals, torchvision layout)",
    params=(
        Param("width", float, 1.0, "channel multiplier (rounded to multiples of 8)", Positive()),
        Param("resolution", int, 224, "input height and width in pixels", AtLeast(32)),
        Param("classes", int, 1000, "classifier outputs", AtLeast(1)),
        BATCH,
    ),
    build=build_mobilenetv2,
    aliases={"mobilenet_v2": {}},
)
