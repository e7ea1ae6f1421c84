"""The precision of each operand class: weights, activations and the KV cache.

One `PrecisionAssignment` says the format each class of tensor is stored and moved in
(`TensorClass`); the array multiplies every pair at `compute`, the format its multipliers
are set to (`components.pe.mac_format`: the wider operand). It is parsed here, in one place,
from what the CLI (``--precision``), the API (``precision=``) and a sweep's ``precision``
axis accept:

    int8, bf16, fp8_e5m2, ...    one format for all three (the behaviour before per-operand
                                 formats; the label stays the format's name)
    w4a16, w4a8kv8, wint4abf16kvfp8
                                 w<weights> a<activations> [kv<kv cache>]; kv defaults to the
                                 activations' format. A number is a width: 4 int4, 8 int8,
                                 16 bf16, 32 fp32; any format's name is accepted too.

A uniform assignment's label is its format's name (``int8``), so ``w8a8kv8`` and ``int8``
compile, simulate and label identically; a mixed one's is ``w<w>a<a>kv<kv>`` spelled with
widths where the width names the format (``w4a16kv8``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from accel_spec.components.pe import mac_format
from accel_spec.schema import Accelerator
from accel_spec.types import Precision, TensorClass

WIDTHS: dict[str, Precision] = {"4": Precision.INT4, "8": Precision.INT8, "16": Precision.BF16, "32": Precision.FP32}
"""What a bare width means in ``w4a16``: integers up to 8 bits, bfloat16 (the usual 16-bit
format of LLM serving; write ``afp16`` for IEEE half), fp32."""
_SHORT = {precision: width for width, precision in WIDTHS.items()}
_TOKEN = r"[0-9a-z_]+?"
_PATTERN = re.compile(rf"w(?P<w>{_TOKEN})[-_,]?a(?P<a>{_TOKEN})(?:[-_,]?kv(?P<kv>{_TOKEN}))?")
FORMS = (
    "a format for all operands (" + ", ".join(p.value for p in Precision) + "), or w<W>a<A>[kv<KV>] "
    "with each a width (4 int4, 8 int8, 16 bf16, 32 fp32) or a format name, e.g. w4a16, w8a8kv8, w4abf16kvfp8"
)
"""The allowed forms, as error messages name them."""


@dataclass(frozen=True)
class PrecisionAssignment:
    """The format of each operand class.

    Attributes:
        weights: GEMM weights (constant second operands), stored, moved and fed at this format.
        activations: every tensor the network computes, and the vector unit's constants.
        kv: a decoder's KV cache (the appended entries, the cache and its views).
    """

    weights: Precision
    activations: Precision
    kv: Precision

    @classmethod
    def uniform(cls, precision: Precision) -> PrecisionAssignment:
        """One format for every operand: what a plain ``--precision int8`` means."""
        return cls(precision, precision, precision)

    @classmethod
    def parse(cls, text: str) -> PrecisionAssignment:
        """`text` in one of the `FORMS`; ValueError naming the forms otherwise."""
        key = text.strip().lower()
        try:
            return cls.uniform(Precision(key))
        except ValueError:
            pass
        match = _PATTERN.fullmatch(key)
        if match is not None:
            try:
                weights, activations = _format(match["w"]), _format(match["a"])
                kv = activations if match["kv"] is None else _format(match["kv"])
            except ValueError:
                pass
            else:
                return cls(weights, activations, kv)
        raise ValueError(f"unknown precision {text!r}; allowed: {FORMS}")

    @classmethod
    def of(cls, value: PrecisionAssignment | Precision | str | Mapping[str, str]) -> PrecisionAssignment:
        """An assignment from itself, a `Precision`, a string (`parse`) or a mapping with
        ``weights``, ``activations`` and optionally ``kv`` (ValueError when it is none)."""
        if isinstance(value, PrecisionAssignment):
            return value
        if isinstance(value, Precision):
            return cls.uniform(value)
        if isinstance(value, str):
            return cls.parse(value)
        if isinstance(value, Mapping) and set(value) <= {"weights", "activations", "kv"} and len(value) >= 2:
            try:
                weights, activations = Precision(value["weights"]), Precision(value["activations"])
                return cls(weights, activations, Precision(value.get("kv", activations)))
            except (KeyError, ValueError, TypeError):
                pass
        raise ValueError(f"unknown precision {value!r}; allowed: {FORMS}")

    @property
    def is_uniform(self) -> bool:
        return self.weights == self.activations == self.kv

    @property
    def label(self) -> str:
        """``int8`` when uniform, else ``w<w>a<a>kv<kv>`` (module doc); `parse` reads it back."""
        if self.is_uniform:
            return self.weights.value
        return f"w{_spell(self.weights)}a{_spell(self.activations)}kv{_spell(self.kv)}"

    @property
    def compute(self) -> Precision:
        """The format the array's multipliers run at for this program: the pair rule of
        `mac_format` over the pairs it multiplies (weights × activations, activations × KV)."""
        return mac_format(self.weights, self.activations, self.kv)

    def of_class(self, tensor: TensorClass) -> Precision:
        """The format of a tensor of class `tensor`."""
        return (self.activations, self.weights, self.kv)[tensor]

    def __str__(self) -> str:
        return self.label


def _format(token: str) -> Precision:
    return WIDTHS[token] if token in WIDTHS else Precision(token)


def _spell(precision: Precision) -> str:
    return _SHORT.get(precision, precision.value)


def unsupported(accel: Accelerator, formats: PrecisionAssignment) -> str | None:
    """Why `accel`'s array cannot run `formats` (its MAC format is not among the chip's
    `matrix.precisions`), or None when it can. The caller names the chip file."""
    supported = accel.matrix.precisions
    if supported is None or formats.compute in supported:
        return None
    listed = ", ".join(p.value for p in supported)
    return (
        f"precision {formats.label} multiplies in {formats.compute.value}, which this array does not execute "
        f"(it lists {listed}); choose a precision whose wider operand is one of them"
    )
