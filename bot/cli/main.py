"""`atelier`: submit jobs, inspect and cancel them, run workers and the scheduler, manage config."""

from __future__ import annotations

import asyncio
import json
import mimetypes
import os
import shutil
import sys
from collections.abc import Callable, Coroutine
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from bot.cli.discord_cmds import bot_command, sandbox_group
from bot.cli.options import contract_option
from bot.cli.safety_cmds import safety_group
from bot.cli.settings import cli_settings as _settings
from bot.cli.settings import err_console
from bot.db.status import JobStatus
from wire.contract import ContractError, ImageOptions, MusicOptions, Outcome, TextOptions, parse_job
from wire.routing import QUEUES

console = Console()
T = TypeVar("T")


def run_async(fn: Callable[..., Coroutine[Any, Any, T]]) -> Callable[..., T]:
    """Run an async click command in a fresh event loop."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        return asyncio.run(fn(*args, **kwargs))

    return wrapper


@click.group()
def cli() -> None:
    """Atelier: music, images and writing with AI models, for creator communities."""


# ---- config ---------------------------------------------------------------------------
@cli.group()
def config() -> None:
    """Show the effective configuration."""


@config.command("show")
def config_show() -> None:
    """Print the effective configuration (secrets masked)."""
    console.print_json(json.dumps(_settings().masked()))


# ---- database -------------------------------------------------------------------------
@cli.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Migrate the database to the latest schema."""
    from bot.db.engine import upgrade_database_sync

    settings = _settings()
    upgrade_database_sync(settings.database_url, revision)
    console.print(f"database at {revision}")


