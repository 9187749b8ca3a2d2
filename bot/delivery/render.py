"""What a job's message looks like in each state: queued, running, finished (files included)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.core.components import ButtonContext, Phase, ResultButtons
from bot.db.jobs import JobRecord
from bot.db.status import JobStatus
from bot.delivery.describe import (
    COLOURS,
    FAILED_COLOUR,
    TITLES,
    clip,
    describe_job,
    failure_sentence,
    progress_bar,
    prompt_of,
)
from bot.i18n import t
from wire.contract import AnyJob, ArtifactRef

EMBED_TEXT_LIMIT = 4000
IMAGE_KINDS = ("grid", "image", "piano_roll")


@dataclass
class Rendered:
    """One message: an embed, its files (name, bytes) and buttons."""

    embed: discord.Embed
    view: discord.ui.View
    files: list[tuple[str, bytes]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def discord_files(self) -> list[discord.File]:
        return [discord.File(io.BytesIO(data), filename=name) for name, data in self.files]


def _base_embed(job: AnyJob, colour: int, locale: str, seed: object = None) -> discord.Embed:
    embed = discord.Embed(title=TITLES[job.modality], colour=colour)
    prompt = prompt_of(job)
    if prompt:
        embed.add_field(name=t("field.prompt", locale), value=clip(prompt, 1000), inline=False)
    embed.set_footer(text=f"{describe_job(job, seed)} · job {job.id}")
    return embed


def queued_message(
    job: AnyJob, position: int, enqueued: bool, locale: str, buttons: ResultButtons
) -> Rendered:
    """Right after submitting: the place in the queue, and the buttons of a pending job (cancel)."""
    embed = _base_embed(job, COLOURS[job.modality], locale)
    embed.description = (
        t("queued", locale, position=max(position, 1)) if enqueued else t("queued_later", locale)
    )
    return Rendered(embed, buttons.view(ButtonContext(job, Phase.PENDING, locale)))


def progress_message(
    record: JobRecord, locale: str, buttons: ResultButtons, preview: str | None = None
) -> Rendered:
    """While running: a bar, the worker's message and (for text) a preview."""
    embed = _base_embed(record.job, COLOURS[record.modality], locale)
    lines = [t("running", locale, percent=round(record.progress * 100)), progress_bar(record.progress)]
    if record.progress_message:
        lines.append(clip(record.progress_message, 200))
    if preview:
        lines.append(f">>> {clip(preview, 1500)}")
    embed.description = "\n".join(lines)
    return Rendered(embed, buttons.view(ButtonContext(record.job, Phase.PENDING, locale, record)))


def held_message(record: JobRecord, locale: str) -> Rendered:
    """While a moderator has still to approve the result: no files, no buttons."""
    embed = _base_embed(record.job, COLOURS[record.modality], locale)
    embed.description = t("held", locale)
    return Rendered(embed, discord.ui.View(timeout=None))


def withheld_message(record: JobRecord, reason: str, locale: str, buttons: ResultButtons) -> Rendered:
    """A finished job whose result is not shown (a moderator rejected it, or it failed a check)."""
    embed = _base_embed(record.job, FAILED_COLOUR, locale)
    embed.description = t(reason, locale)
    return Rendered(embed, buttons.view(ButtonContext(record.job, Phase.UNSUCCESSFUL, locale, record)))


def finished_message(
    record: JobRecord,
    contents: dict[str, bytes],
    size_limit: int,
    locale: str,
    buttons: ResultButtons,
    *,
    named: bool = False,
) -> Rendered:
    """The result (files that fit the upload limit) or a friendly reason, with the features' buttons.
    With `named`, files missing from `contents` are named as left out (they could not be sent)."""
    result = record.result
    succeeded = record.outcome is JobStatus.SUCCEEDED
    seed = result.metadata.get("seed") if result else None
    if not succeeded:
        embed = _base_embed(record.job, FAILED_COLOUR, locale, seed)
        embed.description = failure_sentence(result, record.error_code, locale)
        return Rendered(embed, buttons.view(ButtonContext(record.job, Phase.UNSUCCESSFUL, locale, record)))
    embed = _base_embed(record.job, COLOURS[record.modality], locale, seed)
    rendered = Rendered(embed, buttons.view(ButtonContext(record.job, Phase.SUCCEEDED, locale, record)))
    _attach(rendered, record.artifacts, contents, size_limit, named)
    text = result.text if result else None
    if text:
        embed.description = text if len(text) <= EMBED_TEXT_LIMIT else clip(text, EMBED_TEXT_LIMIT - 80)
        if len(text) > EMBED_TEXT_LIMIT:
            embed.description += "\n\n*" + t("text_in_file", locale) + "*"
    form = form_line(result.metadata if result else {})
    if form:
        embed.add_field(name=t("field.form", locale), value=form, inline=False)
    picture = next((a for a in record.artifacts if a.kind in IMAGE_KINDS and _sent(rendered, a)), None)
    if picture is not None:
        embed.set_image(url=f"attachment://{picture.filename}")
    if rendered.skipped:
        embed.add_field(
            name="⚠️", value=t("files_skipped", locale, names=", ".join(rendered.skipped)), inline=False
        )
    return rendered


def form_line(metadata: dict[str, Any]) -> str | None:
    """A tune's parts as played, e.g. `A A B B · upbeat`, from the worker's figures (None: no form)."""
    figures = metadata.get("figures")
    if not isinstance(figures, dict):
        return None
    parts = figures.get("parts")
    if not isinstance(parts, list) or not parts:
        return None
    line = " ".join(str(part) for part in parts)
    return f"{line} · upbeat" if figures.get("upbeat_steps") else line


def _attach(
    rendered: Rendered,
    artifacts: tuple[ArtifactRef, ...],
    contents: dict[str, bytes],
    size_limit: int,
    named: bool = False,
) -> None:
    """Add files in order while the total stays within the limit; name the ones left out (and, with
    `named`, the ones not in `contents`)."""
    total = 0
    for artifact in artifacts:
        data = contents.get(artifact.key)
        if data is None:
            if named:
                rendered.skipped.append(artifact.filename)
            continue
        if total + len(data) > size_limit:
            rendered.skipped.append(artifact.filename)
            continue
        total += len(data)
        rendered.files.append((artifact.filename, data))


def _sent(rendered: Rendered, artifact: ArtifactRef) -> bool:
    return any(name == artifact.filename for name, _ in rendered.files)
