"""The safety checker: taken from a pipeline that ships one, flagged images blurred and reported."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from config.settings import Settings
from models.image import safety
from models.image.backend import DiffusersImageBackend
from provenance.png import read_png_provenance
from tests.helpers.context import RecordingContext
from tests.models.image.conftest import image_job, png_image, tiny_preset


@pytest.fixture(scope="module")
def guarded(tiny_safety_folder: Path, atelier_settings: Settings) -> DiffusersImageBackend:
    return DiffusersImageBackend.from_preset("guarded", tiny_preset(tiny_safety_folder), atelier_settings)


@contextmanager
def thresholds(backend: DiffusersImageBackend, value: float) -> Iterator[DiffusersImageBackend]:
    """The backend with every concept threshold set to `value` (-10: flag everything, 10: nothing)."""
    checker = backend.checker
    assert isinstance(checker, safety.DiffusersSafetyChecker)
    weights = [checker.model.concept_embeds_weights, checker.model.special_care_embeds_weights]
    saved = [w.data.clone() for w in weights]
    for w in weights:
        w.data.fill_(value)
    try:
        yield backend
    finally:
        for w, old in zip(weights, saved, strict=True):
            w.data.copy_(old)


def test_pipeline_checker_is_taken_over(guarded: DiffusersImageBackend) -> None:
    assert guarded.describe()["safety_checker"] == "stable-diffusion-safety-checker"
    assert guarded.pipe.safety_checker is None


def test_unflagged_images_pass_untouched(guarded: DiffusersImageBackend) -> None:
    with thresholds(guarded, 10.0) as lenient:
        output = lenient.generate(image_job(seed=4), RecordingContext())
    assert output.metadata["safety"] == {
        "checker": "stable-diffusion-safety-checker",
        "flagged": [],
        "notes": [],
    }


def test_flagged_images_are_blurred_and_reported(
    guarded: DiffusersImageBackend, backend: DiffusersImageBackend
) -> None:
    with thresholds(guarded, -10.0) as strict:
        output = strict.generate(image_job(seed=4, count=2), RecordingContext())
    assert output.metadata["safety"]["flagged"] == [0, 1]
    plain = backend.generate(image_job(seed=4, count=2), RecordingContext())
    for flagged, unflagged in zip(output.files[1:], plain.files[1:], strict=True):
        record = read_png_provenance(flagged.data)
        assert record is not None and record["safety_flagged"] is True
        blurred = np.asarray(png_image(flagged.data), dtype=float)
        original = np.asarray(png_image(unflagged.data), dtype=float)
        assert not np.array_equal(blurred, original)
        assert np.abs(np.diff(blurred, axis=1)).mean() < np.abs(np.diff(original, axis=1)).mean() / 2


def test_no_checker_is_a_noted_no_op(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING"):
        checker = safety.NoSafetyChecker("no weights")
    result = checker.check([Image.new("RGB", (8, 8))])
    assert result.flagged == () and result.notes == ("not safety-checked: no weights",)
    assert "not safety-checked" in caplog.text


def test_checker_loaded_from_model_folder(tiny_safety_folder: Path) -> None:
    class Bare:
        device = torch.device("cpu")

    checker = safety.from_pipeline(Bare(), tiny_safety_folder)
    assert isinstance(checker, safety.DiffusersSafetyChecker)
    assert isinstance(safety.from_pipeline(Bare(), tiny_safety_folder / "unet"), safety.NoSafetyChecker)
