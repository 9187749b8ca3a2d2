"""The stored delivery target: JSON round trip and the 15-minute token rule."""

from __future__ import annotations

import json
import time

from bot.delivery.target import DiscordTarget


def target(created_at: float) -> DiscordTarget:
    return DiscordTarget(
        application_id=2**60,
        interaction_token="tok",
        channel_id=5,
        guild_id=6,
        user_id=7,
        created_at=created_at,
    )


def test_round_trip_through_json_keeps_big_ids_exact() -> None:
    original = target(1000.0).with_message(2**62 + 1)
    data = json.loads(json.dumps(original.to_dict()))
    assert data["application_id"] == str(2**60) and data["kind"] == "discord"
    assert DiscordTarget.from_dict(data) == original


def test_targets_from_elsewhere_are_not_discord_targets() -> None:
    assert DiscordTarget.from_dict(None) is None
    assert DiscordTarget.from_dict({"kind": "cli"}) is None


def test_token_lifetime_with_a_safety_margin() -> None:
    now = time.time()
    assert target(now - 60).token_alive(now)
    assert not target(now - 14 * 60 - 45).token_alive(now)
    assert not target(now - 16 * 60).token_alive(now)
