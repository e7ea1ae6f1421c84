"""Precision per operand class: the parser, the MAC format of a mixed pair, and closed forms of
what each class moves (`accel_spec.precision`, `scheduling.roles`)."""

from __future__ import annotations

import pickle
from enum import Enum
from pathlib import Path

import numpy as np
import pytest

from accel_spec.components.pe import Arith, arith_energy_45nm, mac_energy_45nm, mac_format
from accel_spec.precision import PrecisionAssignment, unsupported
from accel_spec.technology import resolve
from accel_spec.types import Operand, Precision, TensorClass
from compiler.scheduling.objective import Objective
from compiler.scheduling.schedule import SchedulerKind
from compiler.target import LEVEL_DRAM, TimingMode
from compiler.target.isa import Opcode
from serving.kv_cache import DecoderShape, kv_budget
from compiler.zoo.registry import parse_model_spec
from tessera.api import load_accelerator, simulate
from tessera.errors import InputError
from compiler.workload import WorkloadKind

ROOT = Path(__file__).resolve().parents[2]
DATACENTER = ROOT / "examples" / "accelerators" / "datacenter_bf16.yaml"
P = Precision


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("int8", (P.INT8, P.INT8, P.INT8)),
        ("BF16", (P.BF16, P.BF16, P.BF16)),
        ("w4a16", (P.INT4, P.BF16, P.BF16)),
        ("w4a8kv8", (P.INT4, P.INT8, P.INT8)),
        ("w8a8kv8", (P.INT8, P.INT8, P.INT8)),
        ("w4a16kv8", (P.INT4, P.BF16, P.INT8)),
        ("wint4afp16kvfp8", (P.INT4, P.FP16, P.FP8)),
        ("w4-a16-kv8", (P.INT4, P.BF16, P.INT8)),
        ("wfp8abf16kve5m2", (P.FP8, P.BF16, P.FP8_E5M2)),
        ("fp8_e4m3", (P.FP8, P.FP8, P.FP8)),
        ("e5m2", (P.FP8_E5M2, P.FP8_E5M2, P.FP8_E5M2)),
    ],
)
def test_parse(text: str, expected: tuple[Precision, Precision, Precision]) -> None:
    parsed = PrecisionAssignment.parse(text)
    assert (parsed.weights, parsed.activations, parsed.kv) == expected
    assert PrecisionAssignment.parse(parsed.label) == parsed  # the label reads back


def test_labels_keep_uniform_names_and_spell_mixed_ones() -> None:
    assert PrecisionAssignment.parse("w8a8kv8").label == "int8" == PrecisionAssignment.uniform(P.INT8).label
    assert PrecisionAssignment.parse("w4a16").label == "w4a16kv16"
    assert PrecisionAssignment.parse("wint4afp16kvfp8").label == "w4afp16kvfp8"
    for precision in Precision:  # every format round-trips, mixed with int4 weights too
        assert PrecisionAssignment.parse(precision.value).label == precision.value
        mixed = PrecisionAssignment(P.INT4, precision, precision)
        assert PrecisionAssignment.parse(mixed.label) == mixed or mixed.is_uniform


@pytest.mark.parametrize("text", ["int7", "w4", "a8", "w4a8kv", "w3a8", "kv8w4a8", "", "w4a16kv8x"])
def test_bad_strings_name_the_forms(text: str) -> None:
    with pytest.raises(ValueError, match=r"allowed: .*w<W>a<A>\[kv<KV>\]"):
        PrecisionAssignment.parse(text)


def test_of_accepts_every_spelling() -> None:
    expected = PrecisionAssignment(P.INT4, P.BF16, P.INT8)
    assert PrecisionAssignment.of(expected) is expected
    assert PrecisionAssignment.of("w4a16kv8") == expected
    assert PrecisionAssignment.of({"weights": "int4", "activations": "bf16", "kv": "int8"}) == expected
    assert PrecisionAssignment.of(P.FP16) == PrecisionAssignment.uniform(P.FP16)
    with pytest.raises(ValueError):
        PrecisionAssignment.of(8)  # type: ignore[arg-type]


def test_mac_format_is_the_wider_operand() -> None:
    assert mac_format(P.INT4, P.INT8) is P.INT8
    assert mac_format(P.INT4, P.BF16) is P.BF16  # integer weights dequantised to the float
    assert mac_format(P.FP8, P.BF16) is P.BF16
    assert mac_format(P.INT8, P.FP32) is P.FP32
    assert mac_format(P.FP8, P.FP8_E5M2) is P.FP8  # 4 significand bits against 3
    assert PrecisionAssignment.parse("w4a16kv8").compute is P.BF16
    assert PrecisionAssignment.parse("w4a8kv8").compute is P.INT8


def test_mixed_pair_costs_the_uniform_mac_of_its_wider_operand() -> None:
    """A mixed MAC is charged the multiplier of its MAC format: int4 × int8 costs an int8 MAC."""
    accel = load_accelerator(DATACENTER)
    mixed = resolve(accel, PrecisionAssignment.parse("w4a8kv8").compute)
    assert mixed.mac_energy == resolve(accel, P.INT8).mac_energy
    assert mixed.area["matrix"] == resolve(accel, P.INT8).area["matrix"]
    assert mac_energy_45nm(mac_format(P.INT4, P.INT8), P.INT32) == pytest.approx(0.2e-12 + 0.1e-12)  # Horowitz
    assert arith_energy_45nm(Arith.MULT, P.FP8_E5M2) < arith_energy_45nm(Arith.MULT, P.FP8)


