"""`atelier bot` (run the Discord bot) and `atelier sandbox send` (talk to it through the sandbox)."""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import re
import secrets
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp
import click

SANDBOX_HOST = "127.0.0.1"
SANDBOX_PORT = 8765
DEFAULT_SANDBOX_URL = f"http://{SANDBOX_HOST}:{SANDBOX_PORT}"
OPTION = re.compile(r"(?:^|\s)([a-z_][a-z0-9_-]*):")
INTEGER, BOOLEAN, NUMBER, ATTACHMENT = 4, 5, 10, 11
EPHEMERAL, LOADING = 64, 128


# ---- atelier bot ----------------------------------------------------------------------


@click.command("bot")
@click.option("--sandbox-port", type=int, default=SANDBOX_PORT, show_default=True, help="without a token")
@click.option(
    "--sandbox-host",
    default=SANDBOX_HOST,
    show_default=True,
    envvar="ATELIER_SANDBOX_HOST",
    help="interface the sandbox binds without a token (it has no authentication: keep it on loopback)",
)
def bot_command(sandbox_port: int, sandbox_host: str) -> None:
    """Run the Discord bot; without DISCORD_TOKEN, against a local sandbox Discord on 127.0.0.1:8765,
    with its web page at http://127.0.0.1:8765/."""
    from bot.cli.settings import cli_settings
    from wire.log import setup_logging

    settings = cli_settings()
    setup_logging(settings.log_level, settings.log_json)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run_bot(settings, sandbox_port, sandbox_host))


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def sandbox_banner(page_url: str, base_url: str, host: str) -> str:
    """What `atelier bot` prints first without a token: the page, then how else to reach the sandbox."""
    lines = [
        f"Atelier sandbox: open {page_url} in a browser (a small Discord with the bot in it).",
        f"No DISCORD_TOKEN: the bot runs against this local sandbox Discord at {base_url}.",
        f'Or from a terminal:  atelier sandbox send --url {base_url} "/write prompt:a haiku"',
    ]
    if host not in LOOPBACK:
        lines.append(
            f"Note: the sandbox binds to loopback (127.0.0.1) by default; you asked for {host}. It has no "
            "authentication: anyone who can reach that address can act as any member and read every "
            "message. Use it only on a network you trust."
        )
    return "\n".join(lines)


async def _run_bot(settings: Any, sandbox_port: int, sandbox_host: str = SANDBOX_HOST) -> None:
    from bot.app import create_bot
    from bot.cli.sandbox_status import status_source
    from bot.sandbox import SandboxServer, point_discord_at, point_discord_from_env
    from bot.sandbox.web.demo import furnish

    token = settings.discord_token.get_secret_value() if settings.discord_token else None
    sandbox: SandboxServer | None = None
    if token is None:
        token = secrets.token_urlsafe(24)
        sandbox = SandboxServer(sandbox_host, sandbox_port, token=token)
        await sandbox.start()
        await furnish(sandbox)  # channels and members to switch between in the page
        click.echo(sandbox_banner(sandbox.page_url, sandbox.base_url, sandbox_host))
        point_discord_at(sandbox.api_base, sandbox.gateway_url)
        settings = settings.model_copy(
            update={"discord_test_guild_id": sandbox.guild_id, "env": "development"}
        )
    elif settings.discord_api_base and settings.discord_gateway_url:
        point_discord_at(settings.discord_api_base, settings.discord_gateway_url)
    else:
        point_discord_from_env()
    bot = create_bot(settings, force_sync=sandbox is not None)  # a fresh sandbox has no commands yet
    if sandbox is not None:
        sandbox.page.status_source = status_source(bot)  # the page's job panel, read-only
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lambda: asyncio.ensure_future(bot.close()))
    try:
        async with bot:
            await bot.start(token)
    finally:
        if sandbox is not None:
            await sandbox.stop()


# ---- atelier sandbox send -------------------------------------------------------------


def parse_invocation(text: str) -> tuple[str, dict[str, str]]:
    """`/compose style:jig key:D` -> ("compose", {"style": "jig", "key": "D"}); values may hold spaces."""
    text = text.strip().removeprefix("/")
    matches = list(OPTION.finditer(text))
    name = (text[: matches[0].start()] if matches else text).strip()
    if not name:
        raise click.BadParameter("give a command, e.g. '/write prompt:a haiku'")
    options: dict[str, str] = {}
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        options[match.group(1)] = text[match.end() : end].strip()
    return name, options


def find_command(state: dict[str, Any], path: list[str]) -> dict[str, Any]:
    """A synced command (guild first, then global) and, for `group sub`, its subcommand."""
    commands = state["commands"]["guild"] + state["commands"]["global"]
    command = next((c for c in commands if c["name"] == path[0]), None)
    if command is None:
        known = sorted({c["name"] for c in commands})
        raise click.ClickException(f"the bot has no /{path[0]}; it has {', '.join('/' + k for k in known)}")
    for part in path[1:]:
        command = next((o for o in command.get("options", []) if o["name"] == part), None)
        if command is None:
            raise click.ClickException(f"no subcommand {part!r}")
    return command


