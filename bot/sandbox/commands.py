"""Application commands synced by the bot, and turning ``{name: value}`` into typed interaction options."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.snowflake import SnowflakeFactory

JSON = dict[str, Any]

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = range(3, 12)


class UnknownCommand(LookupError):
    """The named command was never synced for that scope."""


class OptionError(ValueError):
    """An option does not fit the synced command schema."""


@dataclass
class CommandRegistry:
    """Commands from ``PUT /applications/{app}/commands`` and its guild variant."""

    ids: SnowflakeFactory
    application_id: int
    global_commands: list[JSON] = field(default_factory=list)
    guild_commands: dict[int, list[JSON]] = field(default_factory=dict)

    def overwrite(self, payload: list[JSON], guild_id: int | None = None) -> list[JSON]:
        """Bulk overwrite a scope; ids survive for commands that keep their name and type."""
        old = {(c["name"], c.get("type", 1)): c for c in self.listing(guild_id)}
        stored = []
        for raw in payload:
            key = (raw["name"], raw.get("type", 1))
            previous = old.get(key)
            command_id = previous["id"] if previous else str(self.ids.next())
            stored.append(self._complete(raw, command_id, guild_id))
        if guild_id is None:
            self.global_commands = stored
        else:
            self.guild_commands[guild_id] = stored
        return copy.deepcopy(stored)

    def listing(self, guild_id: int | None = None) -> list[JSON]:
        commands = self.global_commands if guild_id is None else self.guild_commands.get(guild_id, [])
        return copy.deepcopy(commands)

    def find(self, name: str, guild_id: int | None, command_type: int = 1) -> JSON:
        """Guild commands shadow global ones, as in the Discord client."""
        scopes = ([guild_id] if guild_id is not None else []) + [None]
        for scope in scopes:
            for command in self.listing(scope):
                if command["name"] == name and command.get("type", 1) == command_type:
                    return command
        raise UnknownCommand(f"command {name!r} (type {command_type}) has not been synced")

    def _complete(self, raw: JSON, command_id: str, guild_id: int | None) -> JSON:
        command = {
            "id": command_id,
            "application_id": str(self.application_id),
            "version": str(self.ids.next()),
            "type": raw.get("type", 1),
            "name": raw["name"],
            "name_localizations": raw.get("name_localizations"),
            "description": raw.get("description", ""),
            "description_localizations": raw.get("description_localizations"),
            "options": copy.deepcopy(raw.get("options", [])),
            "default_member_permissions": raw.get("default_member_permissions"),
            "dm_permission": raw.get("dm_permission", True),
            "contexts": raw.get("contexts"),
            "integration_types": raw.get("integration_types", [0]),
            "nsfw": raw.get("nsfw", False),
        }
        if guild_id is not None:
            command["guild_id"] = str(guild_id)
        return command


@dataclass
class OptionResolvers:
    """Look-ups the option builder needs to fill ``data.resolved``."""

    user: Callable[[int], JSON | None]
    member: Callable[[int], JSON | None]
    channel: Callable[[int], JSON | None]
    role: Callable[[int], JSON | None]
    attachment: Callable[[Any], JSON]


def build_options(
    schema: list[JSON],
    given: Mapping[str, Any],
    resolvers: OptionResolvers,
    resolved: JSON,
    *,
    validate: bool = True,
) -> list[JSON]:
    """Typed interaction options for ``given`` values; fills ``resolved`` in place.

    ``validate=False`` sends what a modified client could: unknown options (typed from the Python
    value), missing required ones, and values of the wrong type or outside the declared choices and
    ranges, as given (attachments and mentions are still resolved)."""
    by_name = {option["name"]: option for option in schema}
    unknown = sorted(set(given) - set(by_name))
    if unknown and validate:
        raise OptionError(f"unknown option(s) {unknown}; known: {sorted(by_name)}")
    missing = [o["name"] for o in schema if o.get("required") and o["name"] not in given]
    if missing and validate:
        raise OptionError(f"missing required option(s) {missing}")
    options = []
    for name, value in given.items():
        option = by_name.get(name) or {"name": name, "type": _type_of(value)}
        if validate or option["type"] in (USER, MENTIONABLE, CHANNEL, ROLE, ATTACHMENT):
            value = _convert(option, value, resolvers, resolved, validate=validate)
        options.append({"name": name, "type": option["type"], "value": value})
    return options


def command_options(
    command: JSON,
    path: list[str],
    given: Mapping[str, Any],
    resolvers: OptionResolvers,
    resolved: JSON,
    *,
    validate: bool = True,
) -> list[JSON]:
    """Options for ``command`` or for the subcommand reached through ``path`` (group, then subcommand);
    ``validate=False`` skips the schema checks (see :func:`build_options`)."""
    schema: list[JSON] = command.get("options") or []
    if not path:
        if validate and any(o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in schema):
            raise OptionError(f"/{command['name']} needs a subcommand")
        return build_options(schema, given, resolvers, resolved, validate=validate)
    head, rest = path[0], path[1:]
    for option in schema:
        if option["name"] == head and option["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP):
            inner = command_options(option, rest, given, resolvers, resolved, validate=validate)
            return [{"name": head, "type": option["type"], "options": inner}]
    raise UnknownCommand(f"/{command['name']} has no subcommand {head!r}")


def _type_of(value: Any) -> int:
    """The option type a client would declare for a value the schema does not know."""
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float):
        return NUMBER
    return STRING


def _convert(
    option: JSON, value: Any, resolvers: OptionResolvers, resolved: JSON, *, validate: bool = True
) -> Any:
    kind = option["type"]
    name = option["name"]
    converted: Any
    if kind == STRING:
        converted = str(value)
    elif kind == INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            raise OptionError(f"option {name!r} needs an integer, got {value!r}")
        converted = value
    elif kind == NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise OptionError(f"option {name!r} needs a number, got {value!r}")
        converted = value
    elif kind == BOOLEAN:
        if not isinstance(value, bool):
            raise OptionError(f"option {name!r} needs a boolean, got {value!r}")
        converted = value
    elif kind in (USER, MENTIONABLE):
        converted = _resolve_user(name, value, resolvers, resolved)
    elif kind == CHANNEL:
        converted = _resolve_simple(name, value, resolvers.channel, resolved, "channels")
    elif kind == ROLE:
        converted = _resolve_simple(name, value, resolvers.role, resolved, "roles")
    elif kind == ATTACHMENT:
        attachment = resolvers.attachment(value)
        resolved.setdefault("attachments", {})[attachment["id"]] = attachment
        converted = attachment["id"]
    else:
        raise OptionError(f"option {name!r} has unsupported type {kind}")
    if validate:
        _check_choices(option, converted)
    return converted


def _resolve_user(name: str, value: Any, resolvers: OptionResolvers, resolved: JSON) -> str:
    user_id = int(value)
    user = resolvers.user(user_id)
    if user is None:
        raise OptionError(f"option {name!r}: unknown user {user_id}")
    resolved.setdefault("users", {})[str(user_id)] = user
    member = resolvers.member(user_id)
    if member is not None:
        member = {k: v for k, v in member.items() if k != "user"}
        resolved.setdefault("members", {})[str(user_id)] = member
    return str(user_id)


def _resolve_simple(
    name: str, value: Any, lookup: Callable[[int], JSON | None], resolved: JSON, key: str
) -> str:
    item_id = int(value)
    item = lookup(item_id)
    if item is None:
        raise OptionError(f"option {name!r}: unknown {key[:-1]} {item_id}")
    resolved.setdefault(key, {})[str(item_id)] = item
    return str(item_id)


def _check_choices(option: JSON, value: Any) -> None:
    choices = option.get("choices")
    if choices and value not in [choice["value"] for choice in choices]:
        raise OptionError(f"option {option['name']!r}: {value!r} is not one of the declared choices")
    low, high = option.get("min_value"), option.get("max_value")
    if (low is not None and value < low) or (high is not None and value > high):
        raise OptionError(f"option {option['name']!r}: {value!r} is outside [{low}, {high}]")
