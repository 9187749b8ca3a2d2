"""The sandbox's cast for the page: a few channels and members to switch between, one a moderator.

``await furnish(server)`` before the bot connects (``atelier bot`` without a token does; so do the
page's tests). The sandbox's own test member stays the server's owner."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.sandbox.facade import SandboxFacade
from bot.sandbox.web.view import MANAGE_GUILD, VIEW_CHANNEL

MANAGE_MESSAGES = 1 << 13
MODERATOR_PERMISSIONS = MANAGE_GUILD | MANAGE_MESSAGES
MEMBER_NAMES = ("ada", "basho")
MODERATOR_NAME = "mira"


@dataclass(frozen=True)
class Cast:
    """Ids of what ``furnish`` made."""

    owner: int
    moderator: int
    members: tuple[int, ...]
    moderator_role: int
    general: int
    age_restricted: int
    moderators: int
    forum: int
    names: dict[int, str] = field(default_factory=dict)

    @property
    def people(self) -> tuple[int, ...]:
        return (self.owner, self.moderator, *self.members)


async def furnish(server: SandboxFacade) -> Cast:
    """Add #after-dark (age-restricted), #moderators (moderators only), #challenge-entries (a forum),
    a moderator (mira) and two members (ada, basho) to the sandbox's guild."""
    world, guild = server.world, server.guild_id
    role = await server.create_role("Moderators", MODERATOR_PERMISSIONS)
    world.guilds[guild].roles[-1]["color"] = 0x5865F2
    names = {world.test_member_id: "tester"}
    moderator = world.add_user(MODERATOR_NAME)
    world.add_member(guild, moderator)
    world.give_role(guild, moderator, role)
    names[moderator] = MODERATOR_NAME
    members = []
    for name in MEMBER_NAMES:
        user = world.add_user(name)
        world.add_member(guild, user)
        members.append(user)
        names[user] = name
    general = server.channel_id
    world.channels[general]["topic"] = "Try /write, /compose or /imagine — type / to see every command."
    nsfw = await server.create_channel("after-dark", nsfw=True)
    world.channels[nsfw]["topic"] = "Age-restricted: the bot allows what this server's settings allow here."
    mods = world.add_channel(guild, "moderators")
    world.channels[mods]["topic"] = "Moderators only: /config lives here."
    world.channels[mods]["permission_overwrites"] = [
        {"id": str(guild), "type": 0, "allow": "0", "deny": str(VIEW_CHANNEL)},
        {"id": str(role), "type": 0, "allow": str(VIEW_CHANNEL), "deny": "0"},
    ]
    await server.gateway.dispatch("CHANNEL_CREATE", dict(world.channels[mods]), guild_id=guild, intent=1)
    forum = await server.create_channel("challenge-entries", forum=True)
    world.channels[forum]["topic"] = "A post per entry when a challenge runs."
    return Cast(
        owner=world.test_member_id,
        moderator=moderator,
        members=tuple(members),
        moderator_role=role,
        general=general,
        age_restricted=nsfw,
        moderators=mods,
        forum=forum,
        names=names,
    )
