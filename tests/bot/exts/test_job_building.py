"""Command options become contract jobs; every bad value is refused naming the member's option."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.errors import OptionProblem
from bot.exts._shared.jobs import build_job
from wire.contract import ImageJob, MusicJob, TextJob

BAD: list[tuple[str, dict[str, Any], str]] = [
    ("music", {"tempo": 29}, "tempo"),
    ("music", {"tempo": 301}, "tempo"),
    ("music", {"bars": 3}, "bars"),
    ("music", {"bars": 65}, "bars"),
    ("music", {"instrument": -1}, "instrument"),
    ("music", {"instrument": 128}, "instrument"),
    ("music", {"seed": -1}, "seed"),
    ("music", {"seed": 2**32}, "seed"),
    ("music", {"style": "polka"}, "style"),
    ("music", {"key": "H"}, "key"),
    ("music", {"mode": "lydian"}, "mode"),
    ("music", {"accompaniment": "drums"}, "accompaniment"),
    ("image", {"prompt": "   "}, "prompt"),
    ("image", {"prompt": "x" * 1001}, "prompt"),
    ("image", {"prompt": "x", "negative_prompt": "y" * 1001}, "negative"),
    ("image", {"prompt": "x", "width": 100}, "size"),
    ("image", {"prompt": "x", "height": 4096}, "size"),
    ("image", {"prompt": "x", "steps": 0}, "steps"),
    ("image", {"prompt": "x", "steps": 151}, "steps"),
    ("image", {"prompt": "x", "count": 0}, "count"),
    ("image", {"prompt": "x", "count": 5}, "count"),
    ("text", {"prompt": ""}, "prompt"),
    ("text", {"prompt": "x", "max_new_tokens": 0}, "length"),
    ("text", {"prompt": "x", "max_new_tokens": 2049}, "length"),
    ("text", {"prompt": "x", "kind": "essay"}, "kind"),
]


@pytest.mark.parametrize(("modality", "options", "option"), BAD)
def test_bad_options_name_the_option(modality: str, options: dict[str, Any], option: str) -> None:
    with pytest.raises(OptionProblem) as caught:
        build_job(modality, options)
    assert caught.value.option == option
    assert caught.value.values["reason"] and not caught.value.values["reason"].startswith("Value error")


def test_good_options_build_each_job() -> None:
    music = build_job(
        "music", {"style": "jig", "key": "D", "mode": "dorian", "seed": None}, user_id=5, guild_id=6
    )
    assert isinstance(music, MusicJob) and music.options.seed is None and music.user_id == 5
    image = build_job(
        "image", {"prompt": "a fox", "width": 768, "height": 512, "count": 4}, preset="sd-turbo"
    )
    assert isinstance(image, ImageJob) and image.preset == "sd-turbo" and image.options.count == 4
    text = build_job("text", {"prompt": " rain ", "max_new_tokens": 2048}, parent_id="a" * 32)
    assert isinstance(text, TextJob) and text.options.prompt == "rain" and text.parent_id == "a" * 32


def test_a_bad_preset_name_is_refused() -> None:
    with pytest.raises(OptionProblem) as caught:
        build_job("text", {"prompt": "x"}, preset="p" * 65)
    assert caught.value.option == "preset"
