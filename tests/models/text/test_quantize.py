"""Int8 weight-only quantization: close to the float layer, and the backend runs with it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

from config.settings import Settings, TextPreset
from models.text.backend import TransformersTextBackend
from models.text.quantize import Int8WeightLinear, apply_quantization, int8_supported, quantize_int8
from tests.helpers.context import RecordingContext
from wire.contract import TextJob

pytestmark = pytest.mark.skipif(not int8_supported(torch.device("cpu")), reason="no int8 weight-only kernel")


def test_int8_linear_stays_close_to_the_float_layer() -> None:
    torch.manual_seed(0)
    linear = nn.Linear(96, 160, bias=False)
    x = torch.randn(3, 5, 96)
    expected = linear(x)
    got = Int8WeightLinear(linear)(x)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    relative = (got - expected).norm() / expected.norm()
    assert relative < 0.02


def test_quantize_replaces_every_bias_free_linear_and_refuses_biases() -> None:
    model = nn.Sequential(
        nn.Linear(8, 16, bias=False), nn.ReLU(), nn.Sequential(nn.Linear(16, 4, bias=False))
    )
    assert quantize_int8(model) == 2
    assert not any(isinstance(module, nn.Linear) for module in model.modules())
    with pytest.raises(ValueError):
        Int8WeightLinear(nn.Linear(4, 4, bias=True))


def test_apply_quantization_modes() -> None:
    model = nn.Sequential(nn.Linear(8, 8, bias=False))
    assert apply_quantization(model, "none", torch.device("cpu")) == "none"
    assert apply_quantization(model, "int8", torch.device("cuda")) == "none"  # CPU kernel only
    assert isinstance(model[0], nn.Linear)
    assert apply_quantization(model, "int8", torch.device("cpu")) == "int8"
    assert isinstance(model[0], Int8WeightLinear)
    with pytest.raises(ValueError):
        apply_quantization(model, "int4", torch.device("cpu"))


def test_backend_generates_with_int8_weights(
    tiny_preset: TextPreset, settings: Settings, make_job: Callable[..., TextJob]
) -> None:
    backend = TransformersTextBackend.from_preset("tiny", tiny_preset, settings, quantize="int8")
    assert backend.describe()["quantize"] == "int8"
    output = backend.generate(make_job(max_new_tokens=9, seed=4), RecordingContext())
    assert output.text and output.metadata["tokens"] == 9 and output.metadata["quantize"] == "int8"
    assert backend.generate(make_job(max_new_tokens=9, seed=4), RecordingContext()).text == output.text