def test_storage_bits_follow_the_operand_class() -> None:
    target_bits = {TensorClass.ACTIVATION: 16, TensorClass.WEIGHT: 4, TensorClass.KV: 8}
    formats = PrecisionAssignment.parse("w4a16kv8")
    assert {c: formats.of_class(c).bits for c in TensorClass} == target_bits


def _dram_loads(simulation, operand: Operand, tensor: TensorClass) -> int:
    """DRAM bytes the program loads for `operand` where it is of class `tensor`."""
    program = simulation.compiled.program.instructions
    classes = np.array([w.operand_classes for w in simulation.compiled.workloads])
    loads = (program["opcode"] == Opcode.LOAD) & (program["level"] == LEVEL_DRAM) & (program["operand"] == operand)
    of_class = classes[program["layer"], int(operand)] == tensor
    return int(program["bytes"][loads & of_class].sum())


def test_int4_weights_move_half_the_weight_bytes() -> None:
    """gemm m=128 k=512 n=256 on the datacenter chip reads each operand once: int4 weights move
    k·n/2 bytes, half of int8's k·n, while the activations' m·k bytes do not change."""
    model = "gemm:m=128,k=512,n=256"
    int8 = simulate(DATACENTER, model, precision="int8")
    int4 = simulate(DATACENTER, model, precision="w4a8kv8")
    assert _dram_loads(int8, Operand.WEIGHT, TensorClass.WEIGHT) == 512 * 256
    assert _dram_loads(int4, Operand.WEIGHT, TensorClass.WEIGHT) == 512 * 256 // 2
    assert _dram_loads(int4, Operand.INPUT, TensorClass.ACTIVATION) == _dram_loads(
        int8, Operand.INPUT, TensorClass.ACTIVATION
    ) == 128 * 512
    assert int8.result.dram_read_bytes - int4.result.dram_read_bytes == 512 * 256 // 2
    assert int4.to_json()["precision"] == "w4a8kv8"


LLAMA_DECODE = "llama:layers=2,hidden=512,heads=8,kv_heads=2,phase=decode,kv_len=256,vocab=1000"


def test_llama_decode_reads_weights_and_cache_at_their_formats() -> None:
    """Hand-computed: per layer Q, O 512² and K, V 512·128 (2 kv heads × 64), gate, up, down
    512·1536 (8/3·512 up to 256), then the LM head 512·1000: W = 6,541,312 weight elements.
    The cache, 257 entries of 128 elements per layer for K and for V, is read once each (K by
    its transpose, V by the context product): 2·2·257·128 = 131,584 elements. From bf16 to
    w4a16kv8 a weight saves 1.5 B and a cache element 1 B; activations are unchanged."""
    weights = 2 * (2 * 512 * 512 + 2 * 512 * 128 + 3 * 512 * 1536) + 512 * 1000
    cache = 2 * 2 * 257 * 128
    bf16 = simulate(DATACENTER, LLAMA_DECODE, precision="bf16")
    mixed = simulate(DATACENTER, LLAMA_DECODE, precision="w4a16kv8")
    assert _dram_loads(bf16, Operand.WEIGHT, TensorClass.WEIGHT) == weights * 2
    assert _dram_loads(mixed, Operand.WEIGHT, TensorClass.WEIGHT) == weights // 2
    kv_loads = _dram_loads(mixed, Operand.INPUT, TensorClass.KV) + _dram_loads(mixed, Operand.WEIGHT, TensorClass.KV)
    assert kv_loads == cache
    assert bf16.result.dram_read_bytes - mixed.result.dram_read_bytes == weights * 3 // 2 + cache
    assert mixed.compiled.precision is P.BF16  # the array multiplies in bf16


def test_uniform_int8_equals_w8a8kv8_exactly() -> None:
    model = "llama:layers=1,hidden=256,heads=4,kv_heads=2,phase=decode,kv_len=64,vocab=500"
    plain = simulate(DATACENTER, model, precision="int8")
    spelled = simulate(DATACENTER, model, precision="w8a8kv8")
    assert plain.to_json() == spelled.to_json()
    assert np.array_equal(plain.compiled.program.instructions, spelled.compiled.program.instructions)


def test_kv_budget_counts_weights_and_cache_at_their_formats() -> None:
    accel = load_accelerator(DATACENTER)
    shape = DecoderShape.of(parse_model_spec("llama"))
    uniform = kv_budget(accel, shape, P.BF16)
    mixed = kv_budget(accel, shape, PrecisionAssignment.parse("w4a16kv8"))
    assert mixed.weight_bytes == shape.weight_elements // 2
    assert mixed.bytes_per_token == shape.kv_elements_per_token == uniform.bytes_per_token / 2


def test_unsupported_format_names_the_field(tmp_path: Path) -> None:
    chip = tmp_path / "int8_only.yaml"
    chip.write_text(DATACENTER.read_text().replace("input_precision: bf16", "input_precision: int8\n  precisions: [int8]"))
    accel = load_accelerator(chip)
    assert unsupported(accel, PrecisionAssignment.parse("w4a8kv8")) is None
    assert "fp32" in unsupported(accel, PrecisionAssignment.uniform(P.FP32))
    with pytest.raises(InputError, match=r"int8_only\.yaml: matrix\.precisions: precision fp32"):
        simulate(chip, "gemm:m=8,k=8,n=8", precision="fp32")


@pytest.mark.parametrize("kind", [Precision, WorkloadKind, TimingMode, SchedulerKind, Objective])
def test_cache_key_enums_hash_by_identity_and_unpickle_to_the_same_member(kind: type[Enum]) -> None:
    """The enums in compile-cache keys hash by identity (`IdentityHashed`): a member is one
    object in a process, in a key made in this process or unpickled from another."""
    assert kind.__hash__ is object.__hash__
    for member in kind:
        assert pickle.loads(pickle.dumps(member)) is member