# ---- submit ---------------------------------------------------------------------------
def _common(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option(
        "--out",
        "out_dir",
        type=click.Path(path_type=Path),
        default=Path("out"),
        show_default=True,
        help="folder to save the files in",
    )(fn)
    fn = click.option("--wait/--no-wait", default=True, help="follow the job until it finishes")(fn)
    fn = click.option("--timeout", "timeout_s", type=float, default=600.0, show_default=True)(fn)
    fn = click.option("--preset", default=None, help="model preset (default: the configured one)")(fn)
    return fn


@cli.group()
def submit() -> None:
    """Run a job without Discord: enqueue it, follow its progress, save its files."""


def _upload(path: Path | None) -> str | None:
    if path is None:
        return None
    from wire.artifacts import make_store

    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return make_store(_settings()).put_input(path.name, content_type, path.read_bytes()).key


def _submit(
    modality: str, options: dict[str, Any], preset: str | None, out_dir: Path, wait: bool, timeout_s: float
) -> None:
    try:
        job = parse_job({"modality": modality, "options": options, "preset": preset})
    except ContractError as error:
        err_console.print(f"[red]{error}[/red]")
        raise SystemExit(2) from None
    asyncio.run(_submit_job(job, out_dir, wait, timeout_s))


async def _submit_job(job: Any, out_dir: Path, wait: bool, timeout_s: float) -> None:
    from bot.cli.follow import save_artifacts, submit_and_follow
    from bot.i18n import t
    from bot.pipeline.admission import Refused
    from bot.runtime import open_runtime

    async with open_runtime(_settings()) as rt:
        try:
            record = await submit_and_follow(rt, job, out_dir, console, wait=wait, timeout_s=timeout_s)
        except Refused as refusal:
            err_console.print(f"[red]refused[/red]: {t(refusal.key, 'en', **refusal.values)}")
            raise SystemExit(1) from None
        if not wait:
            return
        result = record.result
        if result is None:
            raise SystemExit(3)
        if result.status is not Outcome.SUCCEEDED:
            err_console.print(f"[red]{result.status.value}[/red]: {result.error}")
            raise SystemExit(1)
        if result.text:
            console.rule("text")
            console.print(result.text)
            console.rule()
        for path in save_artifacts(rt, record, out_dir):
            console.print(f"saved {path}")


@submit.command("text")
@click.argument("prompt")
@contract_option(TextOptions, "kind")
@contract_option(TextOptions, "max_new_tokens")
@contract_option(TextOptions, "temperature")
@contract_option(TextOptions, "seed")
@_common
def submit_text(
    prompt: str,
    kind: str,
    max_new_tokens: int,
    temperature: float,
    seed: int | None,
    preset: str | None,
    out_dir: Path,
    wait: bool,
    timeout_s: float,
) -> None:
    """Write a poem, story, lyrics or prompt ideas, e.g. `atelier submit text "a haiku about rain"`."""
    options = {
        "prompt": prompt,
        "kind": kind,
        "max_new_tokens": max_new_tokens,
        "temperature": temperature,
        "seed": seed,
    }
    _submit("text", options, preset, out_dir, wait, timeout_s)


@submit.command("music")
@contract_option(MusicOptions, "style")
@contract_option(MusicOptions, "key")
@contract_option(MusicOptions, "mode")
@contract_option(MusicOptions, "tempo")
@contract_option(MusicOptions, "bars", help="full bars after any upbeat, repeats written out")
@contract_option(MusicOptions, "form", help="auto: the style's (AABB for dances, AB for airs)")
@contract_option(MusicOptions, "instrument", help="General MIDI program")
@contract_option(MusicOptions, "accompaniment")
@contract_option(MusicOptions, "seed")
@click.option(
    "--continue",
    "prime",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="a MIDI file to continue",
)
@_common
def submit_music(
    style: str,
    key: str,
    mode: str,
    tempo: int,
    bars: int,
    form: str,
    instrument: int,
    accompaniment: str,
    seed: int | None,
    prime: Path | None,
    preset: str | None,
    out_dir: Path,
    wait: bool,
    timeout_s: float,
) -> None:
    """Compose a tune: audio preview, MIDI and piano roll."""
    options = {
        "style": style,
        "key": key,
        "mode": mode,
        "tempo": tempo,
        "bars": bars,
        "form": form,
        "instrument": instrument,
        "accompaniment": accompaniment,
        "seed": seed,
        "prime_artifact": _upload(prime),
    }
    _submit("music", options, preset, out_dir, wait, timeout_s)


@submit.command("image")
@click.argument("prompt")
@contract_option(ImageOptions, "negative_prompt", "--negative", help="what to keep out of the picture")
@contract_option(ImageOptions, "width")
@contract_option(ImageOptions, "height")
@contract_option(ImageOptions, "steps")
@contract_option(ImageOptions, "guidance")
@contract_option(ImageOptions, "seed")
@contract_option(ImageOptions, "count")
@click.option(
    "--init",
    "init_image",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="an image to transform (image-to-image)",
)
@contract_option(ImageOptions, "strength")
@_common
def submit_image(
    prompt: str,
    negative: str,
    width: int,
    height: int,
    steps: int | None,
    guidance: float | None,
    seed: int | None,
    count: int,
    init_image: Path | None,
    strength: float,
    preset: str | None,
    out_dir: Path,
    wait: bool,
    timeout_s: float,
) -> None:
    """Make images from a prompt (a grid when --count is above 1)."""
    options = {
        "prompt": prompt,
        "negative_prompt": negative,
        "width": width,
        "height": height,
        "steps": steps,
        "guidance": guidance,
        "seed": seed,
        "count": count,
        "init_artifact": _upload(init_image),
        "strength": strength,
    }
    _submit("image", options, preset, out_dir, wait, timeout_s)


# ---- jobs -----------------------------------------------------------------------------
@cli.group()
def jobs() -> None:
    """List, inspect and cancel jobs."""


@jobs.command("list")
@click.option("--status", type=click.Choice([s.value for s in JobStatus]), default=None)
@click.option("--limit", type=int, default=20, show_default=True)
@run_async
async def jobs_list(status: str | None, limit: int) -> None:
    """The most recent jobs."""
    from bot.runtime import open_runtime

    async with open_runtime(_settings()) as rt:
        records = await rt.jobs.list_recent(limit=limit, status=JobStatus(status) if status else None)
    table = Table("id", "modality", "status", "created", "progress", "error")
    for r in records:
        table.add_row(
            r.id,
            r.modality,
            r.status.value,
            r.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            f"{r.progress:.0%}",
            (r.error or "")[:50],
        )
    console.print(table)


@jobs.command("show")
@click.argument("job_id")
@click.option("--save", "save_dir", type=click.Path(path_type=Path), default=None, help="save its files here")
@run_async
async def jobs_show(job_id: str, save_dir: Path | None) -> None:
    """One job in full."""
    from bot.cli.follow import save_artifacts
    from bot.runtime import open_runtime

    async with open_runtime(_settings()) as rt:
        record = await rt.jobs.get(job_id)
        if record is None:
            err_console.print(f"[red]no job {job_id}[/red]")
            raise SystemExit(1)
        console.print_json(record.model_dump_json(exclude={"delivery_target"}))
        if save_dir is not None:
            for path in save_artifacts(rt, record, save_dir):
                console.print(f"saved {path}")


@jobs.command("cancel")
@click.argument("job_id")
@run_async
async def jobs_cancel(job_id: str) -> None:
    """Cancel a queued or running job."""
    from bot.runtime import open_runtime

    async with open_runtime(_settings()) as rt:
        outcome = await rt.service.cancel(job_id)
    console.print(f"{job_id}: {outcome.value}")


# ---- processes ------------------------------------------------------------------------
@cli.command()
@click.option("--queues", default="text,music,image", show_default=True, help="modalities to serve")
@click.option(
    "--pool", type=click.Choice(["prefork", "solo", "threads"]), default="prefork", show_default=True
)
@click.option("--concurrency", "-c", type=int, default=1, show_default=True)
@click.option("--name", default=None, help="worker node name (default: <queues>@<host>)")
def worker(queues: str, pool: str, concurrency: int, name: str | None) -> None:
    """Run a Celery worker (GPU hosts: one per GPU, CUDA_VISIBLE_DEVICES set, -c 1)."""
    modalities = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = [m for m in modalities if m not in QUEUES]
    if unknown:
        raise click.BadParameter(f"unknown modality {unknown}; choose from {sorted(QUEUES)}")
    _settings()
    # Idle OpenMP threads sleep instead of spinning: on shared CPUs spinning threads starve each other.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
    node = name or f"{'-'.join(modalities)}@%h"
    args = [
        celery,
        "-A",
        "workers.main",
        "worker",
        "-Q",
        ",".join(QUEUES[m] for m in modalities),
        "-P",
        pool,
        "-c",
        str(concurrency),
        "-n",
        node,
        "--without-gossip",
        "--without-mingle",
        "-l",
        "INFO",
    ]
    os.execv(celery, args)


@cli.command()
@run_async
async def scheduler() -> None:
    """Run the scheduler: recover jobs stuck after a worker or broker failure, and fire durable timers."""
    from bot.scheduling.process import run_scheduler, stop_on_signals
    from wire.log import setup_logging

    settings = _settings()
    setup_logging(settings.log_level, settings.log_json)
    stop = asyncio.Event()
    stop_on_signals(stop)  # SIGTERM / Ctrl-C: finish the current passes, then exit
    await run_scheduler(settings, stop)


cli.add_command(bot_command)
cli.add_command(sandbox_group)
cli.add_command(safety_group)


_PASS_THROUGH = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}


def _forward_to_workers(args: list[str]) -> None:
    """Run a worker-side command in its own interpreter, so this process never loads model libraries."""
    os.execv(sys.executable, [sys.executable, "-m", "workers.cli", *args])


@cli.command(context_settings=_PASS_THROUGH, add_help_option=False)
@click.pass_context
def models(ctx: click.Context) -> None:
    """Models on this machine: `atelier models list`, `atelier models pull NAME`."""
    _forward_to_workers(["models", *ctx.args])


@cli.command(context_settings=_PASS_THROUGH, add_help_option=False)
@click.pass_context
def verify(ctx: click.Context) -> None:
    """Read a file's provenance (metadata and watermark): `atelier verify FILE`."""
    _forward_to_workers(["verify", *ctx.args])


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
