"""/verify through the real bot: metadata, a watermark that survived a re-post, a stranger's file."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image

from bot.app import AtelierBot
from bot.sandbox import SandboxServer
from provenance import provenance_record
from provenance.image import stamp_png
from provenance.text import add_footer
from tests.bot.e2e.test_bad_input import private_answer
from wire.contract import ImageJob, TextJob


async def _verify(sandbox: SandboxServer, filename: str, data: bytes, content_type: str) -> dict[str, Any]:
    handle = await sandbox.send_slash_command("verify", attachments={"file": (filename, data, content_type)})
    await sandbox.wait_for_response(handle, 3)
    message = await sandbox.wait_for_message(
        lambda m: (
            bool(m.get("embeds"))
            and m.get("interaction_id", handle.id) == handle.id
            and filename in m["embeds"][0].get("title", "")
        ),
        30,
    )
    return dict(message["embeds"][0])


async def test_verify_reads_a_text_footer_and_links_the_job(bot: AtelierBot, sandbox: SandboxServer) -> None:
    job = TextJob(options={"prompt": "rain on a tin roof", "kind": "poem"}, user_id=sandbox.member_id)
    await bot.runtime.jobs.create(job)
    text = add_footer("Rain on the roof,\nsoft drums all night.", provenance_record(job, "tiny", 3))
    embed = await _verify(sandbox, "poem.txt", text.encode(), "text/plain")
    assert "made with Atelier" in embed["title"]
    values = " ".join(f["value"] for f in embed["fields"])
    assert job.id in values and "rain on a tin roof" in values and f"<@{sandbox.member_id}>" in values


async def test_verify_finds_the_watermark_in_a_reposted_jpeg(bot: AtelierBot, sandbox: SandboxServer) -> None:
    job = ImageJob(options={"prompt": "a lighthouse at dusk"}, user_id=sandbox.member_id)
    await bot.runtime.jobs.create(job)
    blobs = (np.random.default_rng(3).random((32, 32, 3)) * 255).astype("uint8")  # a smooth picture
    picture = Image.fromarray(blobs).resize((512, 512), Image.Resampling.BICUBIC)
    png = stamp_png(picture, provenance_record(job, "tiny", 7))
    reposted = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").save(reposted, "JPEG", quality=80)  # metadata gone
    embed = await _verify(sandbox, "reposted.jpg", reposted.getvalue(), "image/jpeg")
    assert "made with Atelier" in embed["title"] and "watermark" in embed["description"]
    values = " ".join(f["value"] for f in embed["fields"])
    assert job.id[:8] in values and "a lighthouse at dusk" in values


async def test_verify_says_so_for_a_strangers_file(bot: AtelierBot, sandbox: SandboxServer) -> None:
    embed = await _verify(sandbox, "notes.txt", b"just some words", "text/plain")
    assert "No Atelier provenance" in embed["title"]


async def test_verify_refuses_other_file_types_privately(bot: AtelierBot, sandbox: SandboxServer) -> None:
    handle = await sandbox.send_slash_command(
        "verify", attachments={"file": ("clip.gif", b"GIF89a" + b"\x00" * 20, "image/gif")}
    )
    answer = await private_answer(sandbox, handle)
    assert "**file**" in answer and "clip.gif" in answer
