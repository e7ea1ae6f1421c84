"""Zoo spec parsing: typed coercion, defaults, canonical strings, aliases and every error path."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from compiler.zoo import ModelSpec, Phase, build_model, models_table, parse_model_spec, zoo_model, zoo_models
from tessera.errors import InputError


def _error(text: str) -> InputError:
    with pytest.raises(InputError) as info:
        parse_model_spec(text)
    assert info.value.source == text
    return info.value


def test_examples_from_the_design_parse_to_typed_values() -> None:
    spec = parse_model_spec("mobilenetv2:width=0.5,resolution=160")
    assert spec.as_dict() == {"width": 0.5, "resolution": 160, "classes": 1000, "batch": 1}
    assert spec.name == "mobilenetv2"
    assert isinstance(spec["width"], float) and isinstance(spec["resolution"], int)
    llama = parse_model_spec("llama:layers=4,hidden=2048,heads=32,kv_heads=4,seq=512,phase=decode,kv_len=1024")
    assert llama["phase"] is Phase.DECODE and llama["kv_len"] == 1024 and llama["kv_heads"] == 4
    assert parse_model_spec("gemm:m=512,k=1024,n=256").as_dict() == {"m": 512, "k": 1024, "n": 256, "batch": 1}
    conv = parse_model_spec("conv2d:h=56,w=56,c=64,k=64,r=3,s=3,stride=1")
    assert conv["pad"] == 1 and conv["groups"] == 1


def test_derived_defaults_follow_the_papers() -> None:
    assert parse_model_spec("bert:layers=12,hidden=768,seq=128")["ffn"] == 3072
    assert parse_model_spec("bert:hidden=256,heads=4,ffn=1000")["ffn"] == 1000
    # Llama: 8/3·hidden rounded up to a multiple of 256 — 11008 for 7B (4096), 5632 for hidden 2048.
    assert parse_model_spec("llama")["ffn"] == 11008
    assert parse_model_spec("llama:hidden=2048")["ffn"] == 5632
    assert parse_model_spec("llama:phase=decode,seq=300")["kv_len"] == 300
    # Without kv_heads, Llama has one key/value head per query head (multi-head attention).
    assert parse_model_spec("llama")["kv_heads"] == 32
    assert parse_model_spec("llama:heads=16")["kv_heads"] == 16
    assert parse_model_spec("llama:heads=16,kv_heads=4")["kv_heads"] == 4
    assert parse_model_spec("mlp:hidden=64")["in"] == 64 and parse_model_spec("mlp:hidden=64,out=10")["out"] == 10
    assert parse_model_spec("conv2d:r=7,s=7")["pad"] == 3


def test_canonical_is_sorted_complete_and_round_trips_for_every_family() -> None:
    for model in zoo_models():
        spec = parse_model_spec(model.name)
        text = spec.canonical()
        keys = [item.split("=")[0] for item in text.split(":", 1)[1].split(",")]
        assert keys == sorted(p.name for p in model.params)
        assert parse_model_spec(text) == spec and str(spec) == text
    assert parse_model_spec("resnet50").canonical() == "resnet:batch=1,classes=1000,depth=50,resolution=224,width=1.0"


def test_every_model_has_a_batch_parameter_defaulting_to_one() -> None:
    for model in zoo_models():
        batch = next(p for p in model.params if p.name == "batch")
        assert batch.default == 1 and batch.kind is int


def test_spec_is_hashable_and_equal_specs_collide() -> None:
    a = parse_model_spec("resnet:depth=50,width=1")
    b = parse_model_spec(" ResNet50 : width = 1.0 ")
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1


def test_aliases_fix_parameters_and_refuse_to_override_them() -> None:
    assert parse_model_spec("resnet18")["depth"] == 18
    assert parse_model_spec("mobilenet_v2").name == "mobilenetv2"
    err = _error("resnet50:depth=18")
    assert "parameter 'depth'" in str(err) and "resnet:depth=" in str(err)


def test_unknown_model_lists_the_zoo_with_a_suggestion() -> None:
    message = str(_error("resnt50:width=0.5"))
    assert "did you mean 'resnet50'" in message
    for model in zoo_models():
        assert model.name in message


def test_unknown_parameter_lists_allowed_ones() -> None:
    message = str(_error("bert:layer=2"))
    assert "unknown parameter for bert" in message and "did you mean 'layers'" in message
    assert "batch, ffn, heads, hidden, layers, seq" in message


@pytest.mark.parametrize(
    ("text", "param", "words"),
    [
        ("mobilenetv2:width=-1", "width", "> 0"),
        ("mobilenetv2:width=wide", "width", "a number"),
        ("mobilenetv2:width=inf", "width", "finite"),
        ("resnet:depth=20", "depth", "one of 18, 34, 50, 101, 152"),
        ("resnet:resolution=0.5", "resolution", "an integer"),
        ("bert:hidden=768,heads=5", "heads", "divide hidden=768"),
        ("llama:heads=32,kv_heads=5", "kv_heads", "divide heads=32"),
        ("llama:phase=train", "phase", "one of prefill, decode"),
        ("llama:seq=128,kv_len=1024", "kv_len", "only to phase=decode"),
        ("llama:hidden=96,heads=32", "heads", "even head dim"),
        ("vit:resolution=224,patch=15", "patch", "divide resolution=224"),
        ("conv2d:c=64,k=64,groups=3", "groups", "must divide c=64"),
        ("conv2d:h=2,r=7,pad=0", "r", "exceeds h=2"),
        ("gemm:m=0", "m", ">= 1"),
        ("mlp:batch=0", "batch", ">= 1"),
    ],
)
def test_bad_values_name_the_parameter(text: str, param: str, words: str) -> None:
    message = str(_error(text))
    assert f"parameter '{param}'" in message and words in message


def test_every_problem_is_reported_at_once() -> None:
    err = _error("resnet:depth=20,width=0,colour=red")
    assert len(err.problems) == 3


@pytest.mark.parametrize("text", ["resnet50:width", "resnet50:=3", "resnet50:width=0.5,width=0.75"])
def test_malformed_items_are_input_errors(text: str) -> None:
    assert _error(text).problems


def test_with_params_revalidates() -> None:
    spec = parse_model_spec("bert:layers=2")
    assert spec.with_params(batch=8)["batch"] == 8
    assert spec.with_params(batch=8).with_params(batch=1) == spec
    with pytest.raises(InputError):
        spec.with_params(heads=7)


def test_build_model_rejects_a_hand_made_invalid_spec() -> None:
    with pytest.raises(InputError, match="depth"):
        params = (("batch", 1), ("classes", 10), ("depth", 20), ("resolution", 64), ("width", 1.0))
        build_model(ModelSpec("resnet", params))
    with pytest.raises(InputError, match="unknown model"):
        build_model(ModelSpec("alexnet", ()))


def test_zoo_model_looks_up_families_only() -> None:
    assert zoo_model("llama").name == "llama"
    with pytest.raises(InputError, match="alias"):
        zoo_model("resnet50")


def test_models_table_lists_every_family_and_parameter() -> None:
    table = models_table()
    assert table.row_count == len(zoo_models())
    out = io.StringIO()
    Console(file=out, width=200).print(table)
    text = out.getvalue()
    for model in zoo_models():
        assert model.name in text
    assert "depth: int = 50  [one of 18, 34, 50, 101, 152]" in text and "[one of prefill, decode]" in text
    assert "kv_heads: int = heads" in text and "phase: Phase = prefill" in text and "ffn: int = 4·hidden" in text