def convert(option: dict[str, Any], value: str) -> Any:
    """A typed option value from its text."""
    kind = option["type"]
    try:
        if kind == INTEGER:
            return int(value)
        if kind == NUMBER:
            return float(value)
    except ValueError:
        raise click.BadParameter(f"{option['name']} needs a number, got {value!r}") from None
    if kind == BOOLEAN:
        return value.lower() in ("1", "true", "yes", "on")
    return value


async def _send(url: str, text: str, out: Path, timeout: float, dm: bool) -> int:
    name, given = parse_invocation(text)
    async with aiohttp.ClientSession(base_url=url.rstrip("/") + "/") as http:
        state = await _get(http, "_sandbox/state")
        command = find_command(state, name.split())
        declared = {o["name"]: o for o in command.get("options", [])}
        options: dict[str, Any] = {}
        for key, value in given.items():
            if key not in declared:
                raise click.ClickException(f"/{name} has no option {key!r}; it has {sorted(declared)}")
            if declared[key]["type"] == ATTACHMENT:
                options[key] = await _upload(http, Path(value))
            else:
                options[key] = convert(declared[key], value)
        body = {"name": name, "options": options, "wait": 3, "dm": dm}
        async with http.post("_sandbox/interactions", json=body) as response:
            handle = await response.json()
            if response.status >= 400:
                raise click.ClickException(handle.get("message", str(handle)))
        channel = state["dm_channel_id"] if dm else state["channel_id"]
        return await _follow(http, handle["id"], channel, out, timeout)


async def _follow(
    http: aiohttp.ClientSession, interaction_id: str, channel: str, out: Path, timeout: float
) -> int:
    """Print the reply each time it changes; save its files when it is final."""
    deadline = asyncio.get_running_loop().time() + timeout
    shown: dict[str, str] = {}
    while asyncio.get_running_loop().time() < deadline:
        handle = await _get(http, f"_sandbox/interactions/{interaction_id}")
        if handle["rejections"]:
            click.echo(f"rejected: {handle['rejections']}", err=True)
            return 1
        ids = [i for i in [handle["original_message_id"], *handle["followup_ids"]] if i]
        messages = {m["id"]: m for m in await _get(http, f"_sandbox/messages?channel_id={channel}")}
        for message_id in ids:
            message = messages.get(message_id)
            if message is None:
                continue
            rendered = render(message)
            if shown.get(message_id) != rendered:
                shown[message_id] = rendered
                click.echo(rendered)
            if is_final(message):
                for path in await _save(http, message, out):
                    click.echo(f"saved {path}")
                return 0
        await asyncio.sleep(0.5)
    click.echo("timed out waiting for the final reply", err=True)
    return 2


def is_final(message: dict[str, Any]) -> bool:
    """Ephemeral answers and replies with the finished buttons (delete) are final."""
    ids = [c.get("custom_id", "") for row in message.get("components", []) for c in row.get("components", [])]
    return bool(message.get("flags", 0) & EPHEMERAL) or any(i.startswith("atelier:delete:") for i in ids)


def render(message: dict[str, Any]) -> str:
    """A message as plain text for the terminal."""
    lines = [message["content"]] if message.get("content") else []
    if message.get("flags", 0) & LOADING:
        lines.append("(thinking…)")
    for embed in message.get("embeds", []):
        lines += [embed.get(k, "") for k in ("title", "description") if embed.get(k)]
        lines += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
        if embed.get("footer"):
            lines.append(embed["footer"]["text"])
    lines += [f"[file] {a['filename']} ({a['size']} bytes)" for a in message.get("attachments", [])]
    return "\n".join(lines) + "\n" + "-" * 60


async def _save(http: aiohttp.ClientSession, message: dict[str, Any], out: Path) -> list[Path]:
    saved = []
    for attachment in message.get("attachments", []):
        async with http.get(attachment["url"]) as response:
            data = await response.read()
        out.mkdir(parents=True, exist_ok=True)
        path = out / Path(attachment["filename"]).name
        path.write_bytes(data)
        saved.append(path)
    return saved


async def _upload(http: aiohttp.ClientSession, path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise click.BadParameter(f"no file {path}")
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    async with http.post(
        f"_sandbox/attachments?filename={path.name}",
        data=path.read_bytes(),
        headers={"Content-Type": content_type},
    ) as response:
        return dict(await response.json())


async def _get(http: aiohttp.ClientSession, path: str) -> Any:
    async with http.get(path) as response:
        return await response.json()


@click.group("sandbox")
def sandbox_group() -> None:
    """Talk to the bot through a running local sandbox Discord (see `atelier bot`)."""


@sandbox_group.command("send")
@click.argument("invocation")
@click.option("--url", default=DEFAULT_SANDBOX_URL, show_default=True, help="the sandbox's address")
@click.option("--out", type=click.Path(path_type=Path), default=Path("out"), show_default=True)
@click.option("--timeout", type=float, default=600.0, show_default=True)
@click.option("--dm", is_flag=True, help="send it in a direct message")
def sandbox_send(invocation: str, url: str, out: Path, timeout: float, dm: bool) -> None:
    """Run a slash command as the test member, e.g. `atelier sandbox send "/compose style:jig key:D"`."""
    try:
        code = asyncio.run(_send(url, invocation, out, timeout, dm))
    except aiohttp.ClientConnectionError as error:
        raise click.ClickException(f"no sandbox at {url} ({error}); start one with `atelier bot`") from None
    sys.exit(code)
