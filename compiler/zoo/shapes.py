"""Shape arithmetic shared by the zoo's parameter checks and its ONNX builder (no onnx import)."""


def conv_out(size: int, kernel: int, stride: int, pad: int) -> int:
    """Output length of a convolution or pooling window along one axis (ONNX floor rule)."""
    return (size + 2 * pad - kernel) // stride + 1
