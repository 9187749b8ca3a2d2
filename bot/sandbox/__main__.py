"""``python -m bot.sandbox``: serve a local Discord until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from bot.sandbox.rules import SandboxRules
from bot.sandbox.server import SandboxServer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8765, help="port to bind (default: %(default)s)")
    parser.add_argument("--token", default=None, help="bot token to require (default: accept any)")
    parser.add_argument("--shards", type=int, default=1, help="shard count advertised by /gateway/bot")
    parser.add_argument(
        "--response-window", type=float, default=3.0, help="seconds to answer an interaction (default: 3)"
    )
    parser.add_argument("--verbose", action="store_true", help="log gateway and HTTP activity")
    return parser.parse_args(argv)


def banner(server: SandboxServer) -> str:
    """What to export so the bot talks to this sandbox."""
    return "\n".join(
        [
            f"Atelier Discord sandbox listening on {server.base_url}",
            f"  guild {server.guild_id}  channel {server.channel_id}  test member {server.member_id}",
            "Point the bot at it with:",
            f"  export DISCORD_API_BASE={server.api_base}",
            f"  export DISCORD_GATEWAY_URL={server.gateway_url}",
            f"Control API: {server.base_url}/_sandbox/state",
        ]
    )


async def serve(args: argparse.Namespace) -> None:
    rules = SandboxRules(response_window=args.response_window)
    server = SandboxServer(args.host, args.port, token=args.token, rules=rules, shard_count=args.shards)
    await server.start()
    print(banner(server), flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args))


if __name__ == "__main__":
    main()
