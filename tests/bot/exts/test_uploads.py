"""Upload checks: name, declared type and size before downloading; magic bytes after."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.errors import UserFacingError
from bot.exts._shared.uploads import IMAGE, MIDI, check_metadata, fetch_checked

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
MID = b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x60"


class FakeAttachment:
    """The three fields and one method of discord.Attachment that the checks use."""

    def __init__(self, filename: str, data: bytes, content_type: str | None, size: int | None = None) -> None:
        self.filename = filename
        self.content_type = content_type
        self.size = len(data) if size is None else size
        self._data = data

    async def read(self) -> bytes:
        return self._data


def attach(*args: Any, **kwargs: Any) -> Any:
    return FakeAttachment(*args, **kwargs)


@pytest.mark.parametrize("data", [PNG, JPEG, WEBP])
async def test_images_pass_by_their_magic(data: bytes) -> None:
    upload = attach("pic.png", data, "image/png")
    check_metadata(upload, IMAGE)
    assert await fetch_checked(upload, IMAGE) == data


async def test_a_midi_passes() -> None:
    upload = attach("tune.MID", MID, "audio/midi")
    check_metadata(upload, MIDI)
    assert await fetch_checked(upload, MIDI) == MID


@pytest.mark.parametrize(
    ("upload", "rule", "key"),
    [
        (attach("cover.png", PNG, "image/png"), MIDI, "attachment_type"),
        (attach("tune.mid", MID, "image/png"), MIDI, "attachment_type"),
        (attach("tune.txt", MID, "text/plain"), MIDI, "attachment_type"),
        (attach("tune.mid", MID, "audio/midi", size=2 * 1024 * 1024), MIDI, "attachment_size"),
        (attach("tune.mid", b"", "audio/midi"), MIDI, "attachment_empty"),
        (attach("pic.gif", b"GIF89a", "image/gif"), IMAGE, "attachment_type"),
        (attach("pic.png", PNG, "image/png", size=9 * 1024 * 1024), IMAGE, "attachment_size"),
    ],
)
def test_metadata_refusals(upload: Any, rule: Any, key: str) -> None:
    with pytest.raises(UserFacingError) as caught:
        check_metadata(upload, rule)
    assert caught.value.key == key


@pytest.mark.parametrize(
    ("upload", "rule"),
    [
        (attach("tune.mid", PNG, "audio/midi"), MIDI),
        (attach("tune.mid", b"MThd", "audio/midi"), MIDI),
        (attach("pic.png", b"not an image at all", "image/png"), IMAGE),
        (attach("pic.webp", b"RIFF\x00\x00\x00\x00WAVE", "image/webp"), IMAGE),
    ],
)
async def test_bytes_that_are_not_what_they_claim_are_refused(upload: Any, rule: Any) -> None:
    check_metadata(upload, rule)
    with pytest.raises(UserFacingError) as caught:
        await fetch_checked(upload, rule)
    assert caught.value.key == "attachment_type"


async def test_a_file_larger_than_declared_is_refused_after_download() -> None:
    upload = attach("tune.mid", MID + b"\x00" * (2 * 1024 * 1024), "audio/midi", size=100)
    check_metadata(upload, MIDI)
    with pytest.raises(UserFacingError) as caught:
        await fetch_checked(upload, MIDI)
    assert caught.value.key == "attachment_size"
